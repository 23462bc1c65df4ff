"""GPUs per evaluation, HYPERDEME_SLOT/HYPERDEME_TRIAL, ``@python``: real programs, real runs.

Each program (``tests/kernels/gpu_kernel.py``) writes the variables it saw and the
wall-clock times it started and ended; the test reads them back. No machine here
has a GPU: device ids are only handed out and exported, which is all hyperdeme does.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

import hyperdeme
from fakes import FakeLauncher
from hyperdeme import HyperdemeWarning

KERNEL = Path(__file__).parents[1] / "kernels" / "gpu_kernel.py"
SPACE = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]])
DEVICE_VARIABLES = (
    "CUDA_VISIBLE_DEVICES",
    "HIP_VISIBLE_DEVICES",
    "ROCR_VISIBLE_DEVICES",
    "HYPERDEME_GPUS",
)


async def run(tmp_path: Path, num_iters: int, **settings: Any) -> list[dict[str, Any]]:
    """Run the kernel ``num_iters`` times; each evaluation's report, by trial id."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (tmp_path / "src").mkdir()
    evaluator = hyperdeme.Evaluator(
        f"@python {KERNEL}",
        src_path=str(tmp_path / "src"),
        run_path=str(tmp_path / "run"),
        env={"GPU_REPORT": str(reports), "GPU_HOLD": "0.3"},
        **settings,
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=num_iters, seed=3, name="gpus")
    result = await hyperdeme.optimize(opt, SPACE)
    assert [t.status for t in result.trials] == [hyperdeme.Status.OK] * num_iters
    return [
        json.loads((reports / f"{trial.id}.json").read_text()) | {"trial": trial}
        for trial in result.trials
    ]


def overlapping(reports: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [
        (a, b)
        for a, b in itertools.combinations(reports, 2)
        if a["started"] < b["ended"] and b["started"] < a["ended"]
    ]


async def test_each_evaluation_holds_its_own_devices_and_slot(tmp_path: Path) -> None:
    with pytest.warns(HyperdemeWarning, match=r"num_parallel_evals=4 .* 2 evaluations run"):
        reports = await run(tmp_path, 12, gpus=[0, 1, 2, 3], gpus_per_eval=2, num_parallel_evals=4)
    for report in reports:
        env = report["env"]
        ids = env["CUDA_VISIBLE_DEVICES"].split(",")
        assert len(ids) == 2
        assert set(ids) <= {"0", "1", "2", "3"}
        assert {env[name] for name in DEVICE_VARIABLES} == {env["CUDA_VISIBLE_DEVICES"]}
        assert env["HYPERDEME_TRIAL"] == str(report["trial"].id)
        assert env["HYPERDEME_SLOT"] in ("0", "1")  # capped: two slots
        assert report["trial"].info["gpus"] == ids  # journalled with the trial
    pairs = overlapping(reports)
    assert pairs, "two slots of 0.3 s programs: some evaluations ran at the same time"
    for a, b in pairs:
        assert not set(a["env"]["HYPERDEME_GPUS"].split(",")) & set(
            b["env"]["HYPERDEME_GPUS"].split(",")
        )
        assert a["env"]["HYPERDEME_SLOT"] != b["env"]["HYPERDEME_SLOT"]


async def test_the_journal_times_agree(tmp_path: Path) -> None:
    """The journal's started/ended times, not only the programs' own, show no sharing."""
    with pytest.warns(HyperdemeWarning):
        await run(tmp_path, 6, gpus=["MIG-a", "MIG-b", "MIG-c"], num_parallel_evals=4)
    trials = hyperdeme.read_journal(tmp_path / "run" / "gpus" / "trials.jsonl")
    assert len(trials) == 6
    overlapped = [
        (a, b)
        for a, b in itertools.combinations(trials, 2)
        if a.started < b.ended and b.started < a.ended
    ]
    assert overlapped, "three slots of 0.3 s programs: some trials ran at the same time"
    for a, b in overlapped:
        assert not set(a.info["gpus"]) & set(b.info["gpus"])


async def test_without_gpus_every_evaluation_still_has_its_slot_and_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    reports = await run(tmp_path, 6, num_parallel_evals=3)
    for report in reports:
        env = report["env"]
        assert env["HYPERDEME_TRIAL"] == str(report["trial"].id)
        assert env["HYPERDEME_SLOT"] in ("0", "1", "2")
        assert "CUDA_VISIBLE_DEVICES" not in env
        assert "HYPERDEME_GPUS" not in env
        assert "gpus" not in report["trial"].info
    for a, b in overlapping(reports):
        assert a["env"]["HYPERDEME_SLOT"] != b["env"]["HYPERDEME_SLOT"]


async def test_python_token_runs_the_drivers_interpreter(tmp_path: Path) -> None:
    reports = await run(tmp_path, 1)
    assert reports[0]["executable"] == sys.executable


async def test_auto_takes_the_cuda_visible_devices_the_driver_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-aa,GPU-bb")
    reports = await run(tmp_path, 4, gpus="auto", num_parallel_evals=2)
    seen = {report["env"]["CUDA_VISIBLE_DEVICES"] for report in reports}
    assert seen <= {"GPU-aa", "GPU-bb"}
    assert len(reports) == 4


async def test_auto_without_any_gpu_fails_before_any_evaluation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(hyperdeme.ConfigError, match="found no GPU") as caught:
        await run(tmp_path, 2, gpus="auto")
    assert caught.value.name == "gpus"
    assert not list((tmp_path / "reports").iterdir())


def reports_devices(params: dict[str, Any]) -> float:
    """An evaluation function (module level: a worker process unpickles it) that writes
    what its process's environment says, as the kernel does."""
    import os
    import time

    started = time.time()
    time.sleep(0.3)
    env = {name: value for name, value in os.environ.items() if name.startswith("HYPERDEME_")}
    report = {"env": env | {"CUDA": os.environ.get("CUDA_VISIBLE_DEVICES", "")}}
    report |= {"started": started, "ended": time.time()}
    trial = os.environ.get("HYPERDEME_TRIAL", "none")
    (Path(os.environ["GPU_REPORT"]) / f"{trial}.json").write_text(json.dumps(report))
    return params["--x"]


async def test_a_function_in_a_worker_process_sees_its_devices_in_its_environment(
    tmp_path: Path,
) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    evaluator = hyperdeme.Evaluator(
        reports_devices,
        run_path=str(tmp_path / "run"),
        env={"GPU_REPORT": str(reports)},
        function_runs_in="process",
        gpus=["GPU-a", "GPU-b"],
        num_parallel_evals=2,
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=4, seed=3, name="process")
    result = await hyperdeme.optimize(opt, SPACE)
    seen = [json.loads((reports / f"{t.id}.json").read_text()) for t in result.trials]
    for trial, report in zip(result.trials, seen, strict=True):
        assert report["env"]["CUDA"] == report["env"]["HYPERDEME_GPUS"]
        assert [report["env"]["HYPERDEME_GPUS"]] == trial.info["gpus"]
        assert report["env"]["HYPERDEME_TRIAL"] == str(trial.id)
    for a, b in overlapping(seen):
        assert a["env"]["CUDA"] != b["env"]["CUDA"]


async def test_a_function_in_a_thread_has_its_devices_on_the_trial_not_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threads share the driver's environment: nothing is set there (it would be every
    thread's); the trial says which devices it held (``trial.info["gpus"]``)."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    seen: list[str | None] = []

    def evaluate(params: dict[str, Any]) -> float:
        import os

        seen.append(os.environ.get("CUDA_VISIBLE_DEVICES"))
        return params["--x"]

    evaluator = hyperdeme.Evaluator(evaluate, run_path=str(tmp_path / "run"), gpus=[0, 1])
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=3, seed=3, name="thread")
    result = await hyperdeme.optimize(opt, SPACE)
    assert seen == [None] * 3
    assert all(t.info["gpus"] in (["0"], ["1"]) for t in result.trials)


async def test_a_function_in_a_thread_reads_its_devices_on_its_trial_handle(
    tmp_path: Path,
) -> None:
    """``trial.gpus`` (the handle a two-parameter function gets) is what the trial holds:
    two threads running at once never hold the same device."""
    held: dict[int, tuple[str, ...]] = {}

    async def evaluate(params: dict[str, Any], trial: hyperdeme.TrialContext) -> float:
        held[trial.id] = trial.gpus
        await anyio.sleep(0.05)  # overlap with the other slot
        return float(params["--x"])

    evaluator = hyperdeme.Evaluator(
        evaluate, run_path=str(tmp_path / "run"), gpus=[0, 1], num_parallel_evals=2
    )
    opt = hyperdeme.RandomOptimizer(evaluator, num_iters=4, seed=3, name="handle")
    result = await hyperdeme.optimize(opt, SPACE)
    assert {t.id: list(held[t.id]) for t in result.trials} == {
        t.id: t.info["gpus"] for t in result.trials
    }
    assert all(len(ids) == 1 for ids in held.values())
    for a, b in itertools.combinations(result.trials, 2):
        if a.started < b.ended and b.started < a.ended:
            assert held[a.id] != held[b.id]


async def test_a_launcher_reads_the_devices_on_the_job(tmp_path: Path) -> None:
    """What a launcher (or the steps' trial handle) is given: ``job.gpus``."""
    jobs: list[hyperdeme.Job] = []

    async def handler(job: hyperdeme.Job) -> hyperdeme.Exit:
        jobs.append(job)
        job.stdout.write(b"FoM: 1\n")
        return hyperdeme.Exit(0)

    hyperdeme.register_launcher("gpu_fake")(lambda options: FakeLauncher(handler))
    evaluator = hyperdeme.Evaluator(
        "prog", run_path=str(tmp_path), src_path=str(tmp_path), launcher="gpu_fake",
        gpus=[4, 5, 6], gpus_per_eval=3,
    )  # fmt: skip
    await hyperdeme.optimize(hyperdeme.RandomOptimizer(evaluator, num_iters=2, name="j"), SPACE)
    assert [job.gpus for job in jobs] == [("4", "5", "6")] * 2
    assert jobs[0].env["HYPERDEME_GPUS"] == "4,5,6"


async def test_auto_finding_fewer_devices_than_gpus_per_eval_fails_before_any_evaluation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with pytest.raises(hyperdeme.ConfigError, match="gpus_per_eval=2 is more than the 1") as e:
        await run(tmp_path, 2, gpus="auto", gpus_per_eval=2)
    assert (e.value.name, e.value.value) == ("gpus_per_eval", 2)
    assert not list((tmp_path / "reports").iterdir())
