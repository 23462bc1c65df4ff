"""status, best and export on a real finished run."""

from __future__ import annotations

import csv
import io
import json
import math
import shlex
import subprocess
import sys
from pathlib import Path

import hyperdeme

from .conftest import TRAIN, invoke


def best_of(trials: list[hyperdeme.Trial]) -> hyperdeme.Trial:
    return min((t for t in trials if t.ok), key=lambda t: (t.fom, t.id))


def test_status_counts_the_journal(finished_run: Path) -> None:
    trials = hyperdeme.read_journal(finished_run)
    failed = [t for t in trials if t.status is hyperdeme.Status.FAILED]
    assert failed, "the shared run should have failing trials (--optimizer=broken)"
    outcome = invoke("status", finished_run)
    assert outcome.code == 0, outcome.err
    lines = outcome.out.splitlines()
    ok = len(trials) - len(failed)
    assert f"done: {len(trials)} (failed {len(failed)}, ok {ok})" in lines
    assert f"failed: {len(failed)}" in lines
    assert "running: 0" in lines
    best = best_of(trials)
    assert f"best FoM: {best.fom:.10g} (trial {best.id})" in lines


def test_best_prints_flags_that_reproduce_the_best_fom(finished_run: Path) -> None:
    outcome = invoke("best", finished_run)
    assert outcome.code == 0, outcome.err
    best = best_of(hyperdeme.read_journal(finished_run))
    flags = outcome.out.strip()
    assert flags.startswith("--lr=")
    # pasted after the command, in a shell
    rerun = subprocess.run(
        f"{shlex.quote(sys.executable)} {shlex.quote(str(TRAIN))} {flags}",
        shell=True,
        capture_output=True,
        text=True,
        check=True,
    )
    fom = float(rerun.stdout.rsplit("FoM: ", 1)[1])
    assert fom == best.fom


def test_best_quotes_values_for_the_shell(tmp_path: Path) -> None:
    trial = hyperdeme.Trial(id=1, params={"--name": "a b; rm -rf ~", "--lr": 0.5}, fom=1.0)
    (tmp_path / "trials.jsonl").write_text(json.dumps(trial.to_json()) + "\n")
    outcome = invoke("best", tmp_path)
    assert outcome.out.strip() == "'--name=a b; rm -rf ~' --lr=0.5"
    assert shlex.split(outcome.out) == ["--name=a b; rm -rf ~", "--lr=0.5"]


def test_best_without_a_successful_trial_exits_1(tmp_path: Path) -> None:
    trial = hyperdeme.Trial(id=1, params={}, status=hyperdeme.Status.FAILED)
    (tmp_path / "trials.jsonl").write_text(json.dumps(trial.to_json()) + "\n")
    outcome = invoke("best", tmp_path)
    assert outcome.code == 1
    assert "no trial" in outcome.err
    assert "has succeeded yet" in outcome.err


def test_export_csv_has_a_header_and_one_row_per_trial_record(
    finished_run: Path, tmp_path: Path
) -> None:
    target = tmp_path / "trials.csv"
    outcome = invoke("export", finished_run, "--csv", "-o", target)
    assert outcome.code == 0, outcome.err
    records = [
        json.loads(line) for line in (finished_run / "trials.jsonl").read_text().splitlines()
    ]
    trial_records = [r for r in records if r["type"] == "trial"]
    trials = hyperdeme.read_journal(finished_run)
    text = target.read_bytes().decode()
    assert len(text.splitlines()) == 1 + len(trial_records)
    rows = list(csv.DictReader(io.StringIO(text)))
    header = text.splitlines()[0].split(",")
    assert header[:3] == ["id", "status", "fom"]
    assert {"metric.FoM", "--lr", "--optimizer", "--momentum", "--layers"} <= set(header)
    assert header[-5:] == ["started", "ended", "started_unix", "ended_unix", "duration"]
    for row, trial in zip(rows, trials, strict=True):
        assert int(row["id"]) == trial.id
        assert row["status"] == trial.status.value
        assert float(row["fom"]) == trial.fom or (math.isinf(trial.fom) and row["fom"] == "inf")
        assert float(row["--lr"]) == trial.params["--lr"]
        assert row["--optimizer"] == trial.params["--optimizer"]
        assert int(row["--layers"]) == trial.params["--layers"]
        # inactive (--optimizer is not sgd): an empty cell
        expected = trial.params.get("--momentum")
        assert (float(row["--momentum"]) if row["--momentum"] else None) == expected
        assert float(row["duration"]) == trial.duration
        assert row["deme"] == str(trial.info["deme"])
    # and to stdout, the same
    assert invoke("export", finished_run, "--csv").out == text


def test_export_writes_csv_by_default(finished_run: Path) -> None:
    """Issue 21: CSV, its only format then, needed --csv; the flag stays accepted."""
    outcome = invoke("export", finished_run)
    assert outcome.code == 0, outcome.err
    assert outcome.out == invoke("export", finished_run, "--csv").out
    assert outcome.out.startswith("id,status,fom,")
    assert invoke("export", finished_run, "--csv", "--json").code == 2
