"""The engine with ``direction="maximize"``: the journal keeps the program's FoMs, the
strategy is told scores (lower is better), early stopping judges scores."""

from __future__ import annotations

from pathlib import Path

from hyperdeme import ASHA, Exit, Job, Status, Trial

from .test_runner import new_trial
from .test_slots import RecordingSearch, Run
from .test_stopping import BAD, GOOD, Curves, asha_runner


class ScoreRecordingSearch(RecordingSearch):
    def __init__(self, num_iters: int) -> None:
        super().__init__(num_iters)
        self.scores: dict[int, float] = {}

    def observe(self, trial: Trial) -> None:
        super().observe(trial)
        self.scores[trial.id] = trial.fom


async def test_the_strategy_is_told_scores_and_the_journal_keeps_the_foms(
    tmp_path: Path,
) -> None:
    async def handler(job: Job) -> Exit:
        if job.trial_id == 3:
            return Exit(1)
        job.stdout.write(f"FoM: {0.1 * job.trial_id}\n".encode())
        return Exit(0)

    run = Run(tmp_path, handler, slots=2, direction="maximize")
    search = ScoreRecordingSearch(num_iters=5)
    await run.run(search)
    journalled = {t.id: t for t in run.journalled()}
    assert {i: t.fom for i, t in journalled.items() if t.ok} == {i: 0.1 * i for i in (1, 2, 4, 5)}
    assert {i: search.scores[i] for i in (1, 2, 4, 5)} == {i: -0.1 * i for i in (1, 2, 4, 5)}
    assert search.scores[3] == float("inf")  # a failure is the worst score either way
    assert [t.fom for t in run.emitted if t.ok] == [t.fom for t in journalled.values() if t.ok]


def up(curve: list[float]) -> list[float]:
    """The curve of an accuracy: the negated loss curve."""
    return [-fom for fom in curve]


async def test_asha_stops_the_curve_that_climbs_slowest(tmp_path: Path) -> None:
    """The loss test's curves negated, maximised: the same decisions, the program's
    numbers kept in the trial and its intermediate FoMs."""
    curves = Curves({1: up(GOOD), 2: up(BAD)})
    r = asha_runner(tmp_path, curves, direction="maximize")
    first = await r.run(new_trial(r, 1))
    assert (first.status, first.steps, first.fom) == (Status.OK, 27, -GOOD[-1])
    assert first.intermediate == {1: -1.0, 3: -GOOD[2], 9: -GOOD[8]}
    second = await r.run(new_trial(r, 2))
    assert (second.status, second.steps, second.fom) == (Status.STOPPED, 3, -0.5)
    assert second.intermediate == {1: -1.0, 3: -0.5}
    assert curves.ended == {1: ("exited", 27), 2: ("cancelled", 3)}


async def test_maximising_asha_lets_the_higher_curve_go_on(tmp_path: Path) -> None:
    """Minimised, these curves stop the second trial (its values are higher); maximised,
    the second is the better one and runs to its end."""
    low, high = [0.1, 0.2, 0.3], [0.5, 0.6, 0.7]
    for direction, expected in (("minimize", Status.STOPPED), ("maximize", Status.OK)):
        curves = Curves({1: low, 2: high})
        r = asha_runner(tmp_path / direction, curves, direction=direction)
        assert (await r.run(new_trial(r, 1))).status is Status.OK
        assert (await r.run(new_trial(r, 2))).status is expected


async def test_resumed_asha_state_hears_scores(tmp_path: Path) -> None:
    """Rebuilt from journalled trials (the program's numbers), as the driver does."""
    from hyperdeme._core._direction import scored

    rule = ASHA(max_steps=3)
    done = Trial(id=1, params={}, fom=0.9, intermediate={1: 0.9})
    state = rule.resume([scored(done, "maximize")])
    assert not state.report(2, 1, -0.95)  # an accuracy of 0.95 beats 0.9: goes on
    assert state.report(3, 1, -0.5)  # 0.5 does not
