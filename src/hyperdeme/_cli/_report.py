"""``hyperdeme report``: PNG plots and one self-contained ``report.html`` beside them.

Plots: best FoM so far over time and over trials (the pauses of a resume
marked), every trial's FoM (by deme or status, stopped trials at their FoM),
parallel coordinates on the recorded search space, and for population-based
training each member's hyperparameter schedule; with several objectives, the
Pareto front (``_front_plot``). What the plots need of the journal besides its
trials (the search space, the pauses) is read once, by ``_history``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import hyperdeme

from ._engine_internals import Direction, write_new
from ._errors import UsageProblem
from ._front_plot import FRONT_CAPTION, pareto_plot
from ._history import History, read_history
from ._html import render_html
from ._journal_view import JOURNAL_NAME, RunView
from ._plots import PLOTS, Plot, new_figure
from ._status import status_lines

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["REPORT_NAME", "Report", "write_report"]

REPORT_NAME = "report.html"


@dataclass(frozen=True, slots=True)
class Report:
    """The files a report wrote."""

    html: Path
    images: list[Path]


def write_report(view: RunView, *, directory: Path | None = None) -> Report:
    """Write the PNGs and ``report.html`` into ``directory`` (default: the run directory).

    Each file is written new, never through a link in its place (see
    ``hyperdeme._core._nofollow``); a directory that cannot be written (read-only,
    full) is a :class:`UsageProblem` naming it and the ``--output-dir`` way out.
    """
    directory = view.directory if directory is None else directory
    history = _history(view)
    images: dict[str, tuple[str, bytes]] = {}
    for name, (caption, plot) in PLOTS.items():
        png = _png(plot, view, history)
        if png is not None:
            images[name] = (caption, png)
    front = _png(_front(view), view, history)  # several objectives
    if front is not None:
        images["pareto_front"] = (FRONT_CAPTION, front)
    page = render_html(
        title=f"hyperdeme report: {view.directory.name}",
        summary=status_lines(view),
        images=images,
        trials=view.trials,
        direction=view.direction,
        objectives=view.objectives,
    )
    files = {f"{name}.png": png for name, (_, png) in images.items()}
    files[REPORT_NAME] = page.encode("utf-8")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for file_name, data in files.items():
            write_new(directory / file_name, data)
    except (OSError, hyperdeme.ConfigError) as error:
        problem = error.strerror if isinstance(error, OSError) else str(error)
        raise UsageProblem(
            f"cannot write the report in {directory}: {problem}. Choose another directory "
            "with --output-dir DIR (hyperdeme report RUN_DIR --output-dir DIR)."
        ) from None
    return Report(directory / REPORT_NAME, [directory / f"{name}.png" for name in images])


def _history(view: RunView) -> History:
    """The journal's search space and pauses; none when the journal went since it was
    read (the report is then drawn without them)."""
    try:
        return read_history(view.directory / JOURNAL_NAME)
    except (OSError, hyperdeme.JournalError):
        return History()


def _png(plot: Plot, view: RunView, history: History) -> bytes | None:
    """The plot as PNG bytes (None: nothing to show), drawn without LaTeX whatever the
    user's matplotlibrc says (the text is escaped for matplotlib's own math text)."""
    try:
        from matplotlib import rc_context
    except ImportError:
        new_figure()  # a UsageProblem naming the extra to install
        raise

    with rc_context({"text.usetex": False}):
        figure = plot(view.trials, direction=view.direction, history=history)
        if figure is None:
            return None
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _front(view: RunView) -> Plot:
    """The Pareto front's plot as a :data:`Plot` (None when there is one objective)."""

    def plot(
        trials: Sequence[hyperdeme.Trial],
        *,
        direction: Direction = "minimize",
        history: History | None = None,
    ) -> Figure | None:
        del direction, history  # each objective has its own direction
        return pareto_plot(trials, objectives=view.objectives)

    return plot
