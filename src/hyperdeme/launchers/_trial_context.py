"""The trial handle an evaluation function takes as its second parameter.

``def train(params, trial)`` is called with a :class:`TrialContext`:
``trial.report(fom, step=k)`` records an intermediate FoM, as a program's
``FoM:`` line does; the early-stopping rule judges it at once, and when the rule
stops the trial the call raises :class:`Stopped`. ``trial.should_stop()``,
``trial.id``, ``trial.params`` and ``trial.checkpoint_dir`` complete it.

How a report reaches the rule (which lives on the event loop) depends on where
the function runs; each way is a :class:`Reporter`:

* a coroutine function, on the loop itself: the engine's listener is called
  directly; a plain function in a worker thread (or any thread the function
  starts): the listener runs on the loop and the thread waits for its answer
  (both :class:`LoopReporter`);
* a plain function in a worker process: over a Unix socket back to the driver
  (:mod:`._report_channel`).

Each report waits for the rule's answer, so a trial stops exactly at the step
the rule decides on, whatever the timing: the same step a program printing the
same FoMs is stopped at.

:class:`Stopped` derives from :class:`BaseException`, as cancellation and
:class:`KeyboardInterrupt` do, so an objective's ``except Exception`` (a
retry loop, a logging wrapper) does not swallow it by accident.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

__all__ = ["LoopReporter", "Reporter", "StepListener", "Stopped", "TrialContext"]

#: the engine's listener, called on the event loop with each reported value (a number
#: or a dict of metrics) and its step (None: the next one); True when the trial is to stop
StepListener = Callable[[object, "int | None"], bool]


class Stopped(BaseException):
    """Raised by :meth:`TrialContext.report` when the trial is to stop.

    The early-stopping rule stopped it (the trial is journalled ``stopped`` at its
    last reported FoM, whatever the function does next), or its evaluation was
    cancelled (``eval_timeout``, the run stopping). Let it propagate; to save
    first, catch it, save, and raise it again.
    """


class Reporter(Protocol):
    """Carries one report to the early-stopping rule; True when the trial is to stop."""

    def report(self, value: object, step: int | None) -> bool: ...


class LoopReporter:
    """For a function in this process (a coroutine on the loop, a plain function in a
    worker thread): on the loop's thread the listener is called directly; from any
    other thread it runs on the loop (``anyio.from_thread``) and the caller waits for it.
    Made on the loop's thread, which it remembers with the loop's token."""

    def __init__(self, listener: StepListener) -> None:
        # anyio's thread machinery is imported by the first such function, not by
        # `import hyperdeme` (later imports find it in sys.modules)
        import anyio.lowlevel

        self._listener = listener
        self._token = anyio.lowlevel.current_token()
        self._loop_thread = threading.get_ident()

    def report(self, value: object, step: int | None) -> bool:
        if threading.get_ident() == self._loop_thread:
            return self._listener(value, step)
        import anyio.from_thread

        try:
            return anyio.from_thread.run_sync(self._listener, value, step, token=self._token)
        except anyio.RunFinishedError:  # the run is over: nothing is listening
            return True


class TrialContext:
    """What an evaluation function taking a second parameter gets: its trial.

    ``id``: the trial's id (as journalled); ``params``: its parameters (the
    dict the function's first argument also holds); ``checkpoint_dir``: the
    directory to load its checkpoint from and save it to (a PBT member's: a copy
    of the checkpoint it continues, committed when the call returns normally;
    the same contract as ``@checkpoint``), or None when the strategy plans no
    checkpoint; ``gpus``: the device ids the evaluation holds (``Evaluator(gpus=...)``;
    empty without), which a function in a worker thread reads here: threads share
    the driver's environment, so they get no ``CUDA_VISIBLE_DEVICES`` of their own
    (e.g. ``torch.device(f"cuda:{trial.gpus[0]}")``).
    """

    __slots__ = ("_reporter", "_stop", "checkpoint_dir", "gpus", "id", "params")

    def __init__(
        self,
        *,
        id: int,  # the trial's id, as Trial.id
        params: Mapping[str, Any],
        checkpoint_dir: str | None,
        reporter: Reporter,
        gpus: tuple[str, ...] = (),
    ) -> None:
        self.id = id
        self.params = dict(params)
        self.checkpoint_dir = checkpoint_dir
        self.gpus = gpus
        self._reporter = reporter
        self._stop = False

    def report(self, fom: float | Mapping[str, float], *, step: int | None = None) -> None:
        """Record an intermediate FoM (a number, or a dict of metrics as the function may
        return) at ``step`` (an int above the previous one; default: the next).

        Raises :class:`Stopped` when the early-stopping rule stops the trial at this
        step, or once it is stopped or cancelled; :class:`~hyperdeme.ConfigError`
        (a ``ValueError``) for a value that is no metric or a step not above the last.
        """
        if self._stop:
            raise Stopped(f"trial {self.id} is stopped; report() records nothing more.")
        if self._reporter.report(fom, step):
            self._stop = True
            at = "its next step" if step is None else f"step {step}"
            raise Stopped(f"the early-stopping rule stopped trial {self.id} at {at}.")

    def should_stop(self) -> bool:
        """True once the trial is to stop: the rule stopped it at a report, or its
        evaluation was cancelled (an abandoned worker thread sees it here)."""
        return self._stop

    def halt(self) -> None:
        """Mark the trial stopped: the launcher calls it when the evaluation is cancelled."""
        self._stop = True

    def __repr__(self) -> str:
        return (
            f"TrialContext(id={self.id}, params={self.params!r}, "
            f"checkpoint_dir={self.checkpoint_dir!r}, gpus={self.gpus!r})"
        )
