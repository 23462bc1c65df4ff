"""The report page: one self-contained HTML file (inline CSS, images as data URIs).

The page says which way the FoM is better (the journal's direction, or each
objective's). The table of trials comes sorted by FoM, best first: trials that
ran to their end, then those stopped early (at their last intermediate FoM),
then those without a FoM; a note above it says what its columns are, and it
scrolls sideways inside its box when it is wider than the page. It sorts again
when a header is clicked. After the page loads, a small script records every
image's decoded width on ``<body data-image-widths="...">`` and the page's and
the window's widths (``data-page-width``, ``data-window-width``), so a
headless browser's DOM shows that the images rendered and nothing overflows.
The stylesheet and the script are files of this package (``report.css``,
``report.js``), inlined into the page.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from importlib.resources import files
from itertools import chain

import hyperdeme

from ._engine_internals import FAILURES, Direction, best_of, format_value, rank_key, wording

__all__ = ["render_html"]


def render_html(
    *,
    title: str,
    summary: Sequence[str],
    images: Mapping[str, tuple[str, bytes]],
    trials: Sequence[hyperdeme.Trial],
    direction: Direction = "minimize",
    objectives: Mapping[str, Direction] | None = None,
) -> str:
    """The page: ``summary`` lines, which way is better (``direction``, or each of several
    ``objectives``), ``images`` (name -> (caption, PNG bytes)), the trials (the best
    one's row marked)."""
    figures = "\n".join(
        f'<figure id="{html.escape(name)}"><img alt="{html.escape(caption)}" '
        f'src="data:image/png;base64,{base64.b64encode(png).decode()}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for name, (caption, png) in images.items()
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
{_asset("report.css")}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<pre id="summary">{html.escape(chr(10).join(summary))}</pre>
<p id="direction">{html.escape(_which_way(direction, objectives))}</p>
<h2>Plots</h2>
<div class="plots">
{figures}
</div>
<h2>Trials</h2>
{_COLUMNS}
<div class="table-box">
{_table(trials, direction)}
</div>
<script>
{_asset("report.js")}</script>
</body>
</html>
"""


def _asset(name: str) -> str:
    """A file shipped beside this module: the page's stylesheet (``report.css``) and
    script (``report.js``), kept as files so that their own tools can check them."""
    return files("hyperdeme._cli").joinpath(name).read_text(encoding="utf-8")


def _which_way(direction: Direction, objectives: Mapping[str, Direction] | None) -> str:
    if objectives and len(objectives) > 1:
        each = "; ".join(f"{name}: {wording(way)}" for name, way in objectives.items())
        return f"Objectives (the FoM is the first): {each}."
    return f"FoM: {wording(direction)}."


#: what the table's columns are (kept beside the code that fills them)
_COLUMNS = """<p class="note">Sorted by FoM, best first: trials that ran to their end, then
those stopped early, then those without a FoM (failed, timed out, cancelled); click a
header to sort by it. <b>FoM</b>: the figure of merit the search ranks trials by, the
number the program printed for the experiment's metric (a metric of several weighted
names: their weighted sum; several objectives: the first one); for a trial stopped
early, the last one it printed before it was stopped. <b>metric NAME</b>: the last value
of NAME the program printed, which the FoM is made from (with one metric, the same
number as the FoM). <b>attempts</b>: how often it was run (retries included).
<b>deme</b>: the genetic search's sub-population. <b>error</b>: why it failed (the end
of its stderr, or the launcher's message; hover for all of it).</p>"""


def _ordered(trials: Sequence[hyperdeme.Trial], direction: Direction) -> list[hyperdeme.Trial]:
    """Ran to the end by FoM (best first), then stopped early by FoM, then the rest by id."""
    ranked = sorted((t for t in trials if t.ok), key=rank_key(direction))
    stopped = sorted((t for t in trials if t.has_fom and not t.ok), key=rank_key(direction))
    rest = sorted((t for t in trials if not t.has_fom), key=lambda t: t.id)
    return list(chain(ranked, stopped, rest))


def _table(trials: Sequence[hyperdeme.Trial], direction: Direction) -> str:
    """The sortable table of trials, one row each, best first, the best trial's row
    marked; the FoM column's header says which way is better."""
    flags = list(dict.fromkeys(flag for t in trials for flag in t.params))
    metrics = list(dict.fromkeys(name for t in trials for name in t.metrics))
    best = best_of(trials, direction)
    head = ["id", "status", f"FoM ({wording(direction)})"]
    head += [*(f"metric {m}" for m in metrics), *flags]
    head += ["attempts", "deme", "duration (s)", "error"]
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "\n".join(
        _row(t, "best" if t is best else _kind(t), metrics, flags)
        for t in _ordered(trials, direction)
    )
    return (
        f'<table id="trials">\n<thead><tr>{header}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody>\n</table>"
    )


def _kind(trial: hyperdeme.Trial) -> str:
    """A row's class: ``failed`` for the trials counted as failures everywhere
    (``Result.n_failed``, ``status``), else the trial's status."""
    return "failed" if trial.status in FAILURES else trial.status.value


def _row(t: hyperdeme.Trial, kind: str, metrics: list[str], flags: list[str]) -> str:
    """One trial's row: its cells, with ``kind`` as the row's class."""
    cells = [
        str(t.id),
        t.status.value,
        _number(t.fom),
        *(_number(t.metrics[m]) if m in t.metrics else "" for m in metrics),
        *(_value(t.params[f]) if f in t.params else "" for f in flags),
        str(t.attempts),
        str(t.info.get("deme", "")),
        f"{t.duration:.2f}",
    ]
    error = " ".join(t.error.split())
    shown = error if len(error) <= _ERROR_SHOWN else error[: _ERROR_SHOWN - 3] + "..."
    return (
        f'<tr class="{kind}" data-trial="{t.id}">'
        + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        + f'<td class="error" title="{html.escape(t.error)}">{html.escape(shown)}</td>'
        + "</tr>"
    )


#: how much of an error the table shows (the rest on hover)
_ERROR_SHOWN = 80


def _value(value: object) -> str:
    if isinstance(value, float):
        return _number(value)
    return format_value(value)


def _number(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else str(value)
