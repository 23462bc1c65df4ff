"""The PBS launcher: command builders, output parsers, and runs through stand-ins.

The flow tests here use the stand-in ``qsub``/``qstat``/``qdel``/``pbsdsh`` of
``tests/standins/pbs`` (a spool-directory "server" that runs jobs in the
background and reports them the way PBS Pro, or Torque, does): they are quick and
show what one real host cannot (several hosts, Torque, old PBS Pro, a failing
qstat). The launcher is also tested against a real OpenPBS server in
``tests/launchers/pbs/``; each stand-in test says which real test covers the same.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from structlog.testing import capture_logs

from hyperdeme import ConfigError, LauncherError, LauncherOptions
from hyperdeme.launchers import create
from hyperdeme.launchers._pbs import HOSTS_VARIABLE, PbsLauncher
from hyperdeme.launchers._pbs_commands import (
    JobStatus,
    exports,
    is_exec_failure,
    job_script,
    parse_qstat_full,
    parse_qstat_json,
    parse_qsub_output,
    pbs_job_name,
    pbsdsh_argv,
    qdel_argv,
    qstat_argv,
    qsub_argv,
    read_nodefile,
    remote_command,
    returncode_of,
    walltime,
)
from hyperdeme.launchers._poll import POLL_FAILURES

from .conftest import (
    Evaluation,
    Watch,
    curve_command,
    early_stopping_through,
    gone,
    kernel_command,
    pbt_through,
    put_on_path,
    running,
    search_through,
    survivors,
    wait_for_file,
)

FAST = {"poll_interval": 0.05}

# -- pure builders and parsers --------------------------------------------------


def test_nodefile_hosts_are_unique_in_order_with_their_first_line_index() -> None:
    text = "node-a\nnode-a\nnode-b\n\nnode-a\nnode-c\n"
    assert read_nodefile(text) == {"node-a": 0, "node-b": 2, "node-c": 5}


def test_job_names_are_valid_for_each_flavour() -> None:
    assert pbs_job_name("exp-12.1", "pbspro") == "exp-12.1"
    assert pbs_job_name("3d model/7.2", "pbspro") == "h3d-model-7.2"
    torque = pbs_job_name("a-very-long-experiment-name-123.2", "torque")
    assert len(torque) <= 15
    assert torque[0].isalpha()
    assert torque.endswith("-123.2")


def test_walltime_is_hours_minutes_seconds() -> None:
    assert walltime(30) == "00:30:00"
    assert walltime(90) == "01:30:00"
    assert walltime(6000) == "100:00:00"


def test_batch_script_for_pbs_pro() -> None:
    script = job_script(
        name="exp-3.1",
        command="python3 train.py --lr '0.1'",
        cwd="/scratch/run",
        env={"OMP_NUM_THREADS": "4", "TAG": "a b"},
        nodes=2,
        flavour="pbspro",
        minutes=90,
        status_path="/scratch/run/x.status",
        stdout_path="/scratch/run/x.out",
        stderr_path="/scratch/run/x.err",
    )
    assert script == (
        "#!/bin/sh\n"
        "#PBS -N exp-3.1\n"
        "#PBS -l select=2\n"
        "#PBS -l place=scatter\n"
        "#PBS -l walltime=01:30:00\n"
        "exec > /scratch/run/x.out 2> /scratch/run/x.err\n"
        "cd /scratch/run || exit 1\n"
        "export OMP_NUM_THREADS=4\n"
        "export TAG='a b'\n"
        "/bin/sh -c 'python3 train.py --lr '\"'\"'0.1'\"'\"''\n"
        "status=$?\n"
        "echo $status > /scratch/run/x.status\n"
        "exit $status\n"
    )


def test_batch_script_for_torque_and_user_resources() -> None:
    common: dict[str, Any] = {
        "name": "n", "command": "true", "cwd": "/w", "env": {}, "minutes": 0,
        "status_path": "/w/s", "stdout_path": "/w/o", "stderr_path": "/w/e",
    }  # fmt: skip
    torque = job_script(nodes=3, flavour="torque", **common)
    assert "#PBS -l nodes=3\n" in torque
    assert "walltime" not in torque
    # the user's own node request (alloc_args) replaces ours
    custom = job_script(nodes=2, flavour="pbspro", alloc_args="-l select=2:ncpus=36", **common)
    assert "select" not in custom
    assert "place" not in custom


def test_command_lines() -> None:
    assert qsub_argv("/w/job.pbs", "-q debug -A proj", stdout_path="/w/o", stderr_path="/w/e") == [
        "qsub", "-o", "/w/o", "-e", "/w/e", "-q", "debug", "-A", "proj", "/w/job.pbs",
    ]  # fmt: skip
    assert qstat_argv("7.srv", flavour="pbspro") == ["qstat", "-f", "-F", "json", "-x", "7.srv"]
    assert qstat_argv("7.srv", flavour="pbspro", json_output=False) == [
        "qstat", "-f", "-x", "7.srv",
    ]  # fmt: skip
    assert qstat_argv("7.srv", flavour="torque") == ["qstat", "-f", "7.srv"]
    assert qdel_argv("7.srv") == ["qdel", "7.srv"]
    assert pbsdsh_argv(2, "echo hi") == ["pbsdsh", "-n", "2", "--", "/bin/sh", "-c", "echo hi"]


def test_remote_command_text_and_behaviour(tmp_path: Path) -> None:
    files = {name: tmp_path / name for name in ("out", "err", "status")}
    text = remote_command(
        "echo $GREETING from $(pwd); echo warn >&2; exit 5",
        cwd=tmp_path,
        env={"GREETING": "hello world"},
        stdout_path=files["out"],
        stderr_path=files["err"],
        status_path=files["status"],
    )
    assert text == (
        f"{{ cd {tmp_path} && {{ export GREETING='hello world'; /bin/sh -c "
        "'echo $GREETING from $(pwd); echo warn >&2; exit 5'; }; }"
        f" > {files['out']} 2> {files['err']}; status=$?; echo $status > {files['status']}; "
        "exit $status"
    )
    # run it the way pbsdsh's task would: elsewhere, without the variable
    done = subprocess.run(["/bin/sh", "-c", text], cwd="/", env={"PATH": os.defpath}, check=False)
    assert done.returncode == 5
    assert files["out"].read_text() == f"hello world from {tmp_path}\n"
    assert files["err"].read_text() == "warn\n"
    assert files["status"].read_text() == "5\n"


#: a directory name with spaces and every character a shell treats specially
AWKWARD = "run dir $(touch PWNED) `touch PWNED`; x'y\"z & | <a> #*? ~ !"


def injected(root: Path) -> list[Path]:
    return list(root.rglob("PWNED"))


def test_every_path_key_and_value_of_a_batch_script_is_quoted(tmp_path: Path) -> None:
    """Run the script's body with sh: the directory, the status file and the values reach
    the program literally, nothing is executed, and no path is in a #PBS directive."""
    cwd = tmp_path / AWKWARD
    cwd.mkdir()
    value = 'it\'s "quoted" $(touch PWNED) `touch PWNED`\nsecond line'
    script = job_script(
        name="exp-1.1", command='printf "%s|" "$TAG" "$(pwd)" > out', cwd=cwd,
        env={"TAG": value}, nodes=1, flavour="pbspro", minutes=0,
        status_path=cwd / "exp 1.status", stdout_path=cwd / "exp 1.out",
        stderr_path=cwd / "exp 1.err",
    )  # fmt: skip
    directives = [line for line in script.splitlines() if line.startswith("#PBS")]
    assert directives == ["#PBS -N exp-1.1", "#PBS -l select=1"]
    done = subprocess.run(
        ["/bin/sh", "-c", script], cwd=tmp_path, env={"PATH": os.defpath}, check=False
    )
    assert done.returncode == 0
    assert (cwd / "out").read_text() == f"{value}|{cwd}|"
    assert (cwd / "exp 1.status").read_text() == "0\n"
    assert injected(tmp_path) == []


def test_output_paths_are_qsub_arguments() -> None:
    out, err = f"/scratch/{AWKWARD}/x.out", f"/scratch/{AWKWARD}/x.err"
    argv = qsub_argv(f"/scratch/{AWKWARD}/x.pbs", stdout_path=out, stderr_path=err)
    assert argv == ["qsub", "-o", out, "-e", err, f"/scratch/{AWKWARD}/x.pbs"]


@pytest.mark.parametrize("key", ["A;B", "A B", "1A", "A-B", "A\nB", "$(id)", "A=B"])
def test_keys_no_shell_can_export_are_refused_by_the_builders(key: str) -> None:
    message = f"environment variable name {key!r} cannot be exported by a shell"
    with pytest.raises(ConfigError, match=re.escape(message)):
        exports({key: "1"})
    with pytest.raises(ConfigError, match=re.escape(message)):
        remote_command("true", cwd="/", env={key: "1"}, stdout_path="/o", stderr_path="/e",
                       status_path="/s")  # fmt: skip
    assert exports({"_A1": "a b"}) == ["export _A1='a b'"]


def test_qsub_output_and_qstat_parsers() -> None:
    assert parse_qsub_output("1234.pbs01.cluster\n") == "1234.pbs01.cluster"
    assert parse_qsub_output("Job queued.\n88[].srv\n") == "88[].srv"
    assert parse_qsub_output("qsub: something odd\n") is None
    pbspro = json.dumps({
        "timestamp": 1, "pbs_version": "2022.1.1", "pbs_server": "srv",
        "Jobs": {"7.srv.example.org": {"job_state": "F", "Exit_status": 271}},
    })  # fmt: skip
    assert parse_qstat_json(pbspro, "7.srv") == JobStatus("F", 271)
    assert parse_qstat_json(pbspro, "7.srv").finished  # type: ignore[union-attr]
    running_job = json.dumps({"Jobs": {"8.srv": {"job_state": "R"}}})
    assert parse_qstat_json(running_job, "8.srv") == JobStatus("R", None)
    assert parse_qstat_json("not json", "8.srv") is None
    torque = "Job Id: 9.srv\n    Job_Name = x\n    job_state = C\n    exit_status = 2\n"
    assert parse_qstat_full(torque) == JobStatus("C", 2)
    assert parse_qstat_full(torque).finished  # type: ignore[union-attr]
    pbs_text = "Job Id: 9.srv\n    job_state = F\n    Exit_status = -29\n"
    assert parse_qstat_full(pbs_text) == JobStatus("F", -29)


@pytest.mark.parametrize(
    ("exit_status", "returncode", "exec_failure"),
    [(0, 0, False), (3, 3, False), (137, 137, False), (271, -15, False), (265, -9, False),
     (-29, -9, False), (-24, -9, False), (-1, -1, True), (-3, -3, True)],
)  # fmt: skip
def test_exit_status_mapping(exit_status: int, returncode: int, exec_failure: bool) -> None:
    assert returncode_of(exit_status) == returncode
    assert is_exec_failure(exit_status) is exec_failure


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="poll_interval"):
        PbsLauncher(LauncherOptions(extra={"poll_interval": 0}))
    with pytest.raises(ConfigError, match="pbs_flavour"):
        PbsLauncher(LauncherOptions(extra={"pbs_flavour": "sge"}))


def test_registered_as_pbs() -> None:
    assert isinstance(create("pbs", LauncherOptions()), PbsLauncher)


# -- batch jobs through the stand-in qsub/qstat/qdel -------------------------------


@pytest.fixture
def pbs_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The stand-in PBS tools on PATH, with a fresh spool directory."""
    put_on_path(monkeypatch, "pbs")
    spool = tmp_path / "spool"
    monkeypatch.setenv("PBS_STANDIN_SPOOL", str(spool))
    for variable in ("PBS_NODEFILE", "PBS_JOBID", "PBS_ENVIRONMENT"):
        monkeypatch.delenv(variable, raising=False)
    return spool


def spool_jobs(spool: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted((spool / "jobs").glob("*.json"))]


async def test_batch_job_runs_and_its_metric_is_scanned(
    pbs_server: Path, evaluation: Callable[..., Evaluation]
) -> None:
    """Against the stand-in PBS Pro: qsub, qstat -F json polls, output copied. Real server:
    tests/launchers/pbs/test_pbs_search.py (genetic search, FoMs from the jobs' output);
    the env values and stderr here are the stand-in's only."""
    ev = evaluation(
        kernel_command("--show", "TRIAL_TAG", "--stderr", "to stderr"), env={"TRIAL_TAG": "t 1"}
    )
    settings = LauncherOptions(alloc_timeout=5, alloc_args="-q workq", extra=FAST)
    async with PbsLauncher(settings) as launcher:
        assert launcher.flavour == "pbspro"  # from qsub --version
        assert launcher.total_nodes is None
        exit_ = await launcher.run(ev.job)
    assert exit_.returncode == 0
    assert ev.metrics() == {"FoM": 1.25}
    assert "TRIAL_TAG=t 1\n" in ev.output
    assert f"cwd={ev.job.cwd}\n" in ev.output  # the script cd's to the job's directory
    assert ev.errors == "to stderr\n"
    [job] = spool_jobs(pbs_server)
    assert job["state"] == "F"
    assert job["exit_status"] == 0
    assert job["name"] == "exp-1.1"
    assert job["resources"] == {"select": "1", "walltime": "00:05:00"}
    script = (ev.job.cwd / ".hyperdeme" / "pbs" / "exp-1.1.pbs").read_text()
    assert "#PBS -l select=1\n" in script


async def test_batch_job_failure_exit_code_is_propagated(
    pbs_server: Path, evaluation: Callable[..., Evaluation]
) -> None:
    """Against the stand-in PBS Pro: Exit_status 3 from qstat becomes returncode 3. Real
    server: an Exit_status other than 0 or 271 is not produced there; pbsdsh's failing
    task is (test_pbs_allocation.py)."""
    ev = evaluation(kernel_command("--exit", "3"))
    async with PbsLauncher(LauncherOptions(extra=FAST)) as launcher:
        exit_ = await launcher.run(ev.job)
    assert exit_.returncode == 3
    assert ev.metrics() == {"FoM": 1.25}


def program_on_a_private_path(tmp_path: Path) -> dict[str, str]:
    """This environment, with a directory holding ``hd-train`` (prints a FoM) first on
    PATH: a program a job finds only with the driver's PATH."""
    bin_dir = tmp_path / "private bin"
    bin_dir.mkdir()
    program = bin_dir / "hd-train"
    program.write_text('#!/bin/sh\necho "FoM: 0.5"\n')
    program.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


async def test_a_batch_job_finds_programs_on_the_drivers_path(
    pbs_server: Path, evaluation: Callable[..., Evaluation], tmp_path: Path
) -> None:
    """Against the stand-in, which gives a job the MOM's PATH as OpenPBS does (measured);
    the real server is tested with ``python`` found on the driver's PATH in
    tests/launchers/pbs/test_pbs_search.py."""
    environ = program_on_a_private_path(tmp_path)
    ev = evaluation("hd-train")
    async with PbsLauncher(LauncherOptions(extra=FAST), environ=environ) as launcher:
        exit_ = await launcher.run(ev.job)
    assert exit_.returncode == 0, ev.errors
    assert ev.metrics() == {"FoM": 0.5}


async def test_cancelled_batch_job_is_deleted(
    pbs_server: Path, evaluation: Callable[..., Evaluation], tmp_path: Path
) -> None:
    """Against the stand-in PBS: cancelling run() qdels the job, whose program is then
    gone, and the cancellation propagates. Real server: SIGTERM of the driver and
    eval_timeout delete the job (tests/launchers/pbs/test_pbs_stopping.py)."""
    pidfile = tmp_path / "kernel.pid"
    ev = evaluation(kernel_command("--pidfile", str(pidfile), "--hold", "60"))
    async with PbsLauncher(LauncherOptions(extra=FAST)) as launcher:
        scope = anyio.CancelScope()
        finished = False

        async def evaluate() -> None:
            nonlocal finished
            with scope:
                await launcher.run(ev.job)
                finished = True

        async with anyio.create_task_group() as tg:
            tg.start_soon(evaluate)
            pid = int(await wait_for_file(pidfile))
            assert running(pid)
            scope.cancel()
    assert not finished
    assert await gone(pid)
    [job] = spool_jobs(pbs_server)
    assert job["state"] == "F"
    assert job["exit_status"] == 271  # qdel'd: 256 + SIGTERM


async def test_output_reaches_the_engine_while_the_batch_job_runs(
    pbs_server: Path, evaluation: Callable[..., Evaluation], marker: str
) -> None:
    """Against the stand-in PBS, which copies the -o file only at the job's end (PBS Pro's
    default, Keep_Files n): the job writes its own output (exec >), so the first epoch
    arrives while the job runs; cancelling then qdels it. Real server: ASHA stops jobs
    from their first epoch's output (tests/launchers/pbs/test_pbs_stopping.py)."""
    ev = evaluation(curve_command("--epochs=3", "--hang", f"--marker={marker}"))
    watch = Watch(ev.job.stdout, b"epoch 1: FoM: 1.04\n")
    async with PbsLauncher(LauncherOptions(extra=FAST)) as launcher:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(launcher.run, dataclasses.replace(ev.job, stdout=watch))
                with anyio.fail_after(20):
                    await watch.seen.wait()
                assert [job["state"] for job in spool_jobs(pbs_server)] == ["R"]
                scope.cancel()
    [job] = spool_jobs(pbs_server)
    assert (job["state"], job["exit_status"]) == ("F", 271)  # qdel'd
    assert ev.output == "epoch 1: FoM: 1.04\n"  # each byte once
    assert survivors(marker) == []


async def test_torque_is_detected_and_followed_with_text_qstat(
    pbs_server: Path, evaluation: Callable[..., Evaluation], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against the stand-in acting as Torque: -l nodes=, qstat -f text, state C. Stand-in
    only: no Torque is built here (the real OpenPBS flavour is in test_pbs_flavour.py)."""
    monkeypatch.setenv("PBS_STANDIN_FLAVOUR", "torque")
    ev = evaluation(kernel_command("--exit", "2"), nodes=2)
    async with PbsLauncher(LauncherOptions(extra=FAST)) as launcher:
        assert launcher.flavour == "torque"
        exit_ = await launcher.run(ev.job)
    assert exit_.returncode == 2
    assert ev.metrics() == {"FoM": 1.25}
    [job] = spool_jobs(pbs_server)
    assert job["resources"] == {"nodes": "2", "walltime": "00:30:00"}  # alloc_timeout=30


async def test_exit_status_of_a_forgotten_job_comes_from_its_status_file(
    pbs_server: Path, evaluation: Callable[..., Evaluation], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against the stand-in with job history off: qstat says Unknown Job Id once the job
    ends, so the exit status the script recorded is used. Stand-in only: the real server
    runs with job history on."""
    monkeypatch.setenv("PBS_STANDIN_HISTORY", "0")
    ev = evaluation(kernel_command("--exit", "4"))
    settings = LauncherOptions(extra={**FAST, "pbs_flavour": "pbspro"})
    async with PbsLauncher(settings) as launcher:
        exit_ = await launcher.run(ev.job)
    assert exit_.returncode == 4


async def test_pbs_pro_without_json_output_is_followed_with_text_qstat(
    pbs_server: Path, evaluation: Callable[..., Evaluation], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against the stand-in acting as PBS Pro before 18 (qstat has no -F json). Stand-in
    only: the real server is OpenPBS 23, with -F json."""
    monkeypatch.setenv("PBS_STANDIN_JSON", "0")
    ev = evaluation(kernel_command("--exit", "5"))
    async with PbsLauncher(LauncherOptions(extra=FAST)) as launcher:
        assert (await launcher.run(ev.job)).returncode == 5
        assert launcher.batch.json_output is False


async def test_a_batch_job_in_an_awkward_directory(
    pbs_server: Path,
    evaluation: Callable[..., Evaluation],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Against the stand-in PBS Pro: a working directory (and so the script, output and
    status files) with spaces and shell metacharacters; the job runs there, nothing of
    the name is executed. Stand-in only: the real tests use plain directories."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # where the stand-in starts jobs
    (tmp_path / "home").mkdir()
    cwd = tmp_path / AWKWARD
    cwd.mkdir()
    ev = evaluation(kernel_command("--show", "TAG"), cwd=cwd, env={"TAG": "$(touch PWNED)"})
    async with PbsLauncher(LauncherOptions(extra=FAST)) as launcher:
        exit_ = await launcher.run(ev.job)
    assert exit_.returncode == 0
    assert ev.metrics() == {"FoM": 1.25}
    assert f"cwd={cwd}\n" in ev.output
    assert "TAG=$(touch PWNED)\n" in ev.output
    [job] = spool_jobs(pbs_server)
    assert job["stdout"] == str(cwd / ".hyperdeme" / "pbs" / "exp-1.1.pbs.out")
    assert injected(tmp_path) == []


# -- the stand-in is as strict as PBS Pro about where output goes ----------------

_HELD_JOB = """#!/bin/sh
echo to-out
echo to-err >&2
while [ ! -e {go} ]; do sleep 0.02; done
"""


async def _state(spool: Path, state: str) -> dict[str, Any]:
    for _ in range(500):
        jobs = spool_jobs(spool)
        if jobs and jobs[0]["state"] == state:
            return jobs[0]
        await anyio.sleep(0.02)
    raise TimeoutError(f"the stand-in job never reached {state}")


@pytest.mark.parametrize(
    ("keep", "written_while_running", "final_at_end"),
    [
        (None, False, True),  # Keep_Files n: spooled, staged out at the end
        ("n", False, True),
        ("od", True, True),  # direct write of stdout; stderr still staged out
        ("oe", False, False),  # kept on the execution host, never copied
    ],
)
async def test_the_pbs_standin_stages_output_out_at_the_end_unless_k_says_otherwise(
    pbs_server: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keep: str | None,
    written_while_running: bool,
    final_at_end: bool,
) -> None:
    """Like PBS Pro / OpenPBS: the -o file appears only when the job ends, unless -k d
    (direct write) or -k o/e (kept in the home directory of the execution host). Checks
    the stand-in itself; the real server's default staging is met by every real test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    script = tmp_path / "held.sh"
    script.write_text(_HELD_JOB.format(go=tmp_path / "go"))
    out, err = tmp_path / "job.out", tmp_path / "job.err"
    options = ["-k", keep] if keep else []
    argv = ["qsub", "-N", "held", "-o", str(out), "-e", str(err), *options, str(script)]
    assert (await anyio.run_process(argv, check=False)).returncode == 0
    job = await _state(pbs_server, "R")
    assert job["keep"] == (keep or "n")
    for _ in range(50):  # the job writes its line at once; give it the time to
        await anyio.sleep(0.02)
    assert out.exists() == written_while_running
    if written_while_running:
        assert out.read_text() == "to-out\n"
    assert not err.exists()  # stderr is never direct-written here
    (tmp_path / "go").touch()
    await _state(pbs_server, "F")
    assert out.exists() == final_at_end
    if final_at_end:
        assert (out.read_text(), err.read_text()) == ("to-out\n", "to-err\n")
        spooled = [path for path in (pbs_server / "jobs").iterdir() if path.suffix[1:].isupper()]
        assert spooled == []  # the spool copies (.OU, .ER) are gone
    else:
        assert (home / "held.o1").read_text() == "to-out\n"
        assert (home / "held.e1").read_text() == "to-err\n"
        assert not err.exists()


@pytest.mark.parametrize("keep", ["x", "nn", "oo", "on", ""])
def test_the_pbs_standin_refuses_a_bad_keep_value(
    pbs_server: Path, tmp_path: Path, keep: str
) -> None:
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/sh\ntrue\n")
    done = subprocess.run(["qsub", "-k", keep, str(script)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == 2
    assert "illegal -k value" in done.stderr
    assert spool_jobs(pbs_server) == []


@pytest.mark.parametrize("alloc_args", ["-k od", "-k oe", "-j oe"])
async def test_batch_job_output_reaches_the_trial_whatever_keep_files_says(
    pbs_server: Path,
    evaluation: Callable[..., Evaluation],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    alloc_args: str,
) -> None:
    """The job writes its own output (exec >): a user's -k (direct write, or streams kept
    on the execution host) or -j changes nothing of what the trial sees. Stand-in only:
    the real tests use PBS's default Keep_Files."""
    monkeypatch.setenv("HOME", str(tmp_path))
    ev = evaluation(kernel_command("--stderr", "to stderr"))
    async with PbsLauncher(LauncherOptions(alloc_args=alloc_args, extra=FAST)) as launcher:
        assert (await launcher.run(ev.job)).returncode == 0
    assert ev.metrics() == {"FoM": 1.25}
    assert ev.errors == "to stderr\n"


async def test_what_pbs_itself_reports_reaches_the_trial_stderr(
    pbs_server: Path, evaluation: Callable[..., Evaluation], tmp_path: Path
) -> None:
    """PBS's own stream (qsub -e, staged out at the end) is copied after the job's: a
    walltime kill is explained in the trial's stderr log. Real server: a walltime kill
    in tests/launchers/pbs/test_pbs_stopping.py."""
    pidfile = tmp_path / "kernel.pid"
    ev = evaluation(kernel_command("--pidfile", str(pidfile), "--hold", "60"))
    settings = LauncherOptions(alloc_args="-l walltime=1", extra=FAST)
    async with PbsLauncher(settings) as launcher:
        exit_ = await launcher.run(ev.job)
    assert exit_.returncode == -9  # JOB_EXEC_KILL_WALLTIME
    assert "=>> PBS: job killed: walltime exceeded limit 1\n" in ev.errors


@pytest.mark.parametrize(("failures", "succeeds"), [(3, True), (9, False)])
async def test_failing_qstat_calls_are_retried_a_few_times(
    pbs_server: Path,
    evaluation: Callable[..., Evaluation],
    monkeypatch: pytest.MonkeyPatch,
    failures: int,
    succeeds: bool,
) -> None:
    """Against the stand-in PBS whose next N qstat calls fail: a few are retried, too many
    end the attempt with qstat's error; the failures happened. Stand-in only: the real
    server is not made to fail."""
    monkeypatch.setenv("PBS_STANDIN_FAIL_QSTAT", str(failures))
    ev = evaluation(kernel_command())
    async with PbsLauncher(LauncherOptions(extra={**FAST, "pbs_flavour": "pbspro"})) as launcher:
        if succeeds:
            assert (await launcher.run(ev.job)).returncode == 0
        else:
            with pytest.raises(LauncherError, match="cannot connect to server"):
                await launcher.run(ev.job)
    failed = (pbs_server / "PBS_STANDIN_FAIL_QSTAT.log").read_text().splitlines()
    assert len(failed) == min(failures, POLL_FAILURES)
    assert all(line.startswith("-f -F json -x 1.standin") for line in failed)


# -- inside a PBS job: pbsdsh ----------------------------------------------------


@pytest.fixture
def pbs_job(pbs_server: Path, tmp_path: Path) -> dict[str, str]:
    """The environment of a stand-in PBS job holding node-a and node-b."""
    nodefile = tmp_path / "nodefile"
    nodefile.write_text("node-a\nnode-a\nnode-b\nnode-b\n")
    return {
        **os.environ,
        "PBS_NODEFILE": str(nodefile),
        "PBS_JOBID": "42.standin",
        "PBS_ENVIRONMENT": "PBS_BATCH",
        "PBS_STANDIN_JOB_OUTPUT": str(tmp_path / "job-output"),
    }


def spawns(spool: Path) -> list[dict[str, Any]]:
    log = spool / "pbsdsh.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


async def test_concurrent_evaluations_get_different_hosts(
    pbs_server: Path, pbs_job: dict[str, str], evaluation: Callable[..., Evaluation]
) -> None:
    """Against the stand-in pbsdsh (no PBS job here): two evaluations at once run on the
    job's two hosts, with cwd and environment carried in the sh -c text. Stand-in only:
    the real server has one host (its pbsdsh is tested in test_pbs_allocation.py)."""
    evs = [
        evaluation(kernel_command("--show", HOSTS_VARIABLE, "--show", "X", "--fom", str(i)),
                   trial_id=i, env={"X": f"x{i}"})
        for i in (1, 2)
    ]  # fmt: skip
    exits: dict[int, int] = {}
    async with PbsLauncher(LauncherOptions(extra=FAST), environ=pbs_job) as launcher:
        assert launcher.total_nodes == 2

        async def evaluate(ev: Evaluation) -> None:
            exits[ev.job.trial_id] = (await launcher.run(ev.job)).returncode

        async with anyio.create_task_group() as tg:
            for ev in evs:
                tg.start_soon(evaluate, ev)
    assert exits == {1: 0, 2: 0}
    hosts = {ev.output.split(f"{HOSTS_VARIABLE}=")[1].split()[0] for ev in evs}
    assert hosts == {"node-a", "node-b"}
    assert sorted(spawn["node"] for spawn in spawns(pbs_server)) == [0, 2]
    for i, ev in enumerate(evs, start=1):
        assert f"X=x{i}\n" in ev.output
        assert f"cwd={ev.job.cwd}\n" in ev.output
        assert ev.metrics() == {"FoM": float(i)}
    job_output = anyio.Path(pbs_job["PBS_STANDIN_JOB_OUTPUT"])
    assert await job_output.read_text() == ""  # all task output went to the evaluation's files


async def test_multi_node_evaluation_runs_on_its_first_host_and_sees_all(
    pbs_server: Path, pbs_job: dict[str, str], evaluation: Callable[..., Evaluation]
) -> None:
    """Against the stand-in pbsdsh: a 2-node evaluation is told both hosts. Stand-in only:
    the real server has one host."""
    ev = evaluation(kernel_command("--show", HOSTS_VARIABLE), nodes=2)
    async with PbsLauncher(LauncherOptions(extra=FAST), environ=pbs_job) as launcher:
        assert (await launcher.run(ev.job)).returncode == 0
        too_big = evaluation("true", trial_id=2, nodes=3)
        with pytest.raises(ConfigError, match="needs 3 nodes"):
            await launcher.run(too_big.job)
    assert f"{HOSTS_VARIABLE}=node-a,node-b\n" in ev.output
    assert [spawn["node"] for spawn in spawns(pbs_server)] == [0]


async def test_failing_task_status_is_propagated_although_pbsdsh_exits_0(
    pbs_server: Path, pbs_job: dict[str, str], evaluation: Callable[..., Evaluation]
) -> None:
    """Against the stand-in pbsdsh, which like PBS Pro's exits 0 for a failed task. Real
    server: tests/launchers/pbs/test_pbs_allocation.py fails one task on purpose."""
    ev = evaluation(kernel_command("--exit", "6", "--stderr", "bad input"))
    async with PbsLauncher(LauncherOptions(extra=FAST), environ=pbs_job) as launcher:
        exit_ = await launcher.run(ev.job)
    assert exit_.returncode == 6
    assert ev.errors == "bad input\n"


async def test_a_pbsdsh_task_finds_programs_on_the_drivers_path(
    pbs_server: Path,
    pbs_job: dict[str, str],
    evaluation: Callable[..., Evaluation],
    tmp_path: Path,
) -> None:
    """Against the stand-in pbsdsh, whose task gets the job's environment, not the
    driver's; the real server is tested in tests/launchers/pbs/test_pbs_allocation.py."""
    environ = {**pbs_job, "PATH": program_on_a_private_path(tmp_path)["PATH"]}
    ev = evaluation("hd-train")
    async with PbsLauncher(LauncherOptions(extra=FAST), environ=environ) as launcher:
        exit_ = await launcher.run(ev.job)
    assert exit_.returncode == 0, ev.errors
    assert ev.metrics() == {"FoM": 0.5}


async def test_a_pbsdsh_task_in_an_awkward_directory(
    pbs_server: Path,
    pbs_job: dict[str, str],
    evaluation: Callable[..., Evaluation],
    tmp_path: Path,
) -> None:
    """Against the stand-in pbsdsh: the sh -c text carries an awkward working directory and
    its output and status paths literally. Stand-in only: the real tests use plain
    directories."""
    cwd = tmp_path / AWKWARD
    cwd.mkdir()
    ev = evaluation(kernel_command("--show", "TAG"), cwd=cwd, env={"TAG": "`touch PWNED`"})
    environ = {**pbs_job, "HOME": str(tmp_path)}  # where the stand-in starts tasks
    async with PbsLauncher(LauncherOptions(extra=FAST), environ=environ) as launcher:
        assert (await launcher.run(ev.job)).returncode == 0
    assert ev.metrics() == {"FoM": 1.25}
    assert f"cwd={cwd}\n" in ev.output
    assert "TAG=`touch PWNED`\n" in ev.output
    assert injected(tmp_path) == []


async def test_cancelled_pbsdsh_task_is_killed(
    pbs_server: Path,
    pbs_job: dict[str, str],
    evaluation: Callable[..., Evaluation],
    tmp_path: Path,
) -> None:
    """Against the stand-in pbsdsh: terminating pbsdsh kills its (remote) task, and the
    host is free again afterwards. Stand-in only: the real pbsdsh is tested running
    tasks to their end (test_pbs_allocation.py)."""
    pidfile = tmp_path / "kernel.pid"
    ev = evaluation(kernel_command("--pidfile", str(pidfile), "--hold", "60"))
    launcher = PbsLauncher(LauncherOptions(extra=FAST), environ=pbs_job, grace=2)
    async with launcher:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(launcher.run, ev.job)
                pid = int(await wait_for_file(pidfile))
                assert running(pid)
                scope.cancel()
        assert await gone(pid)
        assert launcher._pool.free == len(launcher.hosts)


# -- end to end -------------------------------------------------------------------


async def test_random_search_through_qsub(pbs_server: Path, tmp_path: Path) -> None:
    """hyperdeme.optimize with workload_manager='pbs', against the stand-in PBS (no server
    here): every trial is a batch job. Real server:
    tests/launchers/pbs/test_pbs_search.py."""
    await search_through(tmp_path, workload_manager="pbs", launcher_options=FAST)
    jobs = spool_jobs(pbs_server)
    assert len(jobs) == 4
    assert {job["exit_status"] for job in jobs} == {0}


async def test_early_stopping_qdels_the_hopeless_batch_jobs(
    pbs_server: Path, tmp_path: Path, marker: str
) -> None:
    """hyperdeme.optimize with ASHA through the stand-in PBS: stopped trials are qdel'd.
    Real server: tests/launchers/pbs/test_pbs_stopping.py."""
    with capture_logs() as logs:
        await early_stopping_through(
            tmp_path, marker, workload_manager="pbs", launcher_options=FAST
        )
    assert [job["exit_status"] for job in spool_jobs(pbs_server)] == [0, 271, 271]
    assert len([event for event in logs if event["event"] == "pbs.deleted"]) == 2


@pytest.mark.parametrize("inside_a_job", [False, True])
async def test_a_run_path_with_spaces_and_shell_metacharacters(
    pbs_server: Path,
    pbs_job: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    inside_a_job: bool,
) -> None:
    """hyperdeme.optimize with run_path and src_path under an awkward directory, against
    the stand-in PBS: through qsub (outside a job) and pbsdsh (inside one). Stand-in
    only: the real tests use plain directories."""
    monkeypatch.setenv("HOME", str(tmp_path))  # where the stand-in starts jobs and tasks
    if inside_a_job:
        for variable in ("PBS_NODEFILE", "PBS_JOBID", "PBS_ENVIRONMENT"):
            monkeypatch.setenv(variable, pbs_job[variable])
    awkward = tmp_path / AWKWARD
    awkward.mkdir()
    await search_through(awkward, workload_manager="pbs", launcher_options=FAST)
    logs = sorted((awkward / "run").rglob("stdout.log"))
    assert len(logs) == 4
    assert all("FoM: " in log.read_text() for log in logs)
    if inside_a_job:
        assert len(spawns(pbs_server)) == 4
    else:
        jobs = spool_jobs(pbs_server)
        assert {job["exit_status"] for job in jobs} == {0}
        assert all(job["stdout"].startswith(str(awkward / "run")) for job in jobs)
    assert injected(tmp_path) == []


async def test_random_search_inside_a_pbs_job(
    pbs_server: Path, pbs_job: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hyperdeme.optimize inside a (stand-in) PBS job: auto-detected, trials on its 2
    hosts. Real server: the driver as a PBS job in
    tests/launchers/pbs/test_pbs_allocation.py (one host)."""
    for variable in ("PBS_NODEFILE", "PBS_JOBID", "PBS_ENVIRONMENT"):
        monkeypatch.setenv(variable, pbs_job[variable])
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.delenv("SLURM_JOBID", raising=False)
    await search_through(tmp_path, launcher_options=FAST)
    assert {spawn["host"] for spawn in spawns(pbs_server)} <= {"node-a", "node-b"}
    assert len(spawns(pbs_server)) == 4


async def test_pbt_through_qsub(pbs_server: Path, tmp_path: Path) -> None:
    """Population-based training, every slice a (stand-in) PBS batch job resuming the
    checkpoint the driver copied. Stand-in only: PBT's checkpoint flow does not depend
    on the workload manager."""
    await pbt_through(tmp_path, workload_manager="pbs", launcher_options=FAST)
    assert len(spool_jobs(pbs_server)) == 6


async def test_early_stopping_inside_a_pbs_job_kills_the_pbsdsh_task(
    pbs_server: Path,
    pbs_job: dict[str, str],
    tmp_path: Path,
    marker: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """hyperdeme.optimize with ASHA inside a (stand-in) PBS job: the task's output file is
    followed while it runs, and a stopped task dies with pbsdsh. Stand-in only: the real
    pbsdsh is tested running tasks to their end."""
    for variable in ("PBS_NODEFILE", "PBS_JOBID", "PBS_ENVIRONMENT"):
        monkeypatch.setenv(variable, pbs_job[variable])
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.delenv("SLURM_JOBID", raising=False)
    await early_stopping_through(tmp_path, marker, launcher_options=FAST)
    assert len(spawns(pbs_server)) == 3
