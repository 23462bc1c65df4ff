"""``hyperdeme report``: PNG plots and one self-contained ``report.html`` beside them.

Plots: best FoM so far over time and over trials, every trial's FoM (by deme
or status), parallel coordinates of the best trials, and for population-based
training each member's hyperparameter schedule; with several objectives, the
Pareto front (``_front_plot``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from ._front_plot import FRONT_CAPTION, pareto_plot
from ._html import render_html
from ._journal_view import RunView
from ._plots import PLOTS
from ._status import status_lines

__all__ = ["REPORT_NAME", "Report", "write_report"]

REPORT_NAME = "report.html"


@dataclass(frozen=True, slots=True)
class Report:
    """The files a report wrote."""

    html: Path
    images: list[Path]


def write_report(view: RunView, *, directory: Path | None = None) -> Report:
    """Write the PNGs and ``report.html`` into ``directory`` (default: the run directory)."""
    directory = view.directory if directory is None else directory
    directory.mkdir(parents=True, exist_ok=True)
    images: dict[str, tuple[str, bytes]] = {}
    paths: list[Path] = []
    for name, (caption, plot) in PLOTS.items():
        figure = plot(view.trials, direction=view.direction)
        if figure is None:
            continue
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        png = buffer.getvalue()
        path = directory / f"{name}.png"
        path.write_bytes(png)
        images[name] = (caption, png)
        paths.append(path)
    front = pareto_plot(view.trials, objectives=view.objectives)  # several objectives
    if front is not None:
        buffer = io.BytesIO()
        front.savefig(buffer, format="png")
        path = directory / "pareto_front.png"
        path.write_bytes(buffer.getvalue())
        images["pareto_front"] = (FRONT_CAPTION, buffer.getvalue())
        paths.append(path)
    page = render_html(
        title=f"hyperdeme report: {view.directory.name}",
        summary=status_lines(view),
        images=images,
        trials=view.trials,
        direction=view.direction,
    )
    html_path = directory / REPORT_NAME
    html_path.write_text(page, encoding="utf-8")
    return Report(html_path, paths)
