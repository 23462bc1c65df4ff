"""The launcher protocol: run one prepared evaluation, report how it exited.

A launcher is told *what* to run (a :class:`Job`: a shell command, a working
directory, extra environment, a node count) and *where output goes* (two
:class:`OutputSink` objects the engine owns). It does not parse metrics,
retry, time out or write the journal: the engine does, the same way for every
backend. It is built by its registered factory from a
:class:`~hyperdeme.launchers.LauncherOptions`; the keys of the Evaluator's
``launcher_options`` it reads are the fields of the dataclass it declares as
:attr:`Launcher.launcher_options` (any other key is refused). Call order::

    Launcher.read_extra(options)    # when an Evaluator names it: unknown keys fail early
    Launcher.check_options(options) # likewise: what else this backend cannot use
    launcher = factory(options)
    async with launcher:            # set-up: allocation, detection (optional)
        launcher.total_nodes        # nodes to pack evaluations into, or None
        exit = await launcher.run(job)   # many times, concurrently
    # tear-down: release the allocation, on success, error and cancellation

Cancelling ``run`` (per-evaluation timeout, the whole run stopping) must stop
the work it started: each launcher owns how (SIGTERM to a process group,
``scancel``, ``qdel``, ``kubectl delete``), runs it shielded and bounded, and
re-raises the cancellation.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

from ._extra import read_extra

if TYPE_CHECKING:
    from ._options import LauncherOptions

__all__ = ["Exit", "Job", "Launcher", "OutputSink", "launcher_files"]


class OutputSink(Protocol):
    """Where a launcher writes a stream of the evaluation's output, chunk by chunk."""

    def write(self, data: bytes) -> None: ...


def launcher_files(job: Job, kind: str) -> Path:
    """Where a launcher keeps its files for ``job`` (job scripts, manifests, status)."""
    base = job.directory if job.directory is not None else job.cwd / ".hyperdeme"
    return base / kind


@dataclass(frozen=True, slots=True)
class Job:
    """One attempt of one trial, ready to run."""

    trial_id: int
    attempt: int
    command: str  # shell command, hyperparameter flags already appended and quoted
    cwd: Path
    env: Mapping[str, str]  # extra variables on top of the launcher's environment
    nodes: int  # nodes this evaluation needs (1 for a plain local run)
    stdout: OutputSink
    stderr: OutputSink
    params: Mapping[str, Any] = field(default_factory=dict)  # active params (callables)
    name: str = ""  # stable, human-readable label: "<experiment>-<trial id>"
    #: the trial's own directory (logs; a launcher's job scripts and manifests go
    #: under it), None for in-process evaluations
    directory: Path | None = None
    experiment: str = ""
    function: Callable[[dict[str, Any]], Awaitable[Any] | Any] | None = None
    #: this attempt's own checkpoint directory when the strategy planned one (a command
    #: names it with ``@checkpoint``; a function taking ``checkpoint`` is given it)
    checkpoint: Path | None = None
    #: for an evaluation function taking a trial handle: called on the event loop with
    #: each value it reports (a number or a dict of metrics) and its step (None: the
    #: next); returns True when the trial is to stop (see hyperdeme.TrialContext)
    report_step: Callable[[object, int | None], bool] | None = None
    #: a launcher that packs evaluations onto nodes (``packs_gpus``): the ``gpus=`` ids
    #: every host has, and how many of one host's this evaluation takes (see
    #: :mod:`._packing`); empty when the engine gave it its devices (in ``env``) or none
    device_pool: tuple[str, ...] = ()
    gpus_per_eval: int = 0

    @property
    def gpus(self) -> tuple[str, ...]:
        """The device ids this evaluation holds (``Evaluator(gpus=...)``; empty without).

        A function running in a thread reads them here: its process's environment is
        the driver's, shared by every thread, so no ``CUDA_VISIBLE_DEVICES`` of its own.
        """
        ids = self.env.get("HYPERDEME_GPUS", "")
        return tuple(ids.split(",")) if ids else ()

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment the program runs in: ``base`` (default: this process's
        environment) with the job's extra variables on top."""
        return {**(os.environ if base is None else base), **self.env}


@dataclass(frozen=True, slots=True)
class Exit:
    """How the evaluation's program ended.

    ``returncode`` follows ``subprocess``: negative for a signal. An
    in-process launcher puts the function's return value (a number or a dict
    of metrics) in ``result``; otherwise the engine reads metrics from stdout.
    ``info`` is journalled with the trial (``{"allocation": "20"}``: where it ran).
    """

    returncode: int
    result: object = None
    info: Mapping[str, Any] = field(default_factory=dict)


class Launcher(ABC):
    """Runs evaluations on one kind of machine; see the module docstring."""

    #: the name it runs under ("local", "slurm", ...): the name it is registered
    #: with (``register_launcher``, an entry point), else its class name
    name: ClassVar[str] = ""
    #: the keys of ``launcher_options`` it accepts: a dataclass whose fields are
    #: the keys (with defaults for optional ones), or None: it accepts none
    launcher_options: ClassVar[type[Any] | None] = None
    #: True: it places ``gpus=`` devices itself, per host of its allocation
    #: (``Job.device_pool``); False: the engine holds one pool for the run
    packs_gpus: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__

    @classmethod
    def read_extra(cls, options: LauncherOptions) -> Any:
        """``options.extra`` (the Evaluator's ``launcher_options``) as an instance of
        :attr:`launcher_options`, or None when it declares none.

        Raises :class:`~hyperdeme.ConfigTypeError` for a key it does not accept
        (suggesting the closest one) and what the dataclass raises for a value.
        """
        return read_extra(cls.launcher_options, options.extra, launcher=cls.name)

    @classmethod  # noqa: B027 - an optional hook, no-op by default
    def check_options(cls, options: LauncherOptions) -> None:
        """Raise :class:`~hyperdeme.ConfigError` for options this backend cannot use.

        Called when an Evaluator names this launcher, after :meth:`read_extra`,
        so mistakes surface before any evaluation; checks involving the
        common options (a required image) live here, in the backend.
        """

    @property
    def total_nodes(self) -> int | None:
        """Nodes available to evaluations once entered, or None when not node-bound."""
        return None

    @abstractmethod
    async def run(self, job: Job) -> Exit:
        """Run ``job`` to completion and return how it exited."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, no-op by default
        """Release what ``__aenter__`` acquired. Must be safe to call twice."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
