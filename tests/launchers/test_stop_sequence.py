"""How a local program is stopped, as the program sees it: SIGTERM, the grace period, SIGKILL.

The program traps SIGTERM and writes down what it received to a file, so each
test observes the sequence from the receiving end; "ready" on its stdout (an
event, not a sleep) says when its handler is installed.
"""

from __future__ import annotations

import signal
import sys
import textwrap
from pathlib import Path

import anyio

from hyperdeme._engine._sinks import LogSink
from hyperdeme.launchers import _spawn, run_process
from hyperdeme.launchers._process import _terminate

TRAP = textwrap.dedent(
    """
    import os, signal, sys, time
    notes = open(sys.argv[1], "a", buffering=1)
    mode = sys.argv[2]

    def on_term(signum, frame):
        notes.write("TERM\\n")
        if mode == "cleanup":  # a clean-up that takes a while, then a clean exit
            time.sleep(0.5)
            notes.write("cleaned\\n")
            sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
    print("ready", flush=True)
    while True:
        time.sleep(0.05)
    """
)


class Ready:
    """An output sink that sets an event once the program printed "ready"."""

    def __init__(self) -> None:
        self.seen = b""
        self.event = anyio.Event()

    def write(self, chunk: bytes) -> None:
        self.seen += chunk
        if b"ready" in self.seen:
            self.event.set()


async def stop_when_ready(notes: Path, mode: str, *, grace: float) -> None:
    """Start the trapping program, cancel its run as soon as it is ready."""
    ready = Ready()
    with LogSink(None) as err:
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: run_process(
                    [sys.executable, "-c", TRAP, str(notes), mode],
                    stdout=ready,
                    stderr=err,
                    grace=grace,
                )
            )
            with anyio.fail_after(30):
                await ready.event.wait()
            tg.cancel_scope.cancel()


async def test_sigterm_comes_first_and_the_grace_lets_a_clean_up_finish(tmp_path: Path) -> None:
    """A SIGKILL first (or no grace) would leave "cleaned" unwritten."""
    notes = tmp_path / "notes"
    with anyio.fail_after(30):
        await stop_when_ready(notes, "cleanup", grace=20.0)
    assert notes.read_text().splitlines() == ["TERM", "cleaned"]


async def test_a_program_ignoring_sigterm_gets_sigkill_after_the_grace(tmp_path: Path) -> None:
    """It saw SIGTERM, kept running, and still ended: only SIGKILL can have ended it
    (its handler never exits). ``run_process`` returned, so the group is gone."""
    notes = tmp_path / "notes"
    with anyio.fail_after(30):
        await stop_when_ready(notes, "ignore", grace=0.3)
    assert notes.read_text().splitlines() == ["TERM"]


async def test_the_kill_is_sigkill_seen_as_its_exit_status(tmp_path: Path) -> None:
    """The same sequence, with the exit status observed from outside: -SIGKILL."""
    notes = tmp_path / "notes"
    ready = Ready()
    child = await _spawn.start(
        [sys.executable, "-c", TRAP, str(notes), "ignore"], cwd=tmp_path, env=None
    )
    assert child.stdout is not None
    with anyio.fail_after(30):
        while not ready.event.is_set():
            ready.write(await child.stdout.receive())
    with anyio.fail_after(30):
        await _terminate(child, None, 0.3)
        code = await child.wait()
    await child.stdout.aclose()
    if child.stderr is not None:
        await child.stderr.aclose()
    assert code == -signal.SIGKILL
    assert notes.read_text().splitlines() == ["TERM"]
