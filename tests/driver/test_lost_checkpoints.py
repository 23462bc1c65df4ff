"""A checkpoint that disappeared is never silently replaced by training from scratch:
PBT and crayai's GA-PBT (genetic search inheriting checkpoints), in-process."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import hyperdeme
from hyperdeme import ConfigError, Status

SPACE = hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]])
calls: list[str] = []


def train(params: dict[str, Any], checkpoint: str | None) -> float:
    """Continues its checkpoint: counts the slices it has seen."""
    assert checkpoint is not None
    state = Path(checkpoint, "slices")
    slices = int(state.read_text()) + 1 if state.exists() else 1
    state.write_text(str(slices))
    calls.append(checkpoint)
    return slices + params["--x"]


def optimizer(tmp_path: Path, kind: str) -> hyperdeme.Optimizer:
    evaluator = hyperdeme.Evaluator(
        train, run_path=str(tmp_path / "run"), checkpoint=str(tmp_path / "ckpt"), fsync=False
    )
    if kind == "pbt":
        return hyperdeme.PBTOptimizer(
            evaluator, population=2, steps=3, mode="sync", seed=3, name="e"
        )
    return hyperdeme.GeneticOptimizer(
        evaluator, generations=3, num_demes=1, pop_size=3, seed=3, name="e"
    )


async def stop_after(opt: hyperdeme.Optimizer, count: int) -> None:
    seen = 0
    async with hyperdeme.stream(opt, SPACE) as trials:
        async for _ in trials:
            seen += 1
            if seen == count:
                return


def slots(root: Path) -> list[Path]:
    return [p for p in root.iterdir() if p.is_symlink()]


@pytest.mark.parametrize("kind", ["pbt", "ga-pbt"])
async def test_a_deleted_checkpoint_fails_the_trial_that_would_continue_it(
    tmp_path: Path, kind: str
) -> None:
    await stop_after(optimizer(tmp_path, kind), 3)
    root = tmp_path / "ckpt" / "e"
    deleted = {p.name for p in slots(root)}
    assert deleted, "the control: the first trials committed checkpoints"
    for slot in slots(root):  # deleted by hand: the links and their versions
        shutil.rmtree(root / slot.readlink())
        slot.unlink()
    (root / "NOTES").write_text("the root is mounted, the checkpoints are gone\n")
    calls.clear()
    result = await hyperdeme.optimize(optimizer(tmp_path, kind), SPACE, resume=True)
    lost = [t for t in result.trials if "checkpoint_lost" in t.info]
    assert lost, f"no trial noticed that {sorted(deleted)} disappeared"
    for trial in lost:
        assert trial.status is Status.FAILED
        assert trial.info["checkpoint_lost"]["slot"] in deleted
        assert "has disappeared from" in trial.error
        assert "not started from scratch" in trial.error
    # none of them ran: the function was called only for the trials that did not lose one
    ran = [t for t in result.trials if t.attempts and "checkpoint_lost" not in t.info]
    assert len(calls) == sum(t.attempts for t in ran if t.id > 3)


@pytest.mark.parametrize("kind", ["pbt", "ga-pbt"])
async def test_a_resume_whose_checkpoint_root_is_not_mounted_is_refused_before_running(
    tmp_path: Path, kind: str
) -> None:
    await stop_after(optimizer(tmp_path, kind), 3)
    root = tmp_path / "ckpt" / "e"
    root.rename(tmp_path / "elsewhere")  # the mount is gone
    root.mkdir()  # the empty mount point stays
    calls.clear()
    with pytest.raises(ConfigError, match=r"checkpoint root .* is missing or empty") as caught:
        await hyperdeme.optimize(optimizer(tmp_path, kind), SPACE, resume=True)
    assert caught.value.name == "checkpoint"
    assert calls == []  # nothing trained from scratch
    root.rmdir()
    (tmp_path / "elsewhere").rename(root)  # mounted again: the resume goes on
    result = await hyperdeme.optimize(optimizer(tmp_path, kind), SPACE, resume=True)
    assert all(t.status is Status.OK for t in result.trials)
    assert not any("checkpoint_lost" in t.info for t in result.trials)
