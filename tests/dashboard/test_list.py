"""``hyperdeme list`` and ``status`` on a run path of finished, running and interrupted
experiments (real drivers), ``status`` on an experiment file, and ``serve``'s refusals."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from .journals import completed
from .runs import experiment, invoke, kill, start, started_count, wait_until


def _rows(text: str) -> dict[str, list[str]]:
    lines = text.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("EXPERIMENT")))
    return {line.split()[0]: line.split() for line in lines[header + 1 :]}


def test_list_tells_finished_running_and_interrupted(tmp_path: Path) -> None:
    finished = experiment(tmp_path, "finished", sleep=0, trials=3)
    driver = start(finished)
    assert driver.wait(timeout=120) == 0, finished.with_suffix(".stderr").read_text()
    running = start(experiment(tmp_path, "running", sleep=60, trials=4))
    interrupted = start(experiment(tmp_path, "interrupted", sleep=60, trials=4))
    try:
        for name in ("running", "interrupted"):
            journal = tmp_path / "run" / name / "trials.jsonl"
            wait_until(lambda j=journal: started_count(j) == 2, what=f"{name}'s trials started")
        kill(interrupted, signal.SIGKILL)  # its driver dies with two trials running
        code, out, err = invoke("list", tmp_path / "run")
        assert code == 0, err
        rows = _rows(out)
        assert rows["finished"][1:3] == ["finished", "3"]
        assert rows["running"][1:5] == ["running", "0", "(+2", "running)"]
        assert rows["interrupted"][1:3] == ["interrupted", "0"]
        code, out, err = invoke("status", tmp_path / "run")
        assert code == 0, err
        assert out.startswith(f"run path: {tmp_path / 'run'} (3 experiments;")
        assert _rows(out) == rows
    finally:
        kill(running, signal.SIGTERM)
        kill(interrupted)


def test_list_formats_the_best_fom_and_says_when_there_is_none(tmp_path: Path) -> None:
    completed(tmp_path / "run" / "a", 2)
    assert invoke("list", tmp_path / "run" / "a")[1].splitlines()[1].split()[:4] == [
        "a",
        "finished",
        "2",
        "1",
    ]
    code, _, err = invoke("list", tmp_path / "nothing")
    assert code == 2
    assert "holds no experiments" in err


def test_status_of_an_experiment_file_opens_its_experiment(tmp_path: Path) -> None:
    file = experiment(tmp_path, "small", sleep=0, trials=2)
    code, _, err = invoke("status", file)
    assert code == 2
    assert "holds no trials.jsonl" in err  # nothing run yet, said as for a directory
    driver = start(file)
    assert driver.wait(timeout=120) == 0
    code, out, err = invoke("status", file)
    assert code == 0, err
    assert out.splitlines()[0] == f"run: {tmp_path / 'run' / 'small'}"
    assert "done: 2" in out


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.7", "example.org"])
def test_serve_refuses_another_host_without_a_token(tmp_path: Path, host: str) -> None:
    completed(tmp_path / "run" / "a", 1)
    code, _, err = invoke("serve", tmp_path / "run", "--host", host, "--port", "0")
    assert code == 2
    assert f"--host {host} is not a loopback address" in err
    assert "--token" in err


def test_serve_refuses_a_short_token(tmp_path: Path) -> None:
    code, _, err = invoke("serve", tmp_path, "--host", "0.0.0.0", "--token", "short")
    assert (code, "at least 16 characters, got 5" in err) == (2, True)


def test_serve_names_the_extra_when_it_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn: ImportError
    code, _, err = invoke("serve", tmp_path)
    assert code == 2
    assert "needs the serve extra" in err
    assert "hyperdeme[serve]" in err
