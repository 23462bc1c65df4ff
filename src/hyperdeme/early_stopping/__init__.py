"""Early stopping: stop a trial whose intermediate FoMs (one per line the program prints
before it ends) show it is hopeless.

Give a rule to the evaluator, ``Evaluator(..., early_stopping=hyperdeme.ASHA(max_steps=27))``;
write your own by subclassing :class:`EarlyStopping` and :class:`EarlyStoppingState`
(see :mod:`._base` for the protocol).
"""

from .._core._public import publish
from ._asha import ASHA, ASHAState
from ._base import EarlyStopping, EarlyStoppingState

__all__ = ["ASHA", "ASHAState", "EarlyStopping", "EarlyStoppingState"]

publish(__name__, globals(), __all__)
del publish
