"""Racing drivers: one experiment, one driver; a second is refused at once, naming the first.

Injected: two real driver processes (``kernels/fault_driver.py``, blocking form,
``resume=True``, asyncio and trio) on the same experiment, released at the same
instant (each waits on its stdin after start-up), 4 times per backend, or the
second arriving while the first runs, 2 times per backend. Exactly one runs the
experiment to its end; the other exits with JournalError naming the holder's pid
and host while the first still runs; the journal holds one header and each trial
started once and finished once (nothing interleaved); each trial was evaluated
once. Then the lock itself, stressed: a driver arriving while another takes or
releases the lock is still told who holds it.
"""

from __future__ import annotations

import socket
import subprocess
import textwrap
import time
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process

from hyperdeme import JournalError
from hyperdeme._engine._lock import ExperimentLock

from .support import (
    PYTHON,
    await_for,
    driver_argv,
    reported,
    side_log,
    snapshot,
    survivors,
    trial_records,
)

NUM_ITERS = 30


async def start(argv: list[str], stderr: Path) -> Process:
    with stderr.open("wb") as err:
        return await anyio.open_process(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err
        )


async def ready(driver: Process) -> None:
    """Wait for the driver's "ready" line: it has started up and waits for "go"."""
    assert driver.stdout is not None
    said = b""
    with anyio.fail_after(30):
        while not said.endswith(b"\n"):
            said += await driver.stdout.receive()
    assert said == b"ready\n"


@pytest.mark.parametrize(
    ("when", "repeat"),
    [*(("together", r) for r in range(4)), *(("mid-run", r) for r in range(2))],
)
async def test_of_two_racing_drivers_one_runs_the_other_is_refused_at_once(
    tmp_path: Path, src: Path, marker: str, anyio_backend: str, when: str, repeat: int
) -> None:
    run, side = tmp_path / "run", tmp_path / "side"
    journal = run / "exp" / "trials.jsonl"

    def argv(name: str) -> list[str]:
        return driver_argv(
            run, marker, src, anyio_backend, "--resume", "--go", kernel="--sleep=0.1",
            side_log=side, report=tmp_path / f"report-{name}", num_iters=NUM_ITERS,
        )  # fmt: skip

    drivers = {name: await start(argv(name), tmp_path / f"stderr-{name}") for name in "ab"}
    try:
        for driver in drivers.values():
            await ready(driver)
        if when == "together":
            for driver in drivers.values():  # back to back: both reach the lock at once
                assert driver.stdin is not None
                await driver.stdin.send(b"go\n")
        else:
            assert drivers["a"].stdin is not None
            await drivers["a"].stdin.send(b"go\n")
            await await_for(lambda: trial_records(journal) >= 5, within=30, what="a running")
            assert drivers["b"].stdin is not None
            await drivers["b"].stdin.send(b"go\n")
        await await_for(
            lambda: any(d.returncode is not None for d in drivers.values()),
            within=30,
            what="a driver ending",
        )
        [loser] = [name for name, d in drivers.items() if d.returncode is not None]
        winner = "b" if loser == "a" else "a"
        running = drivers[winner].returncode is None  # refused at once: the winner runs on
        with anyio.fail_after(60):
            await drivers[winner].wait()
    finally:
        for driver in drivers.values():
            if driver.returncode is None:
                driver.kill()
            await driver.aclose()  # waits for it, and closes its pipes

    case = f"{when} #{repeat}: driver {loser} lost"
    refusal = (tmp_path / f"stderr-{loser}").read_text()
    assert drivers[loser].returncode == 1, f"{case}\n{refusal}"
    assert running, f"{case}: the loser ended only after the winner"
    last = refusal.strip().splitlines()[-1]
    holder = f"pid {drivers[winner].pid} on host {socket.gethostname()} since"
    assert last.startswith("hyperdeme.JournalError: the experiment"), f"{case}\n{refusal}"
    assert drivers[winner].returncode == 0, (tmp_path / f"stderr-{winner}").read_text()

    shot = snapshot(journal)  # a started id twice or a broken line fails here
    assert len(shot.of_type("experiment")) == 1, case
    assert shot.of_type("resumed") == [], case
    assert sorted(shot.started) == sorted(shot.finished) == list(range(1, NUM_ITERS + 1))
    assert len(shot.of_type("trial")) == NUM_ITERS, case
    said = [entry["id"] for entry in reported(tmp_path / f"report-{winner}")]
    assert said == [t.id for t in shot.finished.values()], case
    assert reported(tmp_path / f"report-{loser}") == [], case
    evaluated = sorted(entry[0] for entry in side_log(side))
    assert evaluated == list(range(1, NUM_ITERS + 1)), f"{case}: evaluated {evaluated}"
    assert await survivors(marker, str(run), within=1.5) == [], case
    assert holder in last, f"{case}: the refusal does not name the holder: {last}"


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from hyperdeme import JournalError
    from hyperdeme._engine._lock import ExperimentLock
    directory, until = Path(sys.argv[1]), time.monotonic() + float(sys.argv[2])
    print("ready", flush=True)
    stop = directory / "stop"  # made by the test when it has tried enough
    while time.monotonic() < until and not stop.exists():  # drivers, shortened to 1 ms
        try:
            lock = ExperimentLock(directory)
        except JournalError:  # the test process holds it this instant: try again
            continue
        time.sleep(0.001)
        lock.close()
    """
)


def test_a_driver_refused_while_another_takes_or_releases_the_lock_is_told_who(
    tmp_path: Path,
) -> None:
    """A holder process takes the lock of an experiment, holds it 1 ms, releases it, over
    and over (consecutive drivers, shortened); meanwhile this process tries to take it. Every
    refusal must name the holder's pid and host: there is no moment at which the lock
    is held but its holder unknown."""
    directory = tmp_path  # an experiment directory: only its .lock is used
    with subprocess.Popen(
        [PYTHON, "-c", HOLDER, str(directory), "20"], stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "ready\n"
        refusals: list[str] = []
        # a second of tries, and (on a loaded machine, where the two processes may rarely
        # run at once) until 50 refusals were seen; the holder outlives both
        start = time.monotonic()
        while time.monotonic() < start + 1.0 or (
            len(refusals) < 50 and time.monotonic() < start + 15
        ):
            try:
                ExperimentLock(directory).close()
            except JournalError as error:
                refusals.append(str(error))
        (directory / "stop").touch()
        holder.wait(timeout=10)
    assert holder.returncode == 0, "the holder process failed"
    named = f"(pid {holder.pid} on host {socket.gethostname()} since"
    anonymous = [r for r in refusals if named not in r]
    assert refusals, "the holder never held the lock while this process tried"
    assert anonymous == [], (
        f"{len(anonymous)} of {len(refusals)} refusals did not name the holder, "
        f"e.g. {anonymous[0]!r}"
    )
