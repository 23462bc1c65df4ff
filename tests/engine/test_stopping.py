"""Early stopping in the engine: steps from streamed output, the rule's decision, the
attempt's launch cancelled, the outcome recorded (FakeLauncher: no processes)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from fakes import Handler
from hyperdeme import ASHA, Exit, Job, Status
from hyperdeme._engine._runner import TrialRunner

from .test_runner import launcher, new_trial, runner
from .test_slots import RecordingSearch, Run

#: rungs at steps 1, 3 and 9
RULE = ASHA(max_steps=27, reduction_factor=3)


class Curves:
    """A handler printing ``epoch <i>: FoM: <value>`` for each value of trial ``id``'s
    curve, one line at a time with a checkpoint after each (where a cancellation lands),
    then exiting 0; ``ended[id]`` says how its job ended and after how many lines."""

    def __init__(self, curves: dict[int, Sequence[float]], *, then_hang: bool = False) -> None:
        self.curves = curves
        self.then_hang = then_hang
        self.ended: dict[int, tuple[str, int]] = {}

    async def __call__(self, job: Job) -> Exit:
        printed = 0
        try:
            for epoch, fom in enumerate(self.curves[job.trial_id], start=1):
                job.stdout.write(f"epoch {epoch}: FoM: {fom}\n".encode())
                printed = epoch
                await anyio.lowlevel.checkpoint()
            if self.then_hang:
                await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            self.ended[job.trial_id] = ("cancelled", printed)
            raise
        self.ended[job.trial_id] = ("exited", printed)
        return Exit(0)


def good(epoch: int) -> float:
    return 1.0 / epoch


GOOD = [good(e) for e in range(1, 28)]
#: level with the good curve at rung 1 (a tie goes on), worse at rung 3
BAD = [1.0, 0.6, 0.5, *[0.4] * 24]


def asha_runner(tmp_path: Path, handler: Handler, **settings: object) -> TrialRunner:
    return runner(tmp_path, handler, early_stopping=RULE, **settings)


async def test_a_bad_curve_is_stopped_at_its_rung_and_its_job_cancelled(tmp_path: Path) -> None:
    curves = Curves({1: GOOD, 2: BAD})
    r = asha_runner(tmp_path, curves, num_retries=2)
    first = await r.run(new_trial(r, 1))
    assert (first.status, first.steps, first.fom) == (Status.OK, 27, GOOD[-1])
    assert first.intermediate == {1: 1.0, 3: GOOD[2], 9: GOOD[8]}
    second = await r.run(new_trial(r, 2))
    assert second.status is Status.STOPPED
    assert not second.ok
    assert second.has_fom
    assert (second.steps, second.fom, second.metrics) == (3, 0.5, {"FoM": 0.5})
    assert second.intermediate == {1: 1.0, 3: 0.5}
    assert (second.returncode, second.error) == (None, "")
    assert second.attempts == 1  # a stopped trial is not retried
    assert curves.ended == {1: ("exited", 27), 2: ("cancelled", 3)}
    assert launcher(r).running == 0
    stdout = (tmp_path / "run" / "exp" / "00002" / "stdout.log").read_text()
    assert stdout.splitlines() == ["epoch 1: FoM: 1.0", "epoch 2: FoM: 0.6", "epoch 3: FoM: 0.5"]


async def test_the_rule_decides_on_the_curve_not_on_timing(tmp_path: Path) -> None:
    """A program whose whole output arrives in one chunk, already exited: the decision is
    the same (stopped at step 3), so results never depend on how fast lines arrive."""

    async def all_at_once(job: Job) -> Exit:
        curve = GOOD if job.trial_id == 1 else BAD
        job.stdout.write("".join(f"FoM: {v}\n" for v in curve).encode())
        return Exit(0)

    r = asha_runner(tmp_path, all_at_once)
    await r.run(new_trial(r, 1))
    trial = await r.run(new_trial(r, 2))
    assert (trial.status, trial.steps, trial.fom) == (Status.STOPPED, 3, 0.5)


async def test_eval_timeout_is_still_a_timeout(tmp_path: Path) -> None:
    curves = Curves({1: [0.5], 2: [0.4]}, then_hang=True)
    r = asha_runner(tmp_path, curves, eval_timeout=0.05)
    for trial_id in (1, 2):
        trial = await r.run(new_trial(r, trial_id))
        assert trial.status is Status.TIMEOUT
        assert "eval_timeout" in trial.error
        assert trial.steps == 1
    assert curves.ended == {1: ("cancelled", 1), 2: ("cancelled", 1)}


async def test_without_early_stopping_steps_are_counted_and_nothing_kept(tmp_path: Path) -> None:
    r = runner(tmp_path, Curves({1: BAD}))
    assert r.early_stopping is None
    trial = await r.run(new_trial(r, 1))
    assert (trial.status, trial.steps, trial.intermediate, trial.fom) == (Status.OK, 27, {}, 0.4)


async def test_a_retry_counts_its_own_steps(tmp_path: Path) -> None:
    """The first attempt fails after 5 steps; the second runs the good curve."""

    async def handler(job: Job) -> Exit:
        if job.attempt == 1:
            job.stdout.write(b"".join(b"FoM: 9\n" for _ in range(5)))
            return Exit(1)
        return await Curves({1: GOOD[:4]})(job)

    r = asha_runner(tmp_path, handler, num_retries=1)
    trial = await r.run(new_trial(r, 1))
    assert (trial.status, trial.attempts, trial.steps) == (Status.OK, 2, 4)
    assert trial.intermediate == {1: 1.0, 3: GOOD[2]}  # the retry's values replaced the first's


async def test_a_nan_step_is_stopped_with_a_nan_fom(tmp_path: Path) -> None:
    r = asha_runner(tmp_path, Curves({1: GOOD, 2: [math.nan, 0.1]}))
    await r.run(new_trial(r, 1))
    trial = await r.run(new_trial(r, 2))
    assert (trial.status, trial.steps) == (Status.STOPPED, 1)
    assert math.isnan(trial.fom)
    assert not trial.has_fom  # strategies count it as a failure (inf)


async def test_a_given_state_is_used_as_is(tmp_path: Path) -> None:
    """A resumed run passes the state rebuilt from its journal."""
    rebuilt = RULE.start()
    rebuilt.report(100, 1, 0.1)  # a better trial reached rung 1 before the resume
    evaluator_runner = asha_runner(tmp_path, Curves({1: GOOD}))
    r = TrialRunner(
        evaluator_runner.evaluator,
        evaluator_runner.space,
        evaluator_runner.launcher,
        evaluator_runner.workspace,
        experiment="exp",
        early_stopping=rebuilt,
    )
    trial = await r.run(new_trial(r, 1))
    assert (trial.status, trial.steps) == (Status.STOPPED, 1)


# ------------------------------------------------------------------ through the scheduler


async def test_stopped_trials_are_journalled_and_are_no_failures_for_fail_fast(
    tmp_path: Path,
) -> None:
    """Trial 1 fails after printing a good first step; 2 and 3 are stopped at rung 1. Three
    trials without a success would stop the run (fail-fast), but stopped ones ran fine."""

    async def handler(job: Job) -> Exit:
        if job.trial_id == 1:
            job.stdout.write(b"FoM: 0.1\n")
            return Exit(1)
        return await Curves({i: [1.0 + i, 0.5] for i in range(2, 7)})(job)

    run = Run(tmp_path, handler, slots=1, early_stopping=RULE)
    await run.run(RecordingSearch(num_iters=6))
    journalled = {t.id: t for t in run.journalled()}
    assert [journalled[i].status for i in range(1, 7)] == [
        Status.FAILED, *[Status.STOPPED] * 5,
    ]  # fmt: skip
    stopped = journalled[2]
    assert (stopped.steps, stopped.fom, stopped.intermediate) == (1, 3.0, {1: 3.0})
    assert stopped.params == run.emitted[1].params


@pytest.mark.parametrize("slots", [1, 4])
async def test_one_state_per_run_shared_by_every_slot(tmp_path: Path, slots: int) -> None:
    async def handler(job: Job) -> Exit:
        return await Curves({job.trial_id: [float(job.trial_id)] * 3})(job)

    run = Run(tmp_path, handler, slots=slots, early_stopping=ASHA(max_steps=3))
    await run.run(RecordingSearch(num_iters=8))
    statuses = {t.id: t.status for t in run.journalled()}
    assert statuses[1] is Status.OK  # the first at rung 1, and the best: it goes on
    assert sum(s is Status.STOPPED for s in statuses.values()) >= 4  # 5 to 8 at least
    state = run.scheduler.runner.early_stopping
    assert state is not None
    assert sorted(state.recorded(1)) == list(range(1, 9))  # type: ignore[attr-defined]
