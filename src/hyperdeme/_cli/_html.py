"""The report page: one self-contained HTML file (inline CSS, images as data URIs).

The table of trials sorts when a header is clicked. After the page loads, a
small script records every image's decoded width on ``<body
data-image-widths="...">``, so a headless browser's DOM shows that the
images rendered. The stylesheet and the script are files of this package
(``report.css``, ``report.js``), inlined into the page.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from importlib.resources import files

import hyperdeme

from ._engine_internals import FAILURES, Direction, best_of, format_value, wording

__all__ = ["render_html"]


def render_html(
    *,
    title: str,
    summary: Sequence[str],
    images: Mapping[str, tuple[str, bytes]],
    trials: Sequence[hyperdeme.Trial],
    direction: Direction = "minimize",
) -> str:
    """The page: ``summary`` lines, ``images`` (name -> (caption, PNG bytes)), the trials
    (the best one's row marked, by ``direction``)."""
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
<h2>Plots</h2>
<div class="plots">
{figures}
</div>
<h2>Trials</h2>
{_table(trials, direction)}
<script>
{_asset("report.js")}</script>
</body>
</html>
"""


def _asset(name: str) -> str:
    """A file shipped beside this module: the page's stylesheet (``report.css``) and
    script (``report.js``), kept as files so that their own tools can check them."""
    return files("hyperdeme._cli").joinpath(name).read_text(encoding="utf-8")


def _table(trials: Sequence[hyperdeme.Trial], direction: Direction) -> str:
    """The sortable table of trials, one row each, the best trial's row marked; the FoM
    column's header says which way is better."""
    flags = list(dict.fromkeys(flag for t in trials for flag in t.params))
    metrics = list(dict.fromkeys(name for t in trials for name in t.metrics))
    best = best_of(trials, direction)
    head = ["id", "status", f"FoM ({wording(direction)})"]
    head += [*(f"metric {m}" for m in metrics), *flags]
    head += ["attempts", "deme", "duration (s)"]
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "\n".join(_row(t, "best" if t is best else _kind(t), metrics, flags) for t in trials)
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
    return (
        f'<tr class="{kind}" data-trial="{t.id}">'
        + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        + "</tr>"
    )


def _value(value: object) -> str:
    if isinstance(value, float):
        return _number(value)
    return format_value(value)


def _number(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else str(value)
