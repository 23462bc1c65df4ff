"""Step reports from a worker process back to the driver, while the function runs.

With ``function_runs_in="process"`` the function runs in one of anyio's worker
processes, whose stdin and stdout carry anyio's own protocol. Its reports take a
channel of their own: per call, the driver listens on a Unix socket in a private
directory (mode 0700: only this user can connect) and serves one connection; the
worker's :class:`ChannelReporter` (pickled with the trial handle) connects on its
first report. Each report is a request and its answer (stop or go on, or the
error a bad value raises), so the worker stops at the rule's step, as a thread
does. Messages are pickles with a 4-byte length: both ends are this program.

Written by hand because :mod:`multiprocessing.connection` authenticates with the
``multiprocessing`` authkey, which anyio's worker processes (started with
``subprocess``) do not share, and its blocking ``accept`` would hold a thread;
here the driver's end is anyio streams on the event loop.
"""

from __future__ import annotations

import pickle
import socket
import struct
import threading
from typing import Any

import anyio
from anyio.abc import SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream

from .._core._errors import ConfigError
from ._trial_context import StepListener

__all__ = ["ChannelReporter", "serve_reports"]

_LENGTH = struct.Struct("!I")
#: a report is a number or a small dict: anything larger is no report
_MAX_MESSAGE = 1 << 20


async def serve_reports(listener: anyio.abc.SocketListener, on_step: StepListener) -> None:
    """Answer the reports of the one worker that connects, until it hangs up.

    Never raises (short of cancellation): a broken connection ends the serving,
    the worker then sees its report fail.
    """
    try:
        stream = await listener.accept()
    except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        return
    async with stream:
        await _answer(stream, on_step)


async def _answer(stream: SocketStream, on_step: StepListener) -> None:
    buffered = BufferedByteReceiveStream(stream)
    while True:
        try:
            (length,) = _LENGTH.unpack(await buffered.receive_exactly(_LENGTH.size))
            if length > _MAX_MESSAGE:
                return
            value, step = pickle.loads(await buffered.receive_exactly(length))
        except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError, OSError):
            return
        except Exception:  # not a report: the worker is told below
            answer: tuple[str, Any] = ("error", "the report could not be read.")
        else:
            try:
                answer = ("stop", on_step(value, step))
            except ConfigError as error:
                answer = ("error", str(error))
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            await stream.send(_LENGTH.pack(len(data)) + data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            return


class ChannelReporter:
    """The worker's end: connects to ``address`` on the first report, then sends each
    report and waits for its answer."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()  # one report at a time: threads of the function

    def __getstate__(self) -> dict[str, Any]:
        return {"address": self.address}  # the socket stays where it was opened

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["address"])  # type: ignore[misc]

    def report(self, value: object, step: int | None) -> bool:
        data = pickle.dumps((value, step), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            with self._lock:
                sock = self._connected()
                sock.sendall(_LENGTH.pack(len(data)) + data)
                (length,) = _LENGTH.unpack(_receive(sock, _LENGTH.size))
                kind, answer = pickle.loads(_receive(sock, length))
        except OSError as error:
            raise ConnectionError(
                f"the report could not reach the driver at {self.address}: {error}"
            ) from None
        if kind == "error":
            raise ConfigError(str(answer))
        return bool(answer)

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    def _connected(self) -> socket.socket:
        if self._socket is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.address)
            except BaseException:
                sock.close()
                raise
            self._socket = sock
        return self._socket


def _receive(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 16))
        if not chunk:
            raise ConnectionResetError("the driver closed the report channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
