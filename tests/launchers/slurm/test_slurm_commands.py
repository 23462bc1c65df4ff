"""Slurm command lines and output parsing: pure functions, no cluster needed."""

from __future__ import annotations

import datetime

import pytest

from hyperdeme.launchers._slurm_commands import (
    NEVER_CLEARS,
    NODE_FAILURE,
    allocation_state,
    node_is_down,
    parse_granted,
    parse_job,
    parse_node_states,
    parse_pending,
    parse_steps,
    salloc_argv,
    slurm_environment,
    srun_argv,
)


def test_srun_runs_one_step_on_exactly_the_given_nodes() -> None:
    assert srun_argv(
        jobid=42, nodelist=["n1", "n2"], command="python3 t.py --x=1", name="exp-3.1"
    ) == [
        "srun", "--jobid=42", "--nodes=2", "--nodelist=n1,n2", "--ntasks=2", "--exact",
        "--job-name=exp-3.1", "--kill-on-bad-exit=1", "--output=0",
        "/bin/sh", "-c", "python3 t.py --x=1",
    ]  # fmt: skip


def test_tasks_per_node_multiplies_the_tasks_of_a_step() -> None:
    argv = srun_argv(jobid=1, nodelist=["n1", "n2"], command="c", name="s", tasks_per_node=4)
    assert argv[4:6] == ["--ntasks=8", "--ntasks-per-node=4"]


def test_single_task_runs_one_task_on_the_first_node() -> None:
    argv = srun_argv(jobid=1, nodelist=["n1", "n2"], command="c", name="s", single_task=True)
    assert argv[2:5] == ["--nodes=1", "--nodelist=n1", "--ntasks=1"]


def test_only_rank_0_stdout_is_read_unless_launch_args_redirect_it() -> None:
    assert "--output=0" in srun_argv(jobid=1, nodelist=["a"], command="c", name="s")
    argv = srun_argv(jobid=1, nodelist=["a"], command="c", name="s", launch_args="-o out.%t")
    assert "--output=0" not in argv


def test_launch_args_choosing_tasks_replace_the_default_layout() -> None:
    argv = srun_argv(
        jobid=1, nodelist=["a"], command="c", name="s", launch_args="--ntasks-per-node=4 -c 2"
    )
    assert "--ntasks=1" not in argv
    assert argv[-7:] == ["--output=0", "--ntasks-per-node=4", "-c", "2", "/bin/sh", "-c", "c"]
    assert "--ntasks=1" not in srun_argv(
        jobid=1, nodelist=["a"], command="c", name="s", launch_args="-n8"
    )


def test_salloc_keeps_the_allocation_through_node_failures() -> None:
    assert salloc_argv(nodes=3, minutes=30, name="hd", extra="-p gpu --qos 'high prio'") == [
        "salloc", "--no-shell", "--no-kill", "--exclusive", "--nodes=3", "--time=30",
        "--job-name=hd", "-p", "gpu", "--qos", "high prio",
    ]  # fmt: skip


def test_inherited_job_variables_are_stripped_but_slurm_conf_kept() -> None:
    env = {
        "SLURM_JOB_ID": "7", "SLURM_NTASKS": "4", "SRUN_DEBUG": "3",
        "SLURM_CONF": "/etc/slurm.conf", "PATH": "/bin",
    }  # fmt: skip
    assert slurm_environment(env) == {"SLURM_CONF": "/etc/slurm.conf", "PATH": "/bin"}


def test_parsers() -> None:
    assert parse_granted("salloc: Granted job allocation 123\n") == 123
    assert parse_granted("salloc: error: nope") is None
    job = parse_job("JobId=5 JobName=x JobState=RUNNING Reason=None NodeList=n[1-2] NumNodes=2")
    assert (job.state, job.nodelist) == ("RUNNING", "n[1-2]")
    states = parse_node_states(
        "NodeName=n1 Arch=x86_64 State=IDLE ThreadsPerCore=1\n"
        "NodeName=n2 Arch=x86_64 State=DOWN+NOT_RESPONDING ThreadsPerCore=1\n"
    )
    assert states == {"n1": "IDLE", "n2": "DOWN+NOT_RESPONDING"}
    assert not node_is_down(states["n1"])
    assert node_is_down(states["n2"])
    assert node_is_down("IDLE*")
    assert parse_steps("5.0|exp-1.1-ab\n5.1|exp-2.1-cd\n") == {
        "exp-1.1-ab": "5.0", "exp-2.1-cd": "5.1",
    }  # fmt: skip


def test_node_failure_texts_measured_on_slurm_22_05() -> None:
    for text in (
        "srun: error: Node failure on n2\n",
        "slurmstepd-n1: error: *** STEP 1.7 ON n1 CANCELLED AT 2026-11-27T02:09:01 DUE TO "
        "NODE FAILURE, SEE SLURMCTLD LOG FOR DETAILS ***",
        "srun: error: Task launch for StepId=2.0 failed on node n2: Communication connection "
        "failure",
        "srun: error: Unable to create step for job 1: Requested node configuration is not "
        "available",
    ):
        assert NODE_FAILURE.search(text), text
    for text in (
        "srun: Job 3 step creation temporarily disabled, retrying (Requested nodes are busy)",
        "srun: error: n1: task 0: Exited with exit code 1",
        "Traceback (most recent call last): ValueError: node failure",
    ):
        assert not NODE_FAILURE.search(text), text


@pytest.mark.parametrize(
    ("answer", "phase", "why"),
    [
        ((0, "JobId=5 JobState=RUNNING Reason=None NodeList=n1", ""), "running", ""),
        ((0, "JobId=5 JobState=TIMEOUT Reason=TimeLimit", ""), "ended", "its time limit ran out"),
        ((0, "JobId=5 JobState=CANCELLED Reason=None", ""), "ended", "it was cancelled (scancel)"),
        ((0, "JobId=5 JobState=PREEMPTED Reason=None", ""), "ended", "it was preempted"),
        ((0, "JobId=5 JobState=PENDING Reason=Resources", ""), "pending", ""),
        ((1, "", "slurm_load_jobs error: Invalid job id specified"), "ended", "Slurm no longer"),
    ],
)
def test_allocation_state_from_scontrol(answer: tuple[int, str, str], phase: str, why: str) -> None:
    """Measured on Slurm 22.05: a 1-minute salloc reads ``JobState=TIMEOUT
    Reason=TimeLimit`` once its time is up; a job purged after MinJobAge is unknown."""
    state = allocation_state(5, *answer)
    assert state is not None
    assert (state.id, state.phase) == ("5", phase)
    assert state.why.startswith(why)


def test_a_failed_query_says_nothing_about_the_allocation() -> None:
    assert allocation_state(5, 1, "", "slurm_load_jobs error: Socket timed out") is None


def test_pending_reason_from_squeue() -> None:
    assert parse_pending("12|PENDING|PartitionNodeLimit\n") == ("12", "PartitionNodeLimit")
    assert parse_pending("12|RUNNING|None\n") is None
    assert parse_pending("") is None
    assert "PartitionNodeLimit" in NEVER_CLEARS
    assert "Resources" not in NEVER_CLEARS
    assert "Priority" not in NEVER_CLEARS
    assert "PartitionConfig" not in NEVER_CLEARS  # also while nodes complete a job


def test_a_job_past_its_end_time_has_ended_although_it_reads_running() -> None:
    """Measured on 22.05: up to 30 s past EndTime a job still reads RUNNING, and Slurm
    already refuses its steps ("Job/step already completing or completed")."""
    line = "JobId=18 JobState=RUNNING Reason=None EndTime=2026-12-07T06:29:42 NodeList=n1"
    end = datetime.datetime(2026, 12, 7, 6, 29, 42).timestamp()
    before = allocation_state(18, 0, line, "", now=end - 1)
    after = allocation_state(18, 0, line, "", now=end + 5)
    assert before is not None
    assert before.phase == "running"
    assert after is not None
    assert (after.phase, after.state) == ("ended", "TIMEOUT")
    unlimited = allocation_state(18, 0, line.replace("2026-12-07T06:29:42", "Unknown"), "")
    assert unlimited is not None
    assert unlimited.phase == "running"
