"""One journal reader, one policy: on every malformed journal the library
(``read_journal``, ``resume=True``) and the command (``status``, ``best``, ``export``)
give the same answer: the same trials, or the same error naming the same line."""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hyperdeme
from hyperdeme._cli._best import flags

from .conftest import invoke

SPACE = hyperdeme.Params([["--x", 0.9, (0.0, 1.0)]])
BUDGET = 6
calls: list[float] = []


def objective(params: dict[str, Any]) -> float:
    calls.append(params["--x"])
    return float(params["--x"])


def optimizer(tmp_path: Path) -> hyperdeme.Optimizer:
    evaluator = hyperdeme.Evaluator(objective, run_path=str(tmp_path), num_parallel_evals=1)
    return hyperdeme.RandomOptimizer(evaluator, num_iters=BUDGET, seed=3, name="exp")


Lines = list[str]  # the journal's lines, newlines included: 0 the header, then started/trial


def line(record: dict[str, Any]) -> str:
    return json.dumps(record) + "\n"


def edit(index: int, **change: Any) -> Callable[[Lines], Lines]:
    def apply(lines: Lines) -> Lines:
        record = {**json.loads(lines[index]), **change}
        record = {k: v for k, v in record.items() if v is not DROP}
        return [*lines[:index], line(record), *lines[index + 1 :]]

    return apply


DROP = object()
# lines: 0 experiment, 1 started 1, 2 trial 1, 3 started 2, 4 trial 2, ..., 12 trial 6
MALFORMATIONS: dict[str, Callable[[Lines], Lines]] = {
    "intact": lambda lines: lines,
    "torn-last-line": lambda lines: [*lines, '{"schema":2,"type":"trial","id":7,"par'],
    "truncated-last-record": lambda lines: [*lines[:-1], lines[-1][:40]],
    "blank-line": lambda lines: [*lines[:5], "\n", *lines[5:]],
    "unknown-record-type": lambda lines: [*lines[:5], line({"schema": 2, "type": "x"}), *lines[5:]],
    "missing-params": edit(4, params=DROP),
    "fom-a-list": edit(4, fom=[1]),
    "params-a-list": edit(4, params=[["--x", 1]]),
    "unknown-status": edit(4, status="exploded"),
    "id-a-string": edit(4, id="2"),
    "newer-schema": edit(4, schema=3),
    "started-genes-a-string": edit(3, genes="x=1"),
    "not-json": lambda lines: [*lines[:5], "{'id': 3}\n", *lines[5:]],
    "nul-bytes": lambda lines: [*lines[:5], "\0" * 30 + "\n", *lines[5:]],
    "duplicate-trial": lambda lines: [*lines[:5], lines[4], *lines[5:]],
    "duplicate-started": lambda lines: [*lines[:5], lines[3], *lines[5:]],
    "foreign-trial": lambda lines: [
        *lines[:5],
        line({**json.loads(lines[4]), "id": 99, "fom": -1e9}),  # would be the best
        *lines[5:],
    ],
}


def malform(journal: Path, change: Callable[[Lines], Lines]) -> None:
    lines = journal.read_text().splitlines(keepends=True)
    assert len(lines) == 1 + 2 * BUDGET  # the control: the shape the edits assume
    journal.write_text("".join(change(lines)))


def answer_of(read: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hyperdeme.HyperdemeWarning)  # a torn line: tested apart
        try:
            return read()
        except hyperdeme.JournalError as error:
            return ("error", str(error))


def command(name: str, directory: Path) -> Any:
    options = ["--csv"] if name == "export" else []
    outcome = answer_of(lambda: invoke(name, *options, directory))
    if outcome.code != 0:
        prefix = f"hyperdeme {name}: error: "
        assert outcome.err.startswith(prefix), outcome.err
        return ("error", outcome.err[len(prefix) :].rstrip("\n"))
    return outcome.out


@pytest.mark.parametrize("malformation", MALFORMATIONS)
async def test_the_command_and_the_library_give_the_same_answer(
    tmp_path: Path, malformation: str
) -> None:
    result = await hyperdeme.optimize(optimizer(tmp_path), SPACE)
    journal = Path(result.journal_path or "")
    malform(journal, MALFORMATIONS[malformation])

    library = answer_of(lambda: hyperdeme.read_journal(journal))
    export = command("export", journal.parent)
    status = command("status", journal.parent)
    best = command("best", journal.parent)
    calls.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hyperdeme.HyperdemeWarning)
        try:
            resumed: Any = await hyperdeme.optimize(optimizer(tmp_path), SPACE, resume=True)
        except hyperdeme.JournalError as error:
            resumed = ("error", str(error))

    if isinstance(library, tuple):  # refused: the same error, naming a line, everywhere
        assert library[0] == "error"
        assert ", line " in library[1]
        assert export == status == best == resumed == library
        return
    trials: list[hyperdeme.Trial] = library
    rows = list(csv.DictReader(io.StringIO(export)))
    assert [int(row["id"]) for row in rows] == [t.id for t in trials]
    assert f"done: {len(trials)}" in status
    ok = [t for t in trials if t.ok]
    assert best.strip() == flags(min(ok, key=lambda t: t.fom).params)
    # resume read the same trials: it ran only the others, and kept these as they were
    assert len(calls) == BUDGET - len(trials)
    kept = {t.id: t.fom for t in resumed.trials}
    assert all(kept[t.id] == t.fom for t in trials)
    assert sorted(kept) == list(range(1, BUDGET + 1))
