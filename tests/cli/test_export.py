"""hyperdeme export: CSV by default, JSON lines, ISO times, intermediate FoMs, and cells a
spreadsheet would run as formulas neutralised (issue 21)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import hyperdeme

from .conftest import invoke

STARTED = 1_780_000_000.25  # 2026-05-28T20:26:40.250Z


def journal(directory: Path, *trials: hyperdeme.Trial) -> Path:
    lines = [json.dumps(t.to_json()) + "\n" for t in trials]
    (directory / "trials.jsonl").write_text("".join(lines))
    return directory


def hostile(directory: Path) -> Path:
    return journal(
        directory,
        hyperdeme.Trial(
            id=1,
            params={"--name": '=HYPERLINK("http://x")', "--lr": -0.001, "--n": -3},
            fom=-0.5,
            metrics={"FoM": -0.5},
            started=STARTED,
            ended=STARTED + 2.5,
            duration=2.5,
            info={"deme": 0},
            steps=9,
            intermediate={3: 0.75, 9: -0.5},
        ),
        hyperdeme.Trial(
            id=2,
            params={"--name": "@SUM(1)", "--lr": 0.5, "--n": 2},
            status=hyperdeme.Status.FAILED,
            info={"deme": "-1+1"},
        ),
        hyperdeme.Trial(id=3, params={"--name": "+1", "--lr": 0.1, "--n": 0}, info={"deme": 1}),
        hyperdeme.Trial(id=4, params={"--name": "-2", "--lr": 0.1, "--n": 0}),
        hyperdeme.Trial(id=5, params={"--name": "\tx", "--lr": 0.1, "--n": 0}),
        hyperdeme.Trial(id=6, params={"--name": "\rx", "--lr": 0.1, "--n": 0}),
        hyperdeme.Trial(id=7, params={"--name": "plain", "--lr": 0.1, "--n": 0}),
    )


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_text_a_spreadsheet_would_run_gets_a_leading_quote(tmp_path: Path) -> None:
    outcome = invoke("export", hostile(tmp_path))
    assert outcome.code == 0, outcome.err
    table = rows(outcome.out)
    assert [r["--name"] for r in table] == [
        '\'=HYPERLINK("http://x")',
        "'@SUM(1)",
        "'+1",
        "'-2",
        "'\tx",
        "'\rx",
        "plain",
    ]
    assert table[1]["deme"] == "'-1+1"  # any text cell, not only parameters
    # numbers stay numbers, negative ones too
    assert table[0]["fom"] == "-0.5"
    assert table[0]["metric.FoM"] == "-0.5"
    assert table[0]["--lr"] == "-0.001"
    assert table[0]["--n"] == "-3"
    # plain flags in the header stay as written, so pandas finds df["--lr"]
    assert outcome.out.splitlines()[0].split(",")[4:7] == ["--name", "--lr", "--n"]


def test_raw_writes_every_cell_as_it_is(tmp_path: Path) -> None:
    outcome = invoke("export", hostile(tmp_path), "--raw")
    assert outcome.code == 0, outcome.err
    table = rows(outcome.out)
    assert [r["--name"] for r in table][:4] == ['=HYPERLINK("http://x")', "@SUM(1)", "+1", "-2"]
    assert table[1]["deme"] == "-1+1"


def test_a_flag_that_could_hold_a_formula_is_neutralised_in_the_header(tmp_path: Path) -> None:
    run = journal(tmp_path, hyperdeme.Trial(id=1, params={"-x|cmd('/C calc')!A0": 1}, fom=1.0))
    header = invoke("export", run).out.splitlines()[0]
    assert "'-x|cmd('/C calc')!A0" in header
    assert "-x|cmd('/C calc')!A0" in invoke("export", run, "--raw").out.splitlines()[0]


def test_times_are_iso_8601_utc_with_the_seconds_beside_them(tmp_path: Path) -> None:
    (first, failed, *_) = rows(invoke("export", hostile(tmp_path)).out)
    assert first["started"] == "2026-05-28T20:26:40.250+00:00"
    assert first["ended"] == "2026-05-28T20:26:42.750+00:00"
    assert float(first["started_unix"]) == STARTED
    assert float(first["ended_unix"]) == STARTED + 2.5
    assert float(first["duration"]) == 2.5
    assert failed["started"] == ""  # never started: no invented 1970 date


def test_steps_and_intermediate_foms_are_a_compact_json_list(tmp_path: Path) -> None:
    (first, failed, *_) = rows(invoke("export", hostile(tmp_path)).out)
    assert first["steps"] == "9"
    assert first["intermediate"] == "[[3,0.75],[9,-0.5]]"
    assert json.loads(first["intermediate"]) == [[3, 0.75], [9, -0.5]]
    assert (failed["steps"], failed["intermediate"]) == ("0", "")


def test_json_writes_one_typed_object_per_line(tmp_path: Path) -> None:
    outcome = invoke("export", hostile(tmp_path), "--json")
    assert outcome.code == 0, outcome.err
    lines = outcome.out.splitlines()
    assert len(lines) == 7
    first, failed = json.loads(lines[0]), json.loads(lines[1])
    assert first["params"] == {"--name": '=HYPERLINK("http://x")', "--lr": -0.001, "--n": -3}
    assert first["fom"] == -0.5
    assert first["intermediate"] == [[3, 0.75], [9, -0.5]]
    assert first["started"] == "2026-05-28T20:26:40.250+00:00"
    assert first["started_unix"] == STARTED
    assert failed["fom"] is None  # no FoM: null, not the invalid JSON Infinity
    assert failed["status"] == "failed"


@pytest.mark.parametrize("form", ["--csv", "--json"])
def test_export_to_a_file_is_what_stdout_gets(tmp_path: Path, form: str) -> None:
    run = hostile(tmp_path)
    target = tmp_path / "out"
    assert invoke("export", run, form, "-o", target).code == 0
    assert target.read_bytes().decode() == invoke("export", run, form).out
