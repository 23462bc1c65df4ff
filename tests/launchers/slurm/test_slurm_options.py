"""The Slurm launcher's own options, the pending-reason rules and the progress line's
status: no cluster needed."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme._driver._progress import ProgressState
from hyperdeme.launchers._allocation import (
    AllocationState,
    Renewals,
    ended_error,
    report_status,
    status_listener,
)
from hyperdeme.launchers._slurm import SlurmOptions
from hyperdeme.launchers._slurm_allocation import SlurmAllocation


def test_defaults() -> None:
    options = SlurmOptions()
    assert (options.renewals, options.alloc_wait) == (3, math.inf)
    assert (options.tasks_per_node, options.single_task) == (1, False)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"alloc_wait": 0}, "launcher_options['alloc_wait'] must be a number > 0 (seconds)"),
        ({"alloc_wait": -5}, "got -5"),
        ({"renewals": -1}, "launcher_options['renewals'] must be an integer >= 0"),
        ({"tasks_per_node": 0}, "launcher_options['tasks_per_node'] must be an integer >= 1"),
        ({"single_task": True, "tasks_per_node": 2}, "must stay 1, got 2"),
        ({"renewal": 2}, "did you mean 'renewals'"),
    ],
)
def test_bad_options_are_refused_when_the_evaluator_is_built(
    extra: dict[str, object], words: str
) -> None:
    with pytest.raises(hyperdeme.ConfigError, match="launcher_options") as caught:
        hyperdeme.Evaluator("true", workload_manager="slurm", nodes=1, launcher_options=extra)
    assert words in str(caught.value)


def test_options_from_an_experiment_file(tmp_path: Path) -> None:
    from hyperdeme._cli._experiment import load_experiment

    path = tmp_path / "exp.toml"
    path.write_text(
        'command = "true"\n[evaluator]\nworkload_manager = "slurm"\nnodes = 2\n'
        "[evaluator.launcher_options]\nrenewals = 0\nalloc_wait = 600\ntasks_per_node = 4\n"
        '[optimizer]\ntype = "random"\nnum_iters = 1\n[params."--x"]\nrange = [0.0, 1.0]\n'
    )
    experiment = load_experiment(path)
    extra = experiment.optimizer.evaluator.config.launch.extra
    assert SlurmOptions(**extra) == SlurmOptions(renewals=0, alloc_wait=600, tasks_per_node=4)


class Answers(SlurmAllocation):
    """Slurm commands answered from a table instead of a cluster."""

    def __init__(self, answers: dict[tuple[str, ...], tuple[int, str, str]]) -> None:
        super().__init__(env={}, nodes=1, minutes=1, extra="")
        self.answers = answers

    async def slurm(self, *argv: str) -> tuple[int, str, str]:
        return self.answers.get(argv, (1, "", "unexpected"))


@pytest.mark.parametrize(
    ("state", "never"),
    [("DOWN+NOT_RESPONDING", True), ("DRAIN", True), ("ALLOCATED", False), ("IDLE", False)],
)
async def test_req_node_not_avail_never_clears_when_its_nodes_are_down(
    state: str, never: bool
) -> None:
    show = ("scontrol", "show", "node", "-o", "n2")
    allocation = Answers({show: (0, f"NodeName=n2 Arch=x86_64 State={state} CPUs=4\n", "")})
    assert await allocation._never_clears("ReqNodeNotAvail, UnavailableNodes:n2") is never
    assert await allocation._never_clears("PartitionNodeLimit")
    assert not await allocation._never_clears("Resources")
    assert not await allocation._never_clears("Priority")


def test_the_progress_line_says_what_the_run_waits_for() -> None:
    state = ProgressState(
        done=0, budget=8, running=0, failed=0, best_fom=math.inf, elapsed=3.0,
        remaining=None, status="pending: Resources",
    )  # fmt: skip
    assert state.describe().startswith("pending: Resources · 0/8 trials")


def test_status_reaches_the_listener_only_while_listening() -> None:
    shown: list[str | None] = []
    with status_listener(shown.append):
        report_status("pending: Priority")
        report_status(None)
    report_status("pending: Resources")
    assert shown == ["pending: Priority", None]


def test_the_ended_error_names_the_job_why_and_how_to_continue() -> None:
    state = AllocationState("20", "TIMEOUT", "ended", "TimeLimit", "its time limit ran out")
    renewals = Renewals(3)
    renewals.take()
    error = ended_error(
        state, scheduler="Slurm", owned=True, renewals=renewals, note="renewing it failed: no"
    )
    assert str(error).startswith(
        "Slurm job 20 (hyperdeme's allocation, after 1 of 3 renewals) ended: its time limit "
        "ran out (TIMEOUT, TimeLimit); renewing it failed: no. The evaluations it cut short "
        "are journalled as interrupted"
    )
    assert "resume=True (`hyperdeme run --resume`)" in str(error)
    assert (error.allocation, error.state) == ("20", "TIMEOUT")
    assert error.reason == "its time limit ran out"
    users = ended_error(state, scheduler="Slurm", owned=False)
    assert "(the allocation this run was started in)" in str(users)
