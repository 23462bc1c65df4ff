"""Resuming an experiment: finished trials never run again, the budget is exact, the
search continues exactly where it stopped, and a changed search is refused."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from structlog.testing import capture_logs

import hyperdeme
from hyperdeme import Status

SPACE = hyperdeme.Params(
    [["--x", 0.9, (0.0, 1.0)], ["--n", 1, (1, 10)], ["--act", "relu", ["relu", "tanh"]]]
)
WIDER = [["--x", 0.9, (0.0, 2.0)], ["--n", 1, (1, 10)], ["--act", "relu", ["relu", "tanh"]]]
evaluated: list[dict[str, Any]] = []


def quadratic(params: dict[str, Any]) -> float:
    evaluated.append(dict(params))
    return float((params["--x"] - 0.3) ** 2 + 0.1 * (params["--n"] - 5) ** 2)


def make(kind: str, tmp_path: Path, name: str = "exp", seed: int = 7) -> hyperdeme.Optimizer:
    evaluator = hyperdeme.Evaluator(quadratic, run_path=str(tmp_path / "run"))
    if kind == "random":
        return hyperdeme.RandomOptimizer(evaluator, num_iters=12, seed=seed, name=name)
    if kind == "grid":
        return hyperdeme.GridOptimizer(evaluator, grid_size=3, chunk_size=1, name=name)
    if kind == "cmaes":  # popsize 4: the stop after 5 lands inside the second generation
        return hyperdeme.CMAESOptimizer(evaluator, max_evals=14, popsize=4, seed=seed, name=name)
    if kind == "optuna":
        return hyperdeme.OptunaOptimizer(
            evaluator, sampler="tpe", max_evals=12, seed=seed, name=name
        )
    return hyperdeme.GeneticOptimizer(
        evaluator, generations=3, num_demes=2, pop_size=3, seed=seed, name=name
    )


async def stop_after(optimizer: hyperdeme.Optimizer, count: int) -> list[hyperdeme.Trial]:
    """Run until ``count`` trials finished, then leave: the rest is cancelled."""
    seen: list[hyperdeme.Trial] = []
    async with hyperdeme.stream(optimizer, SPACE) as trials:
        async for trial in trials:
            seen.append(trial)
            if len(seen) == count:
                break
    return seen


@pytest.mark.parametrize("kind", ["random", "grid", "genetic", "cmaes", "optuna"])
async def test_a_stopped_run_resumes_to_exactly_what_an_uninterrupted_run_does(
    tmp_path: Path, kind: str
) -> None:
    """One slot, a deterministic objective: the resumed experiment's trials (ids, points,
    results) are those of a run that never stopped; none ran twice, the budget is exact."""
    evaluated.clear()
    whole = await hyperdeme.optimize(make(kind, tmp_path / "whole"), SPACE)
    expected = [(t.id, t.params, t.fom) for t in whole.trials]
    evaluated.clear()
    await stop_after(make(kind, tmp_path / "parts"), 5)
    first_part = list(evaluated)
    result = await hyperdeme.optimize(make(kind, tmp_path / "parts"), SPACE, resume=True)
    journalled = hyperdeme.read_journal(result.journal_path or "")
    assert [(t.id, t.params, t.fom) for t in journalled] == expected
    assert [(t.id, t.params, t.fom) for t in result.trials] == expected
    # the 5 finished trials were not evaluated again: the resumed run evaluated the rest
    assert len(evaluated) - len(first_part) == len(expected) - 5
    assert len(first_part) in (5, 6)  # and perhaps the trial its stop cancelled


async def test_resuming_a_finished_experiment_runs_nothing(tmp_path: Path) -> None:
    first = await hyperdeme.optimize(make("random", tmp_path), SPACE)
    evaluated.clear()
    again = await hyperdeme.optimize(make("random", tmp_path), SPACE, resume=True)
    assert evaluated == []
    assert [t.id for t in again.trials] == [t.id for t in first.trials]
    assert again.best_fom == first.best_fom


async def test_a_fresh_seed_is_remembered_and_reused_on_resume(tmp_path: Path) -> None:
    evaluated.clear()
    await stop_after(make("random", tmp_path, seed=0), 3)
    drawn = hyperdeme.read_journal(tmp_path / "run" / "exp")
    result = await hyperdeme.optimize(make("random", tmp_path, seed=0), SPACE, resume=True)
    assert result.seed is not None
    assert len(result.trials) == 12
    assert [t.params for t in result.trials[:3]] == [t.params for t in drawn[:3]]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"space": WIDER}, "space.parameters[0].high: 1.0 -> 2.0"),
        ({"seed": 8}, "seed: 7 -> 8"),
        ({"kind": "genetic"}, "strategy.type: 'RandomSearch' -> 'GeneticSearch'"),
    ],
)  # fmt: skip
async def test_a_changed_search_is_refused_naming_the_difference(
    tmp_path: Path, change: dict[str, Any], named: str
) -> None:
    await stop_after(make("random", tmp_path), 2)
    optimizer = make(change.get("kind", "random"), tmp_path, seed=change.get("seed", 7))
    space = hyperdeme.Params(change["space"]) if "space" in change else SPACE
    with pytest.raises(hyperdeme.ConfigError, match="cannot resume the experiment") as caught:
        await hyperdeme.optimize(optimizer, space, resume=True)
    assert named in str(caught.value)


async def test_without_a_name_the_newest_matching_experiment_is_resumed(tmp_path: Path) -> None:
    older = make("random", tmp_path, name="")
    await stop_after(older, 2)
    other = make("genetic", tmp_path, name="")  # does not match a random search
    await stop_after(other, 1)
    with capture_logs() as logs:
        result = await hyperdeme.optimize(make("random", tmp_path, name=""), SPACE, resume=True)
    assert result.journal_path is not None
    assert result.journal_path.parent.name == older.experiment
    assert len(result.trials) == 12
    said = [e for e in logs if e["event"] == "run.resuming"]
    assert said
    assert older.experiment in said[0]["message"]


async def test_nothing_to_resume_starts_fresh_and_says_so(tmp_path: Path) -> None:
    with capture_logs() as logs:
        result = await hyperdeme.optimize(make("random", tmp_path), SPACE, resume=True)
    assert len(result.trials) == 12
    assert any(e["event"] == "run.nothing_to_resume" for e in logs)


async def test_an_existing_experiment_is_not_run_again_without_resume(tmp_path: Path) -> None:
    await stop_after(make("random", tmp_path), 2)
    with pytest.raises(hyperdeme.ConfigError, match="already holds trials; resume it"):
        await hyperdeme.optimize(make("random", tmp_path), SPACE)


async def test_a_second_driver_is_refused_at_once_naming_the_holder(tmp_path: Path) -> None:
    started = anyio.Event()
    release = anyio.Event()

    async def slow(params: dict[str, Any]) -> float:
        started.set()
        await release.wait()
        return 1.0

    evaluator = hyperdeme.Evaluator(slow, run_path=str(tmp_path / "run"))
    first = hyperdeme.RandomOptimizer(evaluator, num_iters=2, seed=1, name="shared")
    second = hyperdeme.RandomOptimizer(evaluator, num_iters=2, seed=1, name="shared")
    async with anyio.create_task_group() as tg:
        tg.start_soon(hyperdeme.optimize, first, SPACE)
        await started.wait()
        with pytest.raises(hyperdeme.JournalError, match=r"being run by another driver \(pid \d+"):
            await hyperdeme.optimize(second, SPACE, resume=True)
        release.set()
    assert [t.status for t in first.result.trials] == [Status.OK, Status.OK]  # type: ignore[union-attr]


async def test_early_stopping_resumes_with_the_rungs_the_finished_trials_reached(
    tmp_path: Path,
) -> None:
    """Resumed, the rule judges a new trial against the trials finished before the stop:
    the hopeless fourth trial is stopped at its first step. A fresh rule would have let it
    on (the first trial at a rung is always the best there)."""
    source = tmp_path / "src"
    source.mkdir()
    program = (
        "import sys, time; x = float(sys.argv[1].split('=')[1])\n"
        "for epoch in range(4): print('FoM:', x + 1 - epoch / 10, flush=True); time.sleep(0.01)"
    )
    space = hyperdeme.Params([["--x", [0.3, 0.2, 0.1, 0.9]]])  # each better, then hopeless

    def optimizer() -> hyperdeme.GridOptimizer:
        evaluator = hyperdeme.Evaluator(
            f"{sys.executable} -c {shlex.quote(program)}",
            run_path=str(tmp_path / "run"), src_path=str(source), num_parallel_evals=1,
            early_stopping=hyperdeme.ASHA(max_steps=4, reduction_factor=2, min_steps=1),
        )  # fmt: skip
        return hyperdeme.GridOptimizer(evaluator, grid_size=4, chunk_size=1, name="curves")

    seen = 0
    async with hyperdeme.stream(optimizer(), space) as trials:
        async for _ in trials:
            seen += 1
            if seen == 3:
                break
    result = await hyperdeme.optimize(optimizer(), space, resume=True)
    by_x = {t.params["--x"]: t for t in result.trials}
    assert [by_x[x].status for x in (0.3, 0.2, 0.1)] == [Status.OK] * 3
    assert by_x[0.9].status is Status.STOPPED
    assert by_x[0.9].steps == 1


@pytest.mark.parametrize("status", ["interrupted", "cancelled"])
async def test_interrupted_and_cancelled_trials_run_again_on_resume(
    tmp_path: Path, status: str
) -> None:
    """A trial the machine or the cluster ended (``interrupted``), like one a stop
    cancelled, is no result of its parameters: resume runs the same point again."""
    first = await hyperdeme.optimize(make("random", tmp_path), SPACE)
    _mark_trial(Path(first.journal_path or ""), 4, status)
    evaluated.clear()
    again = await hyperdeme.optimize(make("random", tmp_path), SPACE, resume=True)
    assert evaluated == [first.trials[3].params]
    rerun = next(t for t in again.trials if t.id == 4)
    assert rerun.status is Status.OK
    assert rerun.fom == first.trials[3].fom
    assert again.n_interrupted == 0


def _mark_trial(journal: Path, trial_id: int, status: str) -> None:
    """Rewrite ``trial_id``'s record in ``journal`` as ended with ``status``."""
    edited = []
    for line in journal.read_text().splitlines():
        record = json.loads(line)
        if record.get("type") == "trial" and record["id"] == trial_id:
            record.update(status=status, fom=float("inf"))
        edited.append(json.dumps(record))
    journal.write_text("\n".join(edited) + "\n")


async def test_a_damaged_journal_of_another_experiment_does_not_stop_finding_the_match(
    tmp_path: Path,
) -> None:
    """The one reader refuses a damaged line; looking for the experiment to resume, a
    journal whose header is damaged is simply no match (it is not this one)."""
    older = make("random", tmp_path, name="")
    await stop_after(older, 2)
    damaged = tmp_path / "run" / "damaged" / "trials.jsonl"
    damaged.parent.mkdir(parents=True)
    damaged.write_text("not json\n")
    result = await hyperdeme.optimize(make("random", tmp_path, name=""), SPACE, resume=True)
    assert result.journal_path is not None
    assert result.journal_path.parent.name == older.experiment
    with pytest.raises(hyperdeme.JournalError, match=r"damaged/trials\.jsonl, line 1: not JSON"):
        hyperdeme.read_journal(damaged)


def test_a_changed_search_names_at_most_six_differences_and_says_there_are_more() -> None:
    """The refusal names each difference (recorded -> now), up to six, and says when
    there are more; the budget settings are left out of the comparison."""
    from hyperdeme._driver._resume import check_fingerprint

    def search(**settings: object) -> dict[str, object]:
        return {"strategy": {"type": "S", "settings": settings}, "seed": 1}

    recorded = search(a=1, b=2, c=3, d=4, e=5, f=6, g=7, budget=10)
    six = search(a=0, b=0, c=0, d=0, e=0, f=0, g=7, budget=99)
    with pytest.raises(hyperdeme.ConfigError) as caught:
        check_fingerprint(recorded, six, "the experiment x", budget=("budget",))
    said = str(caught.value)
    named = [f"strategy.settings.{key}: {n} -> 0" for n, key in enumerate("abcdef", 1)]
    assert f"recorded -> now: {'; '.join(named)}; only the budget (budget) may change)" in said
    seven = search(a=0, b=0, c=0, d=0, e=0, f=0, g=0, budget=10)
    with pytest.raises(hyperdeme.ConfigError) as caught:
        check_fingerprint(recorded, seven, "the experiment x")
    assert f"recorded -> now: {'; '.join(named)} ...)" in str(caught.value)
    check_fingerprint(recorded, search(a=1, b=2, c=3, d=4, e=5, f=6, g=7, budget=99),
                      "the experiment x", budget=("budget",))  # fmt: skip


async def test_a_journal_whose_asks_this_search_would_not_make_is_refused(
    tmp_path: Path,
) -> None:
    """Replaying, the strategy must ask for each recorded trial's very point: a journal
    that says otherwise (edited, or another version's strategy) is refused, naming the
    trial and both points, before anything runs."""
    first = await stop_after(make("random", tmp_path), 3)
    journal = tmp_path / "run" / "exp" / "trials.jsonl"
    edited = []
    for line in journal.read_text().splitlines():
        record = json.loads(line)
        if record.get("type") == "started" and record["id"] == 2:
            record["genes"] = {**record["genes"], "--n": 11}
        edited.append(json.dumps(record))
    journal.write_text("\n".join(edited) + "\n")
    evaluated.clear()
    with pytest.raises(hyperdeme.ConfigError, match="replaying its journal") as caught:
        await hyperdeme.optimize(make("random", tmp_path), SPACE, resume=True)
    said = str(caught.value)
    assert f"asks for {first[1].params!r} as trial 2 where the journal has" in said
    assert "'--n': 11" in said
    assert evaluated == []


async def test_an_unnamed_resume_with_a_seed_takes_the_experiment_of_that_seed(
    tmp_path: Path,
) -> None:
    """Without a name, the newest experiment that matches is resumed, and with a seed
    given the seed must match: a newer experiment of another seed is not it."""
    seven = make("random", tmp_path, name="", seed=7)
    await stop_after(seven, 2)
    await stop_after(make("random", tmp_path, name="", seed=8), 2)
    result = await hyperdeme.optimize(make("random", tmp_path, name="", seed=7), SPACE, resume=True)
    assert result.journal_path is not None
    assert result.journal_path.parent.name == seven.experiment


async def test_a_hyperdeme_0_1_line_in_the_journal_is_passed_over_on_resume(
    tmp_path: Path,
) -> None:
    """A line without ``schema`` (hyperdeme 0.1's) that no ``started`` record asked for is
    no trial of this search: the replay passes over it and goes on with the records after
    it (nothing runs again, nothing is lost)."""
    first = await hyperdeme.optimize(make("random", tmp_path), SPACE)
    _add_an_old_line_after_the_first_result(Path(first.journal_path or ""), trial_id=99)
    evaluated.clear()
    again = await hyperdeme.optimize(make("random", tmp_path), SPACE, resume=True)
    assert evaluated == []
    assert [(t.id, t.fom) for t in again.trials] == [(t.id, t.fom) for t in first.trials]


async def test_a_journal_with_only_its_fingerprint_resumes_from_trial_1(tmp_path: Path) -> None:
    """A driver that died before asking for any trial left its header alone: the resumed
    run asks from trial 1 on, as a fresh run would."""
    first = await hyperdeme.optimize(make("random", tmp_path), SPACE)
    _keep_the_header_only(Path(first.journal_path or ""))
    again = await hyperdeme.optimize(make("random", tmp_path), SPACE, resume=True)
    assert [(t.id, t.params) for t in again.trials] == [(t.id, t.params) for t in first.trials]


def _add_an_old_line_after_the_first_result(journal: Path, *, trial_id: int) -> None:
    """A copy of the first ``trial`` record as hyperdeme 0.1 wrote one (no schema, no
    type), for ``trial_id``, right after it."""
    lines = journal.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if json.loads(line)["type"] == "trial")
    old = {k: v for k, v in json.loads(lines[at]).items() if k not in ("schema", "type")}
    lines.insert(at + 1, json.dumps({**old, "id": trial_id}))
    journal.write_text("\n".join(lines) + "\n")


def _keep_the_header_only(journal: Path) -> None:
    journal.write_text(journal.read_text().splitlines()[0] + "\n")


async def test_an_unnamed_resume_without_a_seed_takes_the_search_whatever_its_seed(
    tmp_path: Path,
) -> None:
    """seed=0 draws a fresh seed per run: resuming without a name and without a seed
    takes the newest experiment of this search, whichever seed it drew (and goes on
    with that seed), never one of another search."""
    drawn = make("random", tmp_path, name="", seed=0)
    await stop_after(drawn, 3)
    await stop_after(make("genetic", tmp_path, name="", seed=0), 1)  # newer, another search
    result = await hyperdeme.optimize(make("random", tmp_path, name="", seed=0), SPACE, resume=True)
    assert result.journal_path is not None
    assert result.journal_path.parent.name == drawn.experiment
    assert len(result.trials) == 12


def test_a_setting_that_changed_kind_is_named_whole() -> None:
    """An object then and a number (or nothing) now is one difference, named with both
    values: compared whole, never looked into on one side only."""
    from hyperdeme._driver._resume import check_fingerprint

    recorded = {"strategy": {"type": "S", "settings": {"p": {"a": 1}, "q": 2}}}
    now = {"strategy": {"type": "S", "settings": {"p": 3, "q": {"b": 4}}}}
    with pytest.raises(hyperdeme.ConfigError) as caught:
        check_fingerprint(recorded, now, "the experiment x")
    said = str(caught.value)
    assert "strategy.settings.p: {'a': 1} -> 3; strategy.settings.q: 2 -> {'b': 4}" in said
