"""Checkpoints trials start from and write: a scratch directory per attempt, atomic commits.

A strategy plans them with a :class:`~hyperdeme.CheckpointPlan` (``slot``
written, ``start_from`` copied in); this module carries the plan out. The
layout under the root (``checkpoint/<experiment>`` when the Evaluator's
``checkpoint`` is set, else ``run_path/<experiment>/checkpoints``)::

    00012/               a trial without a plan: an empty directory of its own, as always
    00017 -> 00017@17    a committed slot: a relative symbolic link to its current version
    00017@17/            that version, written by trial 17
    00017.24.2.tmp/      scratch of trial 24's second attempt at writing slot 00017

Each attempt of a planned trial runs on a fresh scratch directory, a copy of
the committed ``start_from`` version (or empty); ``@checkpoint`` points there,
so a program that crashes mid-save only ever damaged its own scratch, and a
retry starts again from the committed checkpoint. When the attempt succeeds
the scratch is renamed to a version and the slot's link is swapped to it with
``os.replace`` (atomic), then the previous version is deleted: a reader never
sees a half-written slot, and a driver killed at any point leaves the link on
one whole version. A failed attempt's scratch is deleted. Leftovers of a killed
run (scratch directories, versions no link points to) are removed the first
time the store is used.

A checkpoint that has disappeared is never replaced by a start from scratch.
The store knows which slots hold a checkpoint: those it committed, and on
resume those the journal's successful trials committed (:meth:`resume`). An
attempt planned to start from such a slot that is gone (deleted, or the
checkpoint root not mounted) fails without running, its error and
``info["checkpoint_lost"]`` naming the slot and the trial that wrote it (a
strategy then treats that member as failed: PBT replaces it by exploiting
another). A resumed run whose checkpoint root is missing or empty while the
journal says checkpoints were committed is refused before anything runs.

A slot being copied from is never replaced or deleted meanwhile (a
readers-writer lock per slot), and copies, commits and deletions run in worker
threads, never on the event loop. With ``fsync`` the files of a version are
flushed to disk before it is committed, as the journal's records are.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from .._core._errors import ConfigError
from .._core._logging import get_logger
from ._command import CHECKPOINT_TOKEN

if TYPE_CHECKING:
    from .._core._trial import CheckpointPlan, Trial
    from ._evaluator import Evaluator
    from ._workspace import Workspace

__all__ = ["CheckpointStore", "Scratch"]

log = get_logger("hyperdeme.checkpoints")

_VERSION = re.compile(r"^(?P<slot>[A-Za-z0-9][A-Za-z0-9_-]*)@(?P<trial>\d+)$")
#: seconds a cancelled attempt may spend deleting its scratch directory
_TIDY_SECONDS = 10.0


@dataclass(slots=True)
class Scratch:
    """Where one attempt's program reads and writes its checkpoint (``path``; None: no plan).

    ``error`` says why it could not be prepared (the attempt then fails without
    running). :meth:`commit` makes it the slot's checkpoint; otherwise it is
    deleted when the attempt ends.
    """

    path: Path | None = None
    error: str = ""
    committed: bool = False
    _store: CheckpointStore | None = field(default=None, repr=False)
    _slot: str = ""
    _trial_id: int = 0

    async def commit(self) -> str:
        """Commit the scratch as the slot's checkpoint; "" or why it could not be."""
        if self._store is None or self.path is None:
            return ""
        try:
            await self._store._commit(self._slot, self._trial_id, self.path)
        except OSError as error:
            return f"the checkpoint could not be committed as slot {self._slot!r}: {error}"
        self.committed = True
        return ""


class _ReadWriteLock:
    """Many readers or one writer; a waiting writer keeps new readers out (no starvation)."""

    def __init__(self) -> None:
        self._gate = anyio.Lock()  # held by a writer, and by a reader while it enters
        self._readers = 0
        self._idle = anyio.Event()
        self._idle.set()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[None]:
        async with self._gate:
            if self._readers == 0:
                self._idle = anyio.Event()
            self._readers += 1
        try:
            yield
        finally:
            self._readers -= 1
            if self._readers == 0:
                self._idle.set()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        async with self._gate:
            await self._idle.wait()
            yield


class CheckpointStore:
    """Carries out the strategies' checkpoint plans under ``root``; see the module docstring.

    ``enabled`` is False when nothing could use a checkpoint (a command
    without ``@checkpoint``, a function without a ``checkpoint`` parameter):
    plans are then ignored.
    """

    def __init__(self, root: Path, *, enabled: bool = True, fsync: bool = False) -> None:
        self.root = root
        self.enabled = enabled
        self.fsync = fsync
        self._locks: dict[str, _ReadWriteLock] = {}
        self._tidied: anyio.Event | None = None
        #: slot -> the trial that committed what it holds (known to hold a checkpoint)
        self._holding: dict[str, int] = {}

    def resume(self, finished: Sequence[Trial]) -> None:
        """Learn which slots a resumed run's finished trials committed; ConfigError when
        the checkpoint root holds none of it (not mounted?), before anything runs."""
        if not self.enabled:
            return
        for trial in finished:
            slot = trial.info.get("checkpoint")
            if trial.status == "ok" and isinstance(slot, str):
                self._holding[slot] = trial.id
        if self._holding and not (self.root.is_dir() and any(self.root.iterdir())):
            last = max(self._holding.values())
            raise ConfigError(
                f"cannot resume: the checkpoint root {self.root} is missing or empty, but the "
                f"journal records {len(self._holding)} committed checkpoint(s) (the last by "
                f"trial {last}); mount or restore it (the Evaluator's checkpoint setting "
                "names it), or the members would silently train again from scratch.",
                name="checkpoint",
                value=str(self.root),
            )

    @classmethod
    def for_run(cls, evaluator: Evaluator, workspace: Workspace) -> CheckpointStore:
        command = not evaluator.is_callable and CHECKPOINT_TOKEN in evaluator.cmd
        enabled = command or evaluator.takes_checkpoint
        durable = evaluator.config.fsync == "always"  # flush each committed checkpoint too
        return cls(workspace.checkpoint_base, enabled=enabled, fsync=durable)

    # ------------------------------------------------------------------ the runner's hooks
    async def directory(self, trial: Trial) -> str | None:
        """What ``@checkpoint`` names in the trial's command before its first attempt.

        None when checkpoints are off; a trial without a plan gets (and keeps)
        its own empty directory; a planned trial names its slot until an
        attempt replaces that with its scratch directory.
        """
        if not self.enabled:
            return None
        plan = _plan(trial)
        if plan is not None:
            return str(self.root / plan.slot)
        path = self.root / f"{trial.id:05d}"
        await anyio.to_thread.run_sync(lambda: path.mkdir(parents=True, exist_ok=True))
        return str(path)

    @asynccontextmanager
    async def attempt(self, trial: Trial) -> AsyncIterator[Scratch]:
        """The scratch directory of the trial's current attempt (``trial.attempts``).

        Records in ``trial.info`` the slot it writes (``checkpoint``) and the
        trial whose committed checkpoint was copied in (``checkpoint_from``,
        None for an empty start). Deleted on exit unless committed.
        """
        plan = _plan(trial)
        if not self.enabled or plan is None:
            yield Scratch()
            return
        await self._tidy_once()
        path = self.root / f"{plan.slot}.{trial.id}.{trial.attempts}.tmp"
        scratch = Scratch(path, _store=self, _slot=plan.slot, _trial_id=trial.id)
        source: int | None = None
        lost: dict[str, object] = {}
        try:
            try:
                source = await self._copy_in(plan.start_from, path)
            except _Lost as gone:
                scratch.error = str(gone)
                lost = {"checkpoint_lost": {"slot": gone.slot, "trial": gone.trial_id}}
                log.warning("checkpoint.lost", slot=gone.slot, trial_id=gone.trial_id)
            except OSError as error:
                scratch.error = (
                    f"the checkpoint of slot {plan.start_from!r} could not be copied to "
                    f"{path}: {error}"
                )
            # a new dict: the candidate's info is shared with the trial, not to be changed
            trial.info = {
                **trial.info,
                "checkpoint": plan.slot,
                "checkpoint_from": source,
                **lost,
            }
            yield scratch
        finally:
            if not scratch.committed:
                with anyio.move_on_after(_TIDY_SECONDS, shield=True):
                    await anyio.to_thread.run_sync(_remove, path, abandon_on_cancel=True)

    async def release(self, slots: Sequence[str]) -> None:
        """Delete committed slots no trial will start from any more."""
        if not self.enabled:
            return
        for slot in slots:
            async with self._lock(slot).writing():
                await anyio.to_thread.run_sync(self._remove_slot, slot)
            self._holding.pop(slot, None)
            log.debug("checkpoint.released", slot=slot)

    # ------------------------------------------------------------------ reading a slot
    def committed(self, slot: str) -> int | None:
        """The id of the trial whose checkpoint ``slot`` holds, or None when it holds none."""
        version = _version_of(self.root / slot)
        return None if version is None else version[1]

    async def _copy_in(self, start_from: str | None, scratch: Path) -> int | None:
        if start_from is None:
            await anyio.to_thread.run_sync(_fresh, scratch, None)
            return None
        async with self._lock(start_from).reading():
            source = await anyio.to_thread.run_sync(self._copy, start_from, scratch)
        log.debug("checkpoint.copied", slot=start_from, source=source, scratch=str(scratch))
        return source

    def _copy(self, slot: str, scratch: Path) -> int | None:
        version = _version_of(self.root / slot)
        if version is None and slot in self._holding:  # committed, and gone since
            raise _Lost(slot, self._holding[slot], self.root)
        if version is None:  # never committed (its trials failed): start empty
            _fresh(scratch, None)
            return None
        _fresh(scratch, self.root / version[0])
        return version[1]

    # ------------------------------------------------------------------ writing a slot
    async def _commit(self, slot: str, trial_id: int, scratch: Path) -> None:
        async with self._lock(slot).writing():
            await anyio.to_thread.run_sync(self._swap, slot, trial_id, scratch)
        self._holding[slot] = trial_id
        log.debug("checkpoint.committed", slot=slot, trial_id=trial_id)

    def _swap(self, slot: str, trial_id: int, scratch: Path) -> None:
        if self.fsync:
            _fsync_tree(scratch)
        version = self.root / f"{slot}@{trial_id}"
        _remove(version)  # only a killed run can have left one behind
        os.rename(scratch, version)
        link = self.root / slot
        previous = _version_of(link)
        staged = self.root / f"{slot}.{trial_id}.link.tmp"
        staged.unlink(missing_ok=True)
        os.symlink(version.name, staged)  # relative: the root may be mounted elsewhere
        os.replace(staged, link)
        if self.fsync:
            _fsync(self.root)
        if previous is not None and previous[0] != version.name:
            _remove(self.root / previous[0])

    def _remove_slot(self, slot: str) -> None:
        link = self.root / slot
        version = _version_of(link)
        if version is None:
            return
        link.unlink()
        _remove(self.root / version[0])

    # ------------------------------------------------------------------ housekeeping
    def _lock(self, slot: str) -> _ReadWriteLock:
        lock = self._locks.get(slot)
        if lock is None:
            lock = self._locks[slot] = _ReadWriteLock()
        return lock

    async def _tidy_once(self) -> None:
        if self._tidied is not None:
            await self._tidied.wait()
            return
        self._tidied = anyio.Event()
        try:
            await anyio.to_thread.run_sync(self._tidy)
        finally:
            self._tidied.set()

    def _tidy(self) -> None:
        """Remove what a killed run left: scratch directories and unlinked versions."""
        self.root.mkdir(parents=True, exist_ok=True)
        linked = set()
        entries = list(os.scandir(self.root))
        for entry in entries:
            if entry.is_symlink() and not entry.name.endswith(".tmp"):
                version = _version_of(Path(entry.path))
                if version is not None:
                    linked.add(version[0])
        for entry in entries:
            match = _VERSION.match(entry.name)
            if entry.name.endswith(".tmp") or (match and entry.name not in linked):
                _remove(Path(entry.path))
                log.debug("checkpoint.leftover_removed", path=entry.path)


class _Lost(Exception):
    """A slot known to hold a checkpoint holds none any more."""

    def __init__(self, slot: str, trial_id: int, root: Path) -> None:
        super().__init__(
            f"the checkpoint of slot {slot!r} (committed by trial {trial_id}) has disappeared "
            f"from {root} (deleted, or the checkpoint root not mounted); the trial was not "
            "started from scratch in its place."
        )
        self.slot = slot
        self.trial_id = trial_id


def _plan(trial: Trial) -> CheckpointPlan | None:
    return trial.candidate.checkpoint if trial.candidate is not None else None


def _version_of(link: Path) -> tuple[str, int] | None:
    """The version a slot's link points to (its name and writer), or None."""
    try:
        target = os.readlink(link)
    except OSError:  # missing, or not a link
        return None
    match = _VERSION.match(target)
    return (target, int(match["trial"])) if match else None


def _fresh(scratch: Path, source: Path | None) -> None:
    """Make ``scratch`` a fresh copy of ``source`` (or an empty directory)."""
    _remove(scratch)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    if source is None:
        scratch.mkdir()
    else:
        shutil.copytree(source, scratch, symlinks=True)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)


def _fsync_tree(top: Path) -> None:
    for directory, _, files in os.walk(top):
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                _fsync(path)
        _fsync(directory)


def _fsync(path: str | Path) -> None:
    """Flush a file's (or a directory's entries') data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
