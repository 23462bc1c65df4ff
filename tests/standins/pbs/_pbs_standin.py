"""A stand-in PBS server in a spool directory: qsub, qstat, qdel and pbsdsh.

No PBS server can run in the test environment, so these scripts behave like
the real client tools, as far as hyperdeme relies on them:

* ``qsub [options] script`` parses the ``#PBS`` directives (up to the first
  command line) and its options (which win), checks ``-l`` resources and the
  job name, copies the script, prints ``<n>.standin`` and starts the job in
  the background, detached, in the user's home directory (like PBS), with the
  job's state in the spool directory ``$PBS_STANDIN_SPOOL``. ``qsub --version``
  prints ``pbs_version = ...``.
* Output, as PBS Pro / OpenPBS's ``Keep_Files`` (``qsub -k``, default ``n``):
  a stream is spooled while the job runs (``<spool>/jobs/<n>.OU``/``.ER``, the
  MOM's spool) and *staged out* to its ``-o``/``-e`` path only when the job ends
  (also after ``qdel`` or a walltime kill), before the job shows ``F``. With
  ``-k od``/``ed``/``oed`` (direct write) that stream goes straight to its final
  path as the job runs; with ``-k o``/``e``/``oe`` (kept, no ``d``) it stays on the
  execution host as ``$HOME/<name>.o<n>``/``.e<n>`` and is never copied. A ``-k``
  value other than ``n`` or a combination of ``e``, ``o``, ``d`` is refused like
  qsub does (``illegal -k value``). ``-j oe``/``eo`` join the streams. qstat shows
  ``Keep_Files``. Not modelled: ``d`` alone (treated as no stream kept), a
  destination the MOM cannot reach (real PBS falls back to stage-out, or to
  ``undelivered``), sandbox=PRIVATE staging directories.
* The job's environment, like OpenPBS's without ``qsub -V``: ``HOME``, ``LANG``,
  the MOM's ``PATH`` (``/usr/local/bin:/usr/bin:/bin``, not the client's, which is
  ``PBS_O_PATH``), ``PBS_*``; with ``-V`` the client's whole environment.
* ``qstat -f [-F json] [-x] <id>`` reports ``Q``/``R``/``F`` and
  ``Exit_status`` like PBS Pro; finished jobs need ``-x``; unknown ids fail
  with ``Unknown Job Id`` (exit 153, PBSE_UNKJOBID % 256).
* ``qdel <id>`` SIGTERMs the job's process group (SIGKILL after 2 s),
  waits for it to be gone and for the output to be staged out, and records
  ``Exit_status = 271`` (256 + SIGTERM). (Real qdel returns at once; the stand-in
  waits, at most 10 s, so the tests see the end state.)
* ``pbsdsh [-n index | -h host] -- program args`` runs the program as a task of
  the job: in a new session, in the home directory, with only the job's
  environment (PBS_*, HOME, the MOM's PATH as in a job without -V), its output
  going to the *job's* output (``$PBS_STANDIN_JOB_OUTPUT``, else discarded),
  never to pbsdsh's. It prints ``pbsdsh: task 0x00000000 exit status N`` for a
  failed task and exits 0, and kills the task when signalled, like PBS Pro's.
  Every spawn is logged to ``<spool>/pbsdsh.log`` (JSON lines) for the tests.

``PBS_STANDIN_FAIL_QSTAT=N`` makes the next N ``qstat`` calls fail as if the
server did not answer (``Connection refused``, exit 2); the count left is in
``<spool>/PBS_STANDIN_FAIL_QSTAT``, each failure logged in
``<spool>/PBS_STANDIN_FAIL_QSTAT.log``. The server's processes (the job runner)
get the stand-in's settings only, not the client's environment.

Not faithful: jobs run on this host under fake node names (``standin-node<i>``),
at once (no queue wait, no scheduling); ``qdel`` waits for the job's end (real
qdel returns at once); no mail, no ``undelivered`` directory, no job arrays.

``PBS_STANDIN_FLAVOUR=torque`` makes them act like Torque (``Version:`` from
``qsub --version``, ``-l nodes=``, no ``qstat -F json``, state ``C`` and
``exit_status``); ``PBS_STANDIN_HISTORY=0`` makes the server forget finished
jobs (job history disabled); ``PBS_STANDIN_JSON=0`` makes qstat refuse ``-F``
like PBS Pro before 18.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _standin import injected_failure, kill_group, leave_client_cgroup, locked, server_environment

SERVER = "standin"
UNKNOWN_JOB = 153  # PBSE_UNKJOBID (15001) % 256
HISTORY_JOB = 35  # PBSE_HISTJOBID (15139) % 256
MOM_PATH = "/usr/local/bin:/usr/bin:/bin"  # the PATH a job gets without -V (as OpenPBS)
FAIL_QSTAT = "PBS_STANDIN_FAIL_QSTAT"
_ARG_OPTIONS = set("NlojeqAWvMmPSacrkuJ")
_FLAG_OPTIONS = set("VhzIfnx")


def flavour() -> str:
    return os.environ.get("PBS_STANDIN_FLAVOUR", "pbspro")


def spool() -> Path:
    path = os.environ.get("PBS_STANDIN_SPOOL")
    if not path:
        fail("cannot connect to server standin (errno=15010): PBS_STANDIN_SPOOL is not set", 2)
    directory = Path(path)
    (directory / "jobs").mkdir(parents=True, exist_ok=True)
    return directory


def fail(message: str, code: int) -> None:
    print(f"{Path(sys.argv[0]).name}: {message}", file=sys.stderr)
    sys.exit(code)


def job_path(directory: Path, jobid: str) -> Path:
    return directory / "jobs" / f"{jobid.split('.')[0]}.json"


def load(directory: Path, jobid: str) -> dict[str, Any] | None:
    path = job_path(directory, jobid)
    if not re.fullmatch(r"\d+(\.[\w.-]+)?", jobid) or not path.exists():
        return None
    job: dict[str, Any] = json.loads(path.read_text())
    if job["state"] == "F" and os.environ.get("PBS_STANDIN_HISTORY") == "0":
        return None
    return job


def save(directory: Path, job: dict[str, Any]) -> None:
    path = job_path(directory, job["id"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(job))
    tmp.replace(path)


# -- qsub ---------------------------------------------------------------------


def parse_options(words: list[str], options: dict[str, Any]) -> list[str]:
    """getopt-style parsing of qsub options into ``options``; returns the operands."""
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            rest.extend(words[i + 1 :])
            break
        if not word.startswith("-") or word == "-":
            rest.extend(words[i:])
            break
        letter, value = word[1:2], word[2:]
        if letter in _ARG_OPTIONS:
            if not value:
                i += 1
                if i >= len(words):
                    fail(f"option requires an argument -- '{letter}'", 2)
                value = words[i]
            if letter == "l":
                options.setdefault("l", []).extend(value.split(","))
            elif letter == "v":
                options.setdefault("v", []).extend(value.split(","))
            else:
                options[letter] = value
        elif letter in _FLAG_OPTIONS:
            options[letter] = True
        else:
            fail(f"invalid option -- '{letter}'", 2)
        i += 1
    return rest


def directives(script: str) -> list[str]:
    words: list[str] = []
    for line in script.splitlines():
        stripped = line.strip()
        if stripped.startswith("#PBS"):
            words.extend(shlex.split(stripped[4:], comments=False))
        elif stripped and not stripped.startswith("#"):
            break  # directives end at the first command
    return words


def resources(items: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not value:
            fail(f"illegal -l value {item!r}", 2)
        found[key] = value
    if "walltime" in found and not re.fullmatch(r"(\d+:)?(\d+:)?\d+", found["walltime"]):
        fail(f"illegal -l value walltime={found['walltime']}", 2)
    if flavour() == "torque" and "select" in found:
        fail("submit error (Unknown resource type  Resource_List.select)", 1)
    if flavour() == "pbspro" and "nodes" in found:
        fail("-l nodes= is not supported by PBS Pro 20+; use -l select=", 1)
    count = found.get("select") or found.get("nodes") or "1"
    if not re.fullmatch(r"[1-9]\d*(:.*)?", count):
        fail(f"illegal -l value {count!r} for the node request", 2)
    return found


def seconds(walltime: str) -> int:
    total = 0
    for part in walltime.split(":"):
        total = total * 60 + int(part)
    return total


def qsub(argv: list[str]) -> int:
    if argv == ["--version"]:
        print("Version: 6.1.3" if flavour() == "torque" else "pbs_version = 2022.1.1")
        return 0
    directory = spool()
    command_line: dict[str, Any] = {}
    operands = parse_options(argv, command_line)
    if command_line.get("I"):
        fail("interactive jobs are not supported by the stand-in", 2)
    if len(operands) != 1:
        fail("usage: qsub [options] script (the stand-in does not read scripts from stdin)", 2)
    script_path = Path(operands[0])
    try:
        script = script_path.read_text()
    except OSError as error:
        fail(f"script file cannot be loaded - {error}", 2)
    options: dict[str, Any] = {}
    parse_options(directives(script), options)
    for key, value in command_line.items():  # the command line wins over directives
        if key == "l":
            options["l"] = options.get("l", []) + value
        else:
            options[key] = value
    found = resources(options.get("l", []))
    keep = options.get("k", "n")
    if not re.fullmatch(r"n|(?!.*(.).*\1)[eod]{1,3}", keep):
        fail(f"illegal -k value {keep!r} (n, or e, o and d combined)", 2)
    name = options.get("N", script_path.name)
    limit = 15 if flavour() == "torque" else 236
    if not re.fullmatch(r"[A-Za-z][\w.-]*", name) or len(name) > limit:
        fail(f"illegal -N value {name!r}", 2)
    with locked(directory):
        counter = directory / "seq"
        number = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(number))
    jobid = f"{number}.{SERVER}"
    workdir = os.getcwd()
    stdout = options.get("o") or f"{workdir}/{name}.o{number}"
    stderr = options.get("e") or f"{workdir}/{name}.e{number}"
    # Like OpenPBS (measured on the real server): without -V the job gets HOME, LANG
    # and the MOM's own PATH, not the client's, which it sees only as PBS_O_PATH.
    environment = (
        dict(os.environ)
        if options.get("V")
        else {key: os.environ[key] for key in ("HOME", "LANG") if key in os.environ}
    )
    environment.setdefault("PATH", MOM_PATH)
    environment["PBS_O_PATH"] = os.environ.get("PATH", "")
    for item in options.get("v", []):
        key, _, value = item.partition("=")
        environment[key] = value or os.environ.get(key, "")
    (directory / "jobs" / f"{number}.sh").write_text(script)
    nodes = int(re.match(r"\d+", found.get("select") or found.get("nodes") or "1").group())  # type: ignore[union-attr]
    job = {
        "id": jobid, "name": name, "state": "Q", "stdout": stdout, "stderr": stderr,
        "join": options.get("j", ""), "keep": keep,
        "resources": found, "nodes": nodes, "workdir": workdir,
        "env": environment, "walltime": seconds(found["walltime"]) if "walltime" in found else 0,
        "submitted": time.time(), "pid": None,
    }  # fmt: skip
    save(directory, job)
    server = subprocess.Popen(
        [sys.executable, __file__, "run-job", str(directory), jobid],
        env=server_environment("PBS_STANDIN_"),
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
    )
    leave_client_cgroup(server.pid)
    if not options.get("z"):
        print(jobid)
    return 0


def run_job(directory: Path, jobid: str) -> int:
    """The server and MOM: start the job's script, wait for it, record how it ended."""
    with locked(directory):
        job = load(directory, jobid)
        if job is None or job["state"] != "Q":
            return 0  # deleted while queued
        nodefile = directory / "jobs" / f"{jobid.split('.')[0]}.nodes"
        nodefile.write_text("".join(f"standin-node{i}\n" for i in range(1, job["nodes"] + 1)))
        env = {
            **job["env"],
            "PBS_JOBID": jobid, "PBS_JOBNAME": job["name"], "PBS_O_WORKDIR": job["workdir"],
            "PBS_NODEFILE": str(nodefile), "PBS_ENVIRONMENT": "PBS_BATCH", "PBS_QUEUE": "workq",
            "PBS_O_HOST": SERVER,
        }  # fmt: skip
        streams = {letter: live_path(directory, job, letter) for letter in "oe"}
        joined = {"oe": "e", "eo": "o"}.get(job["join"])  # the stream merged into the other
        out = None if joined == "o" else open(streams["o"], "wb")  # noqa: SIM115
        err = None if joined == "e" else open(streams["e"], "wb")  # noqa: SIM115
        stdout = out or err
        stderr = err or out
        assert stdout is not None
        assert stderr is not None
        process = subprocess.Popen(
            ["/bin/sh", str(directory / "jobs" / f"{jobid.split('.')[0]}.sh")],
            cwd=job["env"].get("HOME", "/"),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        job.update(state="R", pid=process.pid, started=time.time())
        save(directory, job)
    try:
        returncode = process.wait(timeout=job["walltime"] or None)
        exit_status = returncode if returncode >= 0 else 256 - returncode
    except subprocess.TimeoutExpired:
        kill_group(process.pid)
        process.wait()
        exit_status = -29 if flavour() == "pbspro" else 271  # JOB_EXEC_KILL_WALLTIME
        stderr.write(f"=>> PBS: job killed: walltime exceeded limit {job['walltime']}\n".encode())
    stdout.close()
    stderr.close()
    with locked(directory):
        job = load(directory, jobid) or job
        if job.get("deleted"):
            exit_status = 256 + signal.SIGTERM
    for letter in "oe":  # stage-out, as the job exits (state E), before F
        if letter != joined:
            stage_out(streams[letter], Path(job["stdout" if letter == "o" else "stderr"]))
    with locked(directory):
        job = load(directory, jobid) or job
        if job["state"] == "R":
            job.update(state="F", exit_status=exit_status, ended=time.time())
            save(directory, job)
    return 0


def live_path(directory: Path, job: dict[str, Any], letter: str) -> Path:
    """Where stream ``letter`` (o, e) is written while the job runs (Keep_Files)."""
    number = job["id"].split(".")[0]
    final = Path(job["stdout" if letter == "o" else "stderr"])
    if letter in job["keep"] and "d" in job["keep"]:
        return final  # direct write
    if letter in job["keep"]:  # kept on the execution host, in the home directory
        return Path(job["env"].get("HOME", "/")) / f"{job['name']}.{letter}{number}"
    return directory / "jobs" / f"{number}.{'OU' if letter == 'o' else 'ER'}"


def stage_out(spooled: Path, final: Path) -> None:
    """Copy a spooled stream to its destination and remove it (nothing for a direct
    write or a kept stream, which are not in the spool)."""
    if spooled.suffix not in (".OU", ".ER") or spooled == final or not spooled.exists():
        return
    try:
        shutil.copyfile(spooled, final)
    except OSError as error:  # PBS would mail the user and keep it in undelivered/
        print(f"stage-out of {spooled} to {final} failed: {error}", file=sys.stderr)
        return
    spooled.unlink()


# -- qstat, qdel ----------------------------------------------------------------


def shown_state(job: dict[str, Any]) -> str:
    return "C" if job["state"] == "F" and flavour() == "torque" else job["state"]


def qstat(argv: list[str]) -> int:
    directory = spool()
    injected_failure(directory, FAIL_QSTAT, "Connection refused\nqstat: cannot connect to server "
                     f"{SERVER} (errno=15010)", 2)  # fmt: skip
    full = json_output = history = False
    ids: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "-f":
            full = True
        elif word == "-x":
            if flavour() == "torque":
                fail("the stand-in does not produce Torque's XML output (-x)", 2)
            history = True
        elif word == "-F":
            if flavour() == "torque" or os.environ.get("PBS_STANDIN_JSON") == "0":
                fail("invalid option -- 'F'\nusage: qstat [-f] [-1] [-W site_specific] [-x]", 2)
            i += 1
            json_output = i < len(argv) and argv[i] == "json"
        else:
            ids.append(word)
        i += 1
    if not full or len(ids) != 1:
        fail("the stand-in supports only qstat -f [-F json] [-x] <job id>", 2)
    jobid = ids[0]
    job = load(directory, jobid)
    if job is None:
        fail(f"Unknown Job Id {jobid}", UNKNOWN_JOB)
    assert job is not None
    if job["state"] == "F" and flavour() == "pbspro" and not history:
        fail(f"{jobid} Job has finished, use -x or -H to obtain historical job information",
             HISTORY_JOB)  # fmt: skip
    fields: dict[str, Any] = {
        "Job_Name": job["name"],
        "Job_Owner": f"{os.environ.get('USER', 'user')}@{SERVER}",
        "job_state": shown_state(job),
        "queue": "workq",
        "server": SERVER,
        "Output_Path": f"{SERVER}:{job['stdout']}",
        "Error_Path": f"{SERVER}:{job['stderr']}",
        "Resource_List": job["resources"],
        "Keep_Files": job.get("keep", "n"),
    }
    if "exit_status" in job:
        fields["exit_status" if flavour() == "torque" else "Exit_status"] = job["exit_status"]
    if json_output:
        print(json.dumps({
            "timestamp": int(time.time()), "pbs_version": "2022.1.1", "pbs_server": SERVER,
            "Jobs": {job["id"]: fields},
        }, indent=4))  # fmt: skip
        return 0
    print(f"Job Id: {job['id']}")
    for key, value in fields.items():
        if isinstance(value, dict):
            for name, item in value.items():
                print(f"    {key}.{name} = {item}")
        else:
            print(f"    {key} = {value}")
    return 0


def qdel(argv: list[str]) -> int:
    directory = spool()
    status = 0
    for jobid in (word for word in argv if not word.startswith("-")):
        with locked(directory):
            job = load(directory, jobid)
            if job is None:
                print(f"qdel: Unknown Job Id {jobid}", file=sys.stderr)
                status = UNKNOWN_JOB
                continue
            if job["state"] == "F":
                print(f"qdel: Job has finished {jobid}", file=sys.stderr)
                status = HISTORY_JOB
                continue
            if job["state"] == "Q":
                job.update(state="F", ended=time.time())
                save(directory, job)
                continue
            job["deleted"] = True
            save(directory, job)
            pid = job["pid"]
        kill_group(pid)
        deadline = time.monotonic() + 10.0  # the server stages the output out, then F
        while time.monotonic() < deadline and (load(directory, jobid) or job)["state"] == "R":
            time.sleep(0.02)
        with locked(directory):
            job = load(directory, jobid) or job
            if job["state"] == "R":  # the server is gone: record the end itself
                job.update(state="F", exit_status=256 + signal.SIGTERM, ended=time.time())
                save(directory, job)
    return status


# -- pbsdsh ---------------------------------------------------------------------


def pbsdsh(argv: list[str]) -> int:
    if "PBS_ENVIRONMENT" not in os.environ:
        fail("not executing under PBS", 1)
    nodefile = os.environ.get("PBS_NODEFILE", "")
    try:
        nodes = [line.strip() for line in Path(nodefile).read_text().splitlines() if line.strip()]
    except OSError:
        fail(f"tm_init failed, rc = TM_ESYSTEM (17000): cannot read {nodefile!r}", 1)
    index: int | None = None
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        option = argv[i]
        if option in ("-n", "-c", "-h"):
            i += 1
            if i >= len(argv):
                fail(f"option requires an argument -- '{option[1]}'", 1)
            value = argv[i]
            if option == "-n":
                index = int(value) % len(nodes)  # PBS Pro wraps: (start + c) % numnodes
            elif option == "-h":
                if flavour() != "torque":
                    fail("invalid option -- 'h'\nUsage: pbsdsh [-n node_index] -- program", 1)
                if value not in nodes:
                    fail(f"host '{value}' is not a node of this job ({', '.join(nodes)})", 1)
                index = nodes.index(value)
        elif option not in ("-s", "-v", "-o"):
            fail(f"invalid option -- '{option[1:]}'", 1)
        i += 1
    if i < len(argv) and argv[i] == "--":
        i += 1
    program = argv[i:]
    if index is None or not program:
        fail("the stand-in supports only pbsdsh -n <index> | -h <host> -- program [args]", 1)
    assert index is not None
    spool_dir = os.environ.get("PBS_STANDIN_SPOOL")
    if spool_dir:
        Path(spool_dir).mkdir(parents=True, exist_ok=True)
        with open(Path(spool_dir) / "pbsdsh.log", "a") as log:
            log.write(json.dumps({"node": index, "host": nodes[index], "argv": program}) + "\n")
    # The MOM starts a task with the job's environment as it began, whatever the job
    # script exported since: PATH is the MOM's (a job without -V, as OpenPBS).
    env = {key: value for key, value in os.environ.items()
           if key.startswith("PBS_") or key in ("HOME", "LANG")}  # fmt: skip
    env["PATH"] = MOM_PATH
    env.update(PBS_NODENUM=str(index), PBS_TASKNUM="1", PBS_VNODENUM=str(index))
    output_path = os.environ.get("PBS_STANDIN_JOB_OUTPUT")
    output = open(output_path, "ab") if output_path else subprocess.DEVNULL  # noqa: SIM115
    task = subprocess.Popen(
        program, cwd=env.get("HOME", "/"), env=env, stdin=subprocess.DEVNULL,
        stdout=output, stderr=output, start_new_session=True,
    )  # fmt: skip

    def forward(signum: int, _frame: Any) -> None:  # tm_kill, then exit 1 like pbsdsh
        kill_group(task.pid)  # not task.wait(): the main thread holds its lock
        with contextlib.suppress(OSError):  # the reader may be gone (C's stdio buffers)
            print(f"pbsdsh: killing task 0x00000000 signal {signum}", flush=True)
        os._exit(1)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    returncode = task.wait()
    if returncode != 0:
        print(f"pbsdsh: task 0x00000000 exit status {returncode}", flush=True)
    return 0


def main() -> int:
    tool = Path(sys.argv[0]).name
    argv = sys.argv[1:]
    if tool == "_pbs_standin.py" and argv[:1] == ["run-job"]:
        return run_job(Path(argv[1]), argv[2])
    return {"qsub": qsub, "qstat": qstat, "qdel": qdel, "pbsdsh": pbsdsh}[tool](argv)


if __name__ == "__main__":
    sys.exit(main())
