"""Journals written by hand for the dashboard's tests: the records hyperdeme writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPACE = {
    "parameters": [
        {"flag": "--lr", "low": 1e-5, "high": 1.0, "integer": False, "log": True},
        {"flag": "--tag", "values": ["a", "<img src=x onerror=alert(1)>"]},
    ],
    "conditions": [],
}


def header(**fingerprint: Any) -> dict[str, Any]:
    return {
        "schema": 2,
        "type": "experiment",
        "fingerprint": {"space": SPACE, "seed": 1, "command": "train", **fingerprint},
    }


def started(trial_id: int, lr: float = 0.1) -> dict[str, Any]:
    return {"schema": 2, "type": "started", "id": trial_id, "genes": {"--lr": lr}, "info": {}}


def finished(trial_id: int, fom: float, status: str = "ok", **more: Any) -> dict[str, Any]:
    return {
        "schema": 2,
        "type": "trial",
        "id": trial_id,
        "params": {"--lr": 0.1 * trial_id, "--tag": "a"},
        "fom": fom,
        "status": status,
        "started": 1000.0 + trial_id,
        "ended": 1001.0 + trial_id,
        "duration": 1.0,
        **more,
    }


def line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record) + "\n").encode()


def write_journal(directory: Path, *records: dict[str, Any]) -> Path:
    """``directory/trials.jsonl`` holding ``records`` (a header first when none given)."""
    directory.mkdir(parents=True, exist_ok=True)
    journal = directory / "trials.jsonl"
    if not records or records[0].get("type") != "experiment":
        records = (header(), *records)
    journal.write_bytes(b"".join(line(r) for r in records))
    return journal


def completed(directory: Path, count: int, *, offset: int = 0) -> Path:
    """An experiment of ``count`` finished trials (FoM = id)."""
    records: list[dict[str, Any]] = []
    for i in range(offset + 1, offset + count + 1):
        records += [started(i), finished(i, float(i))]
    return write_journal(directory, *records)
