"""The slot scheduler: keep ``slots`` evaluations running, feed results back at once.

One task group, ``slots`` workers reading candidates from a 0-buffer memory
stream; the driver (the task that called :meth:`Scheduler.run`) asks the
strategy for a candidate whenever fewer than ``slots`` are in flight and
tells it each result the moment it arrives, so a steady-state strategy never
makes a slot wait for another slot's evaluation::

    driver --(id, candidate)--> [0-buffer] --> worker x slots --> launcher
      ^                                           |
      +------------ finished Trial <--------------+  (journal written first)

The time budget is a cancel scope around the whole thing: when it expires no
new evaluation starts, running ones are cancelled and journalled as
``cancelled``, and ``run`` returns normally. Cancelling the caller's scope
does the same and re-raises.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._core._errors import EvaluationError
from .._core._logging import get_logger
from .._core._trial import Candidate, Status, Trial
from ..strategies import Strategy
from ._journal import Journal
from ._runner import TrialRunner

__all__ = ["Scheduler"]

log = get_logger("hyperdeme.scheduler")

Emit = Callable[[Trial], Awaitable[None]]


class Scheduler:
    """Runs a strategy's candidates through a :class:`TrialRunner` on ``slots`` slots."""

    def __init__(
        self,
        runner: TrialRunner,
        journal: Journal,
        *,
        slots: int,
        time_budget: float = math.inf,
        first_id: int = 1,
    ) -> None:
        self.runner = runner
        self.journal = journal
        self.slots = slots
        self.time_budget = time_budget
        self._next_id = first_id
        #: the first trials must not all fail: a typo in cmd fails fast
        self.fail_fast_after = max(slots, 3)
        self._finished = 0
        self._seen_ok = False
        self._first_failure: Trial | None = None
        self.expired = False
        #: handed to the workers but not yet taken up by one
        self._issued: dict[int, Trial] = {}

    async def run(self, strategy: Strategy, emit: Emit) -> None:
        cancelled: list[Trial] = []
        send_work, receive_work = anyio.create_memory_object_stream[tuple[Trial, Candidate]](0)
        # room for every trial in flight: a worker never waits to hand in a result
        send_done, receive_done = anyio.create_memory_object_stream[Trial](self.slots)
        try:
            unseen = await self._run(
                strategy, emit, cancelled, send_work, receive_work, send_done, receive_done
            )
        finally:
            # asked for but never started (the run stopped first): cancelled, journalled
            for trial in self._issued.values():
                trial.status = Status.CANCELLED
                self.journal.append(trial)
                cancelled.append(trial)
            self._issued.clear()
        if self.expired:
            log.info("run.time_budget_expired", cancelled=len(cancelled))
        for trial in [*unseen, *sorted(cancelled, key=lambda t: t.id)]:
            strategy.tell(trial)
            await emit(trial)

    async def _run(
        self,
        strategy: Strategy,
        emit: Emit,
        cancelled: list[Trial],
        send_work: MemoryObjectSendStream[tuple[Trial, Candidate]],
        receive_work: MemoryObjectReceiveStream[tuple[Trial, Candidate]],
        send_done: MemoryObjectSendStream[Trial],
        receive_done: MemoryObjectReceiveStream[Trial],
    ) -> list[Trial]:
        """The task group; returns results handed in but not taken when time ran out."""
        failure: EvaluationError | None = None
        with receive_done:
            with anyio.move_on_after(self.time_budget) as budget:
                async with anyio.create_task_group() as tg:
                    for _ in range(self.slots):
                        tg.start_soon(
                            self._worker, receive_work.clone(), send_done.clone(), cancelled
                        )
                    receive_work.close()
                    send_done.close()
                    async with send_work:
                        failure = await self._drive(strategy, emit, send_work, receive_done)
                    if failure is not None:
                        tg.cancel_scope.cancel()
            if failure is not None:
                raise failure
            self.expired = budget.cancelled_caught
            # results handed in but not yet taken by the driver when the budget expired
            return _drain(receive_done)

    async def _drive(
        self,
        strategy: Strategy,
        emit: Emit,
        send_work: ObjectSendStream[tuple[Trial, Candidate]],
        receive_done: ObjectReceiveStream[Trial],
    ) -> EvaluationError | None:
        in_flight = 0
        while True:
            while in_flight < self.slots and (candidate := strategy.ask(self._next_id)):
                trial = self.runner.new_trial(self._next_id, candidate)
                self._next_id += 1
                self._issued[trial.id] = trial
                await send_work.send((trial, candidate))
                in_flight += 1
            if in_flight == 0:
                return None
            trial = await receive_done.receive()
            in_flight -= 1
            strategy.tell(trial)
            await emit(trial)
            failure = self._check_fail_fast(trial)
            if failure is not None:
                return failure

    async def _worker(
        self,
        receive: ObjectReceiveStream[tuple[Trial, Candidate]],
        send: MemoryObjectSendStream[Trial],
        cancelled: list[Trial],
    ) -> None:
        async with receive, send:
            async for trial, _candidate in receive:
                del self._issued[trial.id]  # no checkpoint since the receive: taken up
                try:
                    await self.runner.run(trial)
                except anyio.get_cancelled_exc_class():
                    self.journal.append(trial)  # synchronous: safe while cancelled
                    cancelled.append(trial)
                    raise
                self.journal.append(trial)
                send.send_nowait(trial)  # no checkpoint: a cancellation cannot lose it

    def _check_fail_fast(self, trial: Trial) -> EvaluationError | None:
        if self._seen_ok or trial.status is Status.CANCELLED:
            return None
        # the program ran and reported its FoM (even an infinite one: a diverged
        # training is a result, not a broken command), or was stopped early for it
        if trial.status in (Status.OK, Status.STOPPED):
            self._seen_ok = True
            return None
        self._finished += 1
        if self._first_failure is None:
            self._first_failure = trial
        if self._finished < self.fail_fast_after:
            return None
        first = self._first_failure
        return EvaluationError(
            f"the first {self._finished} trials all failed, so the evaluations cannot "
            f"succeed as configured. First failure (trial {first.id}, {first.status.value}, "
            f"exit code {first.returncode}): command {first.command!r}\n"
            f"{first.error[-1500:]}",
            trial_id=first.id,
            command=first.command,
            returncode=first.returncode,
            stderr_tail=first.error,
        )


def _drain(receive: MemoryObjectReceiveStream[Trial]) -> list[Trial]:
    trials: list[Trial] = []
    while True:
        try:
            trials.append(receive.receive_nowait())
        except (anyio.WouldBlock, anyio.EndOfStream):
            return trials
