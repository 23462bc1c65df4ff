"""What every plot of the report shares: an Agg figure, literal text, the FoM's scale.

matplotlib is the optional ``plot`` extra: it is imported when a figure is
made, never at ``import hyperdeme``, and figures are drawn by the Agg canvas
directly (no pyplot, no global backend switch).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._errors import UsageProblem

if TYPE_CHECKING:
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

__all__ = ["SIZE", "fom_norm", "log_scale", "new_figure", "plain_text"]

SIZE = (7.0, 4.0)


def new_figure() -> Figure:
    """An empty figure on an Agg canvas; UsageProblem naming the extra without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageProblem(
            "the report needs matplotlib, which is not installed; install the plot extra: "
            "pip install 'hyperdeme[plot]'"
        ) from None
    figure = Figure(figsize=SIZE, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def plain_text(text: str) -> str:
    """``text`` as matplotlib shows it literally: every ``$`` escaped, so a value or a
    flag such as ``$\\foo{$`` is never parsed as math text (it was an error that
    stopped the report). Matplotlib counts escaped dollars out of the math test and
    unescapes them for display, so the text shows exactly as given. (LaTeX, which
    needs other escapes, is turned off for the report's figures: ``text.usetex``.)"""
    return text.replace("$", r"\$")


def log_scale(values: Sequence[float]) -> bool:
    """Whether values are best read on a log axis: all positive, spanning more than a
    decade (on a linear one, everything after a first drop looks flat)."""
    return bool(values) and min(values) > 0 and max(values) / min(values) > 10


def fom_norm(foms: Sequence[float]) -> tuple[Normalize, str]:
    """A colour scale over ``foms`` (log by :func:`log_scale`) and its name."""
    from matplotlib.colors import LogNorm, Normalize

    low, high = min(foms), max(foms)
    if log_scale(foms):
        return LogNorm(low, high), "log"
    return Normalize(low, high if high > low else low + 1), "linear"
