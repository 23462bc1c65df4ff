"""Population-based training end to end: real programs resuming real checkpoints.

Continuation is checked from what the programs themselves recorded (see
``tests/lineage.py``), not from hyperdeme's bookkeeping.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

import hyperdeme
from fakes import FakeLauncher
from hyperdeme import ConfigError, Exit, HyperdemeWarning, Job, Status, Trial, hpo
from lineage import assert_continuations, recorded

REPO = Path(__file__).parents[2]
EXAMPLE = REPO / "examples" / "pbt"
CHECKPOINTER = REPO / "tests" / "kernels" / "checkpointer.py"
MODEL = "@checkpoint/model.npz"
TRAIN = (
    f"{shlex.quote(sys.executable)} train.py --epochs 1 "
    f"--load_checkpoint {MODEL} --save_checkpoint {MODEL}"
)

pytestmark = pytest.mark.timeout(120)


def moons_params() -> hyperdeme.Params:
    return hyperdeme.Params(
        [["--lr", 0.05, (1e-3, 1.0), {"log": True}], ["--momentum", 0.9, (0.0, 0.99)]]
    )


def example_evaluator(tmp_path: Path, **settings: Any) -> hyperdeme.Evaluator:
    settings.setdefault("num_parallel_evals", 2)
    return hyperdeme.Evaluator(
        TRAIN,
        src_path=str(EXAMPLE),
        run_path=str(tmp_path / "run"),
        workload_manager="local",
        fsync=False,
        **settings,
    )


# ------------------------------------------------------------------ PBTOptimizer


@pytest.mark.parametrize("mode", ["async", "sync"])
async def test_pbt_runs_the_example_end_to_end(tmp_path: Path, mode: str) -> None:
    opt = hyperdeme.PBTOptimizer(
        example_evaluator(tmp_path, checkpoint=str(tmp_path / "ckpt")),
        population=4,
        steps=3,
        quantile=0.5,
        mode=mode,
        seed=3,
        name="moons",
    )
    result = await hyperdeme.optimize(opt, moons_params())
    run_dir = tmp_path / "run" / "moons"
    trials = result.trials
    assert [t.status for t in trials] == [Status.OK] * 12
    assert_continuations(run_dir, trials)
    for trial in trials:
        history = recorded(run_dir, trial, "saved")
        assert history[:-1] == recorded(run_dir, trial, "loaded")  # one epoch per slice
        assert history[-1]["lr"] == trial.params["--lr"]
        if mode == "sync":  # everyone at the same depth; async may copy a donor ahead or behind
            assert len(history) == trial.info["step"] + 1
        exploited = trial.info.get("exploited_from")
        if exploited is not None:
            assert trial.info["checkpoint_from"] == exploited["trial"]
    assert any("exploited_from" in t.info for t in trials)
    # each member's schedule; the lineage of its final weights is what the program trained
    by_id = {t.id: t for t in trials}
    schedules = result.schedules()
    assert sorted(schedules) == [0, 1, 2, 3]
    for steps in schedules.values():
        assert [s.step for s in steps] == [0, 1, 2]
        assert [s.params for s in steps] == [by_id[s.trial_id].params for s in steps]
        final = steps[-1].trial_id
        lineage = result.lineage(final)
        assert lineage[-1] == final
        trained = [(h["lr"], h["momentum"]) for h in recorded(run_dir, by_id[final], "saved")]
        assert trained == [
            (by_id[t].params["--lr"], by_id[t].params["--momentum"]) for t in lineage
        ]
    # old checkpoints were deleted: one per member is left, its final weights
    left = sorted(os.listdir(tmp_path / "ckpt" / "moons"))
    finals = sorted(f"{steps[-1].trial_id:05d}" for steps in schedules.values())
    assert [name for name in left if "@" not in name] == finals
    assert not [name for name in left if name.endswith(".tmp")]
    if mode == "sync":  # the barrier: no slice k+1 started before every slice k ended
        for step in (1, 2):
            started = min(t.started for t in trials if t.info["step"] == step)
            assert started >= max(t.ended for t in trials if t.info["step"] == step - 1)


def test_the_crayai_style_pbt_script_runs(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLE / "optimize.py"), "--population", "3", "--steps", "2",
         "--run-path", str(tmp_path / "run"), "--checkpoint", str(tmp_path / "ckpt")],
        cwd=tmp_path, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert "best FoM:" in out.stdout
    assert out.stdout.count("member ") == 3


@pytest.mark.parametrize("retries", [1, 0])
async def test_a_member_crashing_mid_save_resumes_from_its_last_good_checkpoint(
    tmp_path: Path, retries: int
) -> None:
    once = tmp_path / "crashed-once"
    evaluator = hyperdeme.Evaluator(
        f"{shlex.quote(sys.executable)} {CHECKPOINTER} @checkpoint --crash-at-step 1 --once {once}",
        src_path=str(tmp_path),
        run_path=str(tmp_path / "run"),
        workload_manager="local",
        num_retries=retries,
        retry_delay=0,
        num_parallel_evals=1,
        fsync=False,
    )
    space = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]])
    opt = hyperdeme.PBTOptimizer(evaluator, population=2, steps=3, quantile=0.0, seed=2)
    result = await hyperdeme.optimize(opt, space)
    run_dir = tmp_path / "run" / opt.experiment
    crashed = next(t for t in result.trials if t.info["step"] == 1 and t.info["member"] == 0)
    assert once.exists()
    first = next(t for t in result.trials if t.info["step"] == 0 and t.info["member"] == 0)
    if retries:  # the retry loaded the committed checkpoint, not the torn file
        assert (crashed.status, crashed.attempts) == (Status.OK, 2)
        torn = recorded(run_dir, crashed, "loaded", log="stdout.attempt1.log")
        assert torn == recorded(run_dir, crashed, "loaded") == recorded(run_dir, first, "saved")
    else:  # the member's next slice continues its last good checkpoint
        assert crashed.status is Status.FAILED
        later = next(t for t in result.trials if t.info["step"] == 2 and t.info["member"] == 0)
        assert later.info["checkpoint_from"] == first.id
        assert recorded(run_dir, later, "loaded") == recorded(run_dir, first, "saved")
    ok = [t for t in result.trials if t.ok]
    assert_continuations(run_dir, ok)


# ------------------------------------------------------------------ no barrier in async mode


@pytest.mark.parametrize("mode", ["async", "sync"])
async def test_a_slow_member_blocks_nobody_in_async_mode(tmp_path: Path, mode: str) -> None:
    """Member 0's first slice runs until the others are done: all their slices in async
    mode (with a barrier this would never happen), their first ones in sync mode."""
    others = 6 if mode == "async" else 2
    others_done = anyio.Event()
    events: list[tuple[str, int]] = []

    async def handler(job: Job) -> Exit:
        events.append(("start", job.trial_id))
        if job.trial_id == 1:  # member 0's first slice: slow
            await others_done.wait()
        elif sum(1 for kind, _ in events if kind == "end") + 1 == others:
            others_done.set()
        events.append(("end", job.trial_id))
        job.stdout.write(b"FoM: 0.5\n")
        return Exit(0)

    launcher = FakeLauncher(handler)
    hyperdeme.register_launcher(f"pbt_fake_{mode}")(lambda options: launcher)
    evaluator = hyperdeme.Evaluator(
        "prog @checkpoint", run_path=str(tmp_path), src_path=str(tmp_path),
        launcher=f"pbt_fake_{mode}", num_parallel_evals=3, fsync=False,
    )  # fmt: skip
    opt = hyperdeme.PBTOptimizer(evaluator, population=3, steps=3, mode=mode, seed=1)
    with anyio.fail_after(30):  # a barrier in async mode would hang here
        result = await hyperdeme.optimize(opt, hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]))
    assert len(result.trials) == 9
    slow_end = events.index(("end", 1))
    member = {t.id: t.info["member"] for t in result.trials}
    ended_first = [i for kind, i in events[:slow_end] if kind == "end"]
    assert sorted(member[i] for i in ended_first) == sorted([1, 2] * (others // 2))
    if mode == "sync":  # no second slice started before the slow first one ended
        step = {t.id: t.info["step"] for t in result.trials}
        assert all(step[i] == 0 for kind, i in events[:slow_end] if kind == "start")


# ------------------------------------------------------------------ crayai's PBT: genetic


@pytest.mark.parametrize("mode", ["generational", "steady"])
async def test_crayai_genetic_children_continue_their_fitter_parents_weights(
    tmp_path: Path, mode: str
) -> None:
    evaluator = example_evaluator(tmp_path, checkpoint=str(tmp_path / "ckpt"))
    opt = hpo.genetic.Optimizer(
        evaluator, generations=3, num_demes=1, pop_size=3, mutation_rate=0.5,
        gens_per_epoch=1, mode=mode, seed=4, name="ga",
    )  # fmt: skip
    result = await hyperdeme.optimize(opt, moons_params())
    run_dir = tmp_path / "run" / "ga"
    trials = {t.id: t for t in result.trials}
    assert all(t.ok for t in trials.values())
    assert_continuations(run_dir, list(trials.values()))
    continued = 0
    for trial in trials.values():
        parents = trial.info["parents"]
        if not parents:
            assert recorded(run_dir, trial, "loaded") == []
            continue
        fitter = min(parents, key=lambda p: (trials[p].fom, p))
        loaded = recorded(run_dir, trial, "loaded")
        if trials[fitter].info["generation"] < trial.info["generation"]:
            # the program found the fitter parent's weights, trained with its hyperparameters
            assert loaded == recorded(run_dir, trials[fitter], "saved")
            assert loaded[-1]["lr"] == trials[fitter].params["--lr"]
            continued += 1
    assert continued >= 3


WRITER = REPO / "tests" / "kernels" / "pbt_writer.py"


def _loaded_writer(run_dir: Path, trial: Trial) -> int | None:
    """The trial that wrote the checkpoint ``trial``'s program loaded, as the program said."""
    value: int | None = recorded(run_dir, trial, "loaded")
    return value


@pytest.mark.parametrize("mode", ["steady", "generational"])
async def test_children_load_their_fitter_parents_own_checkpoint(tmp_path: Path, mode: str) -> None:
    """crayai's PBT with its default gens_per_epoch=1, 2 slots for a population of 5 (so
    siblings finish before later siblings start), several seeds: the program of
    (at least 95 % of) the children loads the checkpoint its fitter parent's own program
    wrote, and the journal's lineage names the trial whose checkpoint it loaded."""
    children = own = 0
    for seed in (1, 2, 3):
        name = f"pbt{seed}"
        evaluator = hyperdeme.Evaluator(
            f"{shlex.quote(sys.executable)} -S pbt_writer.py @checkpoint",
            src_path=str(WRITER.parent), run_path=str(tmp_path / "run"),
            checkpoint=str(tmp_path / "ckpt"), num_parallel_evals=2, fsync=False,
        )  # fmt: skip
        params = hyperdeme.Params(
            [["--lr", 0.01, (1e-4, 0.05), {"log": True}], ["--momentum", 0.5, (0.0, 0.95)]]
        )
        opt = hpo.genetic.Optimizer(
            evaluator, num_demes=1, pop_size=5, generations=5, mode=mode, seed=seed, name=name
        )
        result = await hyperdeme.optimize(opt, params)
        run_dir = tmp_path / "run" / name
        trials = {t.id: t for t in result.trials}
        assert len(trials) == opt.config.budget
        for trial in trials.values():
            loaded = _loaded_writer(run_dir, trial)
            assert trial.info["checkpoint_from"] == loaded, trial.id  # the journal's lineage
            parents = trial.info["parents"]
            if parents:
                children += 1
                fitter = min(parents, key=lambda p: (trials[p].fom, p))
                own += loaded == fitter
    assert children >= 30
    assert own >= 0.95 * children, (own, children)


async def test_gens_per_epoch_generations_share_an_epoch(tmp_path: Path) -> None:
    evaluator = example_evaluator(tmp_path, checkpoint=str(tmp_path / "ckpt"))
    opt = hyperdeme.GeneticOptimizer(
        evaluator, generations=4, num_demes=1, pop_size=3, gens_per_epoch=2,
        mode="generational", seed=5, name="ga2",
    )  # fmt: skip
    result = await hyperdeme.optimize(opt, moons_params())
    run_dir = tmp_path / "run" / "ga2"
    for trial in result.trials:
        epochs = len(recorded(run_dir, trial, "loaded"))  # what the program resumed from
        assert epochs == trial.info["generation"] // 2 == trial.info["epoch"], trial.id


# ------------------------------------------------------------------ settings that cannot work


def test_pbt_needs_a_command_with_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        hyperdeme.PBTOptimizer(hyperdeme.Evaluator("python3 train.py"))
    assert str(caught.value) == (
        "PBTOptimizer needs @checkpoint in the command, the directory each evaluation loads "
        "its checkpoint from and saves it to (e.g. 'python3 train.py --epochs 1 "
        "--checkpoint-dir @checkpoint'); got 'python3 train.py'."
    )
    with pytest.raises(ConfigError, match=r"give the function '.*' a checkpoint parameter"):
        hyperdeme.PBTOptimizer(hyperdeme.Evaluator(lambda params: 1.0))
    late = hyperdeme.PBTOptimizer()
    late.evaluator = hyperdeme.Evaluator("python3 train.py")
    with pytest.raises(ConfigError, match="needs @checkpoint"):
        late.make_strategy(moons_params())


def test_pbt_settings_are_checked_at_construction() -> None:
    with pytest.raises(ConfigError, match=r"quantile must be in \[0, 0.5\]"):
        hyperdeme.PBTOptimizer(quantile=0.75)
    with pytest.raises(hyperdeme.ConfigTypeError, match="did you mean 'population'"):
        hyperdeme.PBTOptimizer(populaton=4)  # type: ignore[call-arg]
    assert hpo.pbt.Optimizer is hpo.PBTOptimizer
    assert issubclass(hpo.PBTOptimizer, hyperdeme.PBTOptimizer)


@pytest.mark.parametrize(
    ("command", "settings", "message"),
    [
        (
            "python3 train.py",
            {"checkpoint": "ck"},
            "checkpoint='ck' is set but the command has no @checkpoint",
        ),
        (
            "python3 train.py --dir @checkpoint",
            {},
            "the command has @checkpoint but checkpoint is not set",
        ),
    ],
)
def test_half_of_crayais_pbt_switch_is_a_warning(
    command: str, settings: dict[str, Any], message: str
) -> None:
    evaluator = hyperdeme.Evaluator(command, **settings)
    with pytest.warns(HyperdemeWarning, match=message) as caught:
        hyperdeme.GeneticOptimizer(evaluator)
    assert caught[0].filename == __file__  # points at the caller
    with pytest.warns(HyperdemeWarning):
        strategy = hyperdeme.GeneticOptimizer(evaluator).make_strategy(moons_params())
    assert isinstance(strategy, hyperdeme.GeneticSearch)
    assert not strategy.config.inherit_checkpoints


def test_gens_per_epoch_without_checkpoints_is_a_warning_not_silence() -> None:
    evaluator = hyperdeme.Evaluator("python3 train.py")
    with pytest.warns(HyperdemeWarning) as caught:
        opt = hyperdeme.GeneticOptimizer(evaluator, gens_per_epoch=3)
    assert str(caught[0].message) == (
        "gens_per_epoch=3 has no effect: generations share epochs of training only when "
        "children continue their parents' checkpoints, which needs "
        "Evaluator(checkpoint=DIR) and @checkpoint in the command."
    )
    strategy = opt.make_strategy(moons_params())
    assert isinstance(strategy, hyperdeme.GeneticSearch)
    assert not strategy.config.inherit_checkpoints
    # crayai scripts pass gens_per_epoch=1 (the default) whatever the mode: no warning
    hyperdeme.GeneticOptimizer(evaluator, gens_per_epoch=1)
    with pytest.raises(ConfigError, match=r"gens_per_epoch must be an integer >= 1, got 0\."):
        hyperdeme.GeneticOptimizer(evaluator, gens_per_epoch=0)


def test_the_switch_turns_inheritance_on() -> None:
    evaluator = hyperdeme.Evaluator("python3 train.py --dir @checkpoint", checkpoint="ck")
    strategy = hyperdeme.GeneticOptimizer(evaluator, gens_per_epoch=2).make_strategy(moons_params())
    assert isinstance(strategy, hyperdeme.GeneticSearch)
    assert strategy.config.inherit_checkpoints
    assert strategy.config.gens_per_epoch == 2


def test_lineage_follows_checkpoint_from_and_schedules_need_pbt_trials() -> None:
    result = hyperdeme.Result(
        trials=[
            Trial(id=1, params={}, info={"checkpoint_from": None}),
            Trial(id=2, params={}, info={"checkpoint_from": 1}),
            Trial(id=3, params={}, info={"checkpoint_from": 2}),
            Trial(id=4, params={}),
        ]
    )
    assert result.lineage(3) == [1, 2, 3]
    assert result.lineage(4) == [4]
    assert result.lineage(99) == [99]
    assert result.schedules() == {}


async def test_pbt_with_a_function_taking_a_checkpoint(tmp_path: Path) -> None:
    """In-process: the function gets its attempt's checkpoint directory."""

    async def train(params: dict[str, Any], checkpoint: str | None) -> float:
        assert checkpoint is not None
        state = anyio.Path(checkpoint, "state.txt")
        history = (await state.read_text()).split() if await state.exists() else []
        history.append(str(params["--x"]))
        await state.write_text(" ".join(history))
        return len(history) + params["--x"]

    evaluator = hyperdeme.Evaluator(train, run_path=str(tmp_path), fsync=False)
    opt = hyperdeme.PBTOptimizer(evaluator, population=3, steps=4, mode="sync", seed=2, name="f")
    result = await hyperdeme.optimize(opt, hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]))
    assert all(t.ok for t in result.trials)
    for trial in result.trials:
        assert trial.fom == pytest.approx(trial.info["step"] + 1 + trial.params["--x"])
    lineages = [result.lineage(steps[-1].trial_id) for steps in result.schedules().values()]
    assert [len(lineage) for lineage in lineages] == [4, 4, 4]
    left = sorted(p.name for p in (tmp_path / "f" / "checkpoints").iterdir() if "@" not in p.name)
    assert len(left) == 3


async def test_a_function_without_a_plan_gets_checkpoint_none(tmp_path: Path) -> None:
    seen: list[str | None] = []

    def train(params: dict[str, Any], *, checkpoint: str | None = "unset") -> float:
        seen.append(checkpoint)
        return 1.0

    evaluator = hyperdeme.Evaluator(train, run_path=str(tmp_path))
    await hyperdeme.optimize(hyperdeme.RandomOptimizer(evaluator, num_iters=2, seed=1),
                             hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]))  # fmt: skip
    assert seen == [None, None]


@pytest.mark.parametrize("mode", ["async", "sync"])
async def test_a_stopped_pbt_run_resumes_its_members_from_their_checkpoints(
    tmp_path: Path, mode: str
) -> None:
    """Resume rebuilds every member (hyperparameters, lineage) by replaying the journal
    and each continues its last committed checkpoint: the programs' own records show
    every slice continuing the one before, across the restart, and nothing re-trained."""

    def optimizer() -> hyperdeme.PBTOptimizer:
        evaluator = example_evaluator(
            tmp_path, checkpoint=str(tmp_path / "ckpt"), num_parallel_evals=1
        )
        return hyperdeme.PBTOptimizer(
            evaluator, population=3, steps=3, quantile=0.5, mode=mode, seed=5, name="moons"
        )

    first = optimizer()
    seen = 0
    async with hyperdeme.stream(first, moons_params()) as trials:
        async for _ in trials:
            seen += 1
            if seen == 4:
                break
    done_before = [t.id for t in hyperdeme.read_journal(tmp_path / "run" / "moons") if t.ok]
    result = await hyperdeme.optimize(optimizer(), moons_params(), resume=True)
    run_dir = tmp_path / "run" / "moons"
    trials = hyperdeme.read_journal(run_dir)
    assert sorted(t.id for t in trials) == list(range(1, 10))  # population x steps, once each
    assert all(t.status is Status.OK for t in trials)
    assert [t.id for t in result.trials][: len(done_before)] == done_before
    assert_continuations(run_dir, trials)
    for trial in trials:
        history = recorded(run_dir, trial, "saved")
        assert history[:-1] == recorded(run_dir, trial, "loaded")
