"""Following a job's output while it runs: appended files, whole logs read again."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from hyperdeme.launchers._follow import FileFollower, SkipSeen, while_following


class Bytes:
    def __init__(self) -> None:
        self.data = b""
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.data += data
        self.writes += 1


async def test_a_file_is_copied_as_it_grows_each_byte_once(tmp_path: Path) -> None:
    path = tmp_path / "job.out"
    sink = Bytes()
    follower = FileFollower(path, sink)
    assert not await follower.poll()  # not there yet
    path.write_bytes(b"epoch 1: FoM: 0.5\nepoch 2")
    assert await follower.poll()
    assert sink.data == b"epoch 1: FoM: 0.5\nepoch 2"
    with path.open("ab") as file:
        file.write(b": FoM: 0.4\n")
    await follower.poll()
    await follower.poll()  # nothing new
    await follower.finish(wait=False)
    assert sink.data == b"epoch 1: FoM: 0.5\nepoch 2: FoM: 0.4\n"
    assert follower.offset == len(sink.data)


async def test_finishing_without_the_file_warns(tmp_path: Path) -> None:
    with capture_logs() as logs:
        await FileFollower(tmp_path / "missing.out", Bytes()).finish(wait=False)
    assert [event["event"] for event in logs] == ["launcher.output_missing"]


@given(
    log=st.binary(max_size=200),
    reads=st.lists(st.tuples(st.integers(0, 200), st.integers(1, 50)), max_size=6),
)
def test_reading_a_growing_log_again_and_again_delivers_each_byte_once(
    log: bytes, reads: list[tuple[int, int]]
) -> None:
    """Each read delivers a prefix of the log (as long as it was then) in chunks of any
    size; the last read delivers all of it."""
    sink = Bytes()
    output = SkipSeen(sink)
    for length, chunk in [*reads, (len(log), 7)]:
        output.restart()
        prefix = log[: max(length, output.seen)]  # a log never shrinks
        for start in range(0, len(prefix), chunk):
            output.write(prefix[start : start + chunk])
        assert sink.data == prefix
    assert sink.data == log


async def test_the_body_runs_beside_the_follower_and_its_errors_are_plain() -> None:
    ticks: list[int] = []
    started = anyio.Event()

    async def follow() -> NoReturn:
        started.set()
        while True:
            ticks.append(1)
            await anyio.lowlevel.checkpoint()

    async def body() -> str:
        await started.wait()
        return "done"

    assert await while_following(follow, body) == "done"
    assert ticks

    async def failing() -> None:
        raise ValueError("qstat broke")

    with pytest.raises(ValueError, match="qstat broke"):  # not an ExceptionGroup
        await while_following(follow, failing)
