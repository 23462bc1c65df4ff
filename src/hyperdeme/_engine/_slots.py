"""The slots: keep ``slots`` evaluations running, feed results back at once.

The driver (the task that called :meth:`Scheduler.run`) asks the strategy for
a candidate whenever fewer than ``slots`` trials are in flight, journals it as
``started`` and hands it to a worker through a 0-buffer memory stream (so
trials start in id order); each worker runs its trial and hands the finished
trial back; the driver journals it as ``trial`` and then tells the strategy
and the caller, at once, so a steady-state strategy never makes a slot wait
for another slot's evaluation. Trials that finished while the driver was busy
are taken together: one journal write for all, then each told in turn (with
4,000 slots, thousands finish within milliseconds)::

    driver --ask--> journal "started" --[0-buffer]--> worker --> runner --> launcher
      ^                                                  |
      +-- tell <-- journal "trial" <-- finished Trial ---+

With ``reproducible=True`` results are told in trial-id order instead, and
a candidate is asked for only while fewer than ``slots`` asked trials are
untold (see :mod:`._in_order`): the same seed gives the same trials whatever
the timing, at the cost of slots left idle while an earlier trial finishes.

Workers are started only when a trial finds none idle, so a run costs what
its trials cost whatever ``slots`` says (10**5 slots for 3 trials: 3
workers). Only the driver writes the journal, so the journal's order is the
order in which the strategy saw asks and results: replaying it rebuilds the
strategy exactly (resume).

The time budget is a cancel scope around the whole thing: when it expires no
new evaluation starts, running ones are cancelled and journalled as
``cancelled``, and ``run`` returns normally. Cancelling the caller's scope
does the same and re-raises. Every trial that was asked for ends in the
journal, whatever stopped the run.

Fail-fast. A run whose first trials all failed cannot succeed as configured (a
typo in the command): it stops with :class:`~hyperdeme.EvaluationError` once the
first ``max(slots, 3)`` finished trials all failed, or, when the budget is
smaller than that, once every trial of it failed (at least 3: a budget of 1
or 2 that failed returns its trials).
A trial ending ``interrupted`` (the machine could not run it, see
:mod:`._machine`) is journalled and reported but not told to the strategy,
whose parameters it says nothing about (resume runs it again), and counts
neither way; :data:`MACHINE_STREAK` of them in a row stop the run with an
``EvaluationError`` saying the machine cannot run trials.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import anyio

from .._core._direction import scored
from .._core._errors import EvaluationError, HyperdemeError
from .._core._logging import get_logger
from .._core._trial import Candidate, Status, Trial
from ..strategies import Strategy
from ._in_order import InOrder
from ._journal import Journal
from ._runner import TrialRunner

if TYPE_CHECKING:
    from anyio.abc import TaskGroup
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["FAIL_FAST_LEAST", "MACHINE_STREAK", "Scheduler"]

log = get_logger("hyperdeme.scheduler")

#: the fewest failed trials (and none ok) that stop a run: a budget of 1 or 2 that
#: failed returns its failed trials, as a run that succeeded would
FAIL_FAST_LEAST = 3
#: trials ending ``interrupted`` in a row (none ending otherwise between) that stop a
#: run: at most this many, at least 3, else ``slots`` (a shortage hits every slot)
MACHINE_STREAK = 10

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
        reproducible: bool = False,
        on_journalled: Callable[[Trial], None] | None = None,
        succeeded_before: bool = False,
    ) -> None:
        self.runner = runner
        self.journal = journal
        self.slots = slots
        self.time_budget = time_budget
        self._next_id = first_id
        #: the first trials must not all fail: a typo in cmd fails fast
        self.fail_fast_after = max(slots, FAIL_FAST_LEAST)
        self._finished = 0
        #: a trial ran and reported (here, or before a resume): fail-fast is off
        self._seen_ok = succeeded_before
        self._first_failure: Trial | None = None
        #: the machine cannot run trials: this many interrupted in a row stop the run
        self.machine_streak = max(3, min(slots, MACHINE_STREAK))
        self._interrupted: list[Trial] = []  # in a row
        self.n_interrupted = 0
        self.expired = False
        #: started by the driver, not yet taken up by their task
        self._pending: dict[int, Trial] = {}
        #: cancelled while running (the run stopped)
        self._cancelled: list[Trial] = []
        #: finished and journalled, not yet told (the rest of a batch: see :meth:`_drive`)
        self._untold: deque[Trial] = deque()
        self._on_start: Callable[[Trial], None] | None = None
        self.direction = runner.config.direction
        self.objectives = runner.config.objectives
        #: reproducible: results told in id order (None: as they finish)
        self._in_order = InOrder() if reproducible else None
        #: called as each finished trial is journalled (synchronous: even as the run is
        #: cancelled, so the caller's result holds every trial the journal holds)
        self._on_journalled = on_journalled

    async def run(
        self,
        strategy: Strategy,
        emit: Emit,
        *,
        rerun: Sequence[tuple[int, Candidate]] = (),
        on_start: Callable[[Trial], None] | None = None,
    ) -> None:
        """Run ``strategy`` to its end (or the time budget's).

        ``emit`` is awaited with each finished trial, ``on_start`` called with each
        trial handed to a worker. ``rerun``: trials the strategy has outstanding
        from an earlier driver (asked, never finished: resume); they run again
        first, under their ids.
        """
        self._on_start = on_start
        send, receive = anyio.create_memory_object_stream[Trial](math.inf)
        work_send, work_receive = anyio.create_memory_object_stream[Trial](0)
        failure: HyperdemeError | None = None
        with send, receive, work_send, work_receive:
            try:
                with anyio.move_on_after(self.time_budget) as budget:
                    async with anyio.create_task_group() as tg:
                        workers = _Workers(tg, self._work, work_receive, send)
                        failure = await self._drive(
                            strategy, emit, workers, work_send, receive, rerun
                        )
                        if failure is not None:
                            tg.cancel_scope.cancel()
                        work_send.close()
            finally:
                # whatever stopped the run: finished results not yet told, then the
                # trials it cancelled, are journalled (synchronous: safe while cancelled)
                unseen = self._held() + _drain(receive)
                cancelled = self._leftovers()
                self._journal([*unseen, *cancelled])
        if failure is not None:
            raise failure
        self.expired = budget.cancelled_caught
        if self.expired:
            log.info("run.time_budget_expired", cancelled=len(cancelled))
        # in the journal's order: a batch's rest was journalled before the others
        for trial in [*self._untold, *unseen, *cancelled]:
            strategy.tell(scored(trial, self.direction, self.objectives))
            await emit(trial)

    def _held(self) -> list[Trial]:
        return self._in_order.held() if self._in_order is not None else []

    async def _next_results(self, done: MemoryObjectReceiveStream[Trial]) -> list[Trial]:
        """The next results to tell: the first to finish and every one finished meanwhile
        (one journal write for all), or (reproducible) the next by id alone (candidate
        ``k`` is asked after exactly ``k - slots`` results were told)."""
        if self._in_order is not None:
            return [await self._in_order.next(done)]
        return [await done.receive(), *_drain(done)]

    def _leftovers(self) -> list[Trial]:
        """The trials the stop cancelled: running ones, and ones not yet taken up."""
        for trial in self._pending.values():
            trial.status = Status.CANCELLED
            self._cancelled.append(trial)
        self._pending.clear()
        cancelled = sorted(self._cancelled, key=lambda t: t.id)
        self._cancelled = []
        return cancelled

    async def _drive(
        self,
        strategy: Strategy,
        emit: Emit,
        workers: _Workers,
        work: MemoryObjectSendStream[Trial],
        done: MemoryObjectReceiveStream[Trial],
        rerun: Sequence[tuple[int, Candidate]],
    ) -> HyperdemeError | None:
        again = deque(rerun)
        in_flight = 0
        while True:
            while in_flight < self.slots:
                if again:
                    trial = self.runner.new_trial(*again.popleft())
                else:
                    candidate = strategy.ask(self._next_id)
                    if candidate is None:
                        break
                    trial = self.runner.new_trial(self._next_id, candidate)
                    self._next_id += 1
                    self.journal.started(trial)
                self._pending[trial.id] = trial
                if self._in_order is not None:
                    self._in_order.asked(trial.id)
                workers.ensure_one_idle()
                try:  # to a worker waiting for it: no checkpoint (send's costs a loop pass)
                    work.send_nowait(trial)
                except anyio.WouldBlock:  # a worker just started, not yet waiting
                    await work.send(trial)
                # taken by an idle worker, which may not have run yet: counted busy here, or
                # the next trial would be sent to it while it starts this one (a slot lost)
                workers.idle.count -= 1
                in_flight += 1
                if self._on_start is not None:
                    self._on_start(trial)
            if in_flight == 0:
                return self._at_end()
            self.journal.flush()  # what started is on file while the driver waits
            finished = await self._next_results(done)
            in_flight -= len(finished)  # asked and not told: at most ``slots`` (reproducible)
            self._journal(finished)  # before anyone hears of them: one write
            self._untold.extend(finished)
            if self.runner.allocation_ended is not None:
                return await self._allocation_ended(emit)
            failure = await self._tell_untold(strategy, emit)
            if failure is not None:
                return failure

    async def _tell_untold(self, strategy: Strategy, emit: Emit) -> HyperdemeError | None:
        """Tell the strategy and the caller of the journalled trials, in the journal's
        order; a trial leaves ``_untold`` as it is told (a stop meanwhile tells the rest)."""
        while self._untold:
            trial = self._untold.popleft()
            self._tell(strategy, trial)
            await self.runner.checkpoints.release(strategy.released_checkpoints())
            await emit(trial)
            failure = self._check_fail_fast(trial)
            if failure is not None:
                return failure
        return None

    def _journal(self, trials: list[Trial]) -> None:
        self.journal.trials(trials)
        if self._on_journalled is not None:
            for trial in trials:
                self._on_journalled(trial)

    async def _allocation_ended(self, emit: Emit) -> HyperdemeError:
        """The allocation ended: the journalled trials go to the caller, not the strategy
        (interrupted ones are no result; resume runs them again), and the run stops with
        the launcher's error."""
        assert self.runner.allocation_ended is not None
        while self._untold:
            await emit(self._untold.popleft())
        return self.runner.allocation_ended

    def _tell(self, strategy: Strategy, trial: Trial) -> None:
        if trial.status is Status.INTERRUPTED:  # not a result: outstanding, run on resume
            self.n_interrupted += 1
            log.warning("trial.interrupted", trial=trial.id, error=trial.error[-300:])
            return
        # lower is better, whatever the direction
        strategy.tell(scored(trial, self.direction, self.objectives))

    async def _work(
        self,
        receive: MemoryObjectReceiveStream[Trial],
        send: MemoryObjectSendStream[Trial],
        idle: _Idle,
    ) -> None:
        """A worker: run the trials handed to it, one at a time, hand each back finished."""
        while True:  # counted idle by whoever started it and after each trial; busy by the sender
            try:
                trial = await receive.receive()
            except anyio.EndOfStream:
                return
            del self._pending[trial.id]  # no checkpoint since the receive: taken up
            try:
                await self.runner.run(trial)
            except anyio.get_cancelled_exc_class():
                self._cancelled.append(trial)
                raise
            send.send_nowait(trial)  # no checkpoint: a cancellation cannot lose it
            idle.count += 1

    def _check_fail_fast(self, trial: Trial) -> EvaluationError | None:
        if trial.status is Status.CANCELLED:
            return None
        if trial.status is Status.INTERRUPTED:
            self._interrupted.append(trial)
            if len(self._interrupted) >= self.machine_streak:
                return self._machine_failure()
            return None
        self._interrupted.clear()
        if self._seen_ok:
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
        return self._all_failed()

    def _at_end(self) -> EvaluationError | None:
        """The strategy is done: a budget that failed whole (smaller than the threshold)
        fails fast too; interrupted trials are said to be waiting for resume."""
        if self.n_interrupted:
            log.warning(
                "run.interrupted_trials",
                count=self.n_interrupted,
                message="the machine could not run these trials; resume runs them again",
            )
        if not self._seen_ok and self._finished >= FAIL_FAST_LEAST:
            return self._all_failed()
        return None

    def _machine_failure(self) -> EvaluationError:
        first, last = self._interrupted[0], self._interrupted[-1]
        return EvaluationError(
            f"the machine cannot run trials: {len(self._interrupted)} trials in a row were "
            f"interrupted (each tried {last.attempts} times), the last because {last.error}. "
            "Their parameters are not to blame; fix the shortage (open files: ulimit -n, "
            "fewer num_parallel_evals; disk space; memory), then resume: it runs them again.",
            trial_id=first.id,
            command=first.command,
            returncode=first.returncode,
            stderr_tail=last.error,
        )

    def _all_failed(self) -> EvaluationError:
        assert self._first_failure is not None
        first = self._first_failure
        # a trial refused before its command ran (too few nodes) has no command or exit code
        ended = "" if first.returncode is None else f", exit code {first.returncode}"
        command = f"command {first.command!r}" if first.command else "it never started"
        return EvaluationError(
            f"the first {self._finished} trials all failed, so the evaluations cannot "
            f"succeed as configured. First failure (trial {first.id}, {first.status.value}"
            f"{ended}): {command}\n"
            f"{first.error[-1500:]}",
            trial_id=first.id,
            command=first.command,
            returncode=first.returncode,
            stderr_tail=first.error,
        )


class _Idle:
    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class _Workers:
    """Starts a worker only when a trial would otherwise wait for one."""

    def __init__(
        self,
        tg: TaskGroup,
        work: Callable[
            [MemoryObjectReceiveStream[Trial], MemoryObjectSendStream[Trial], _Idle],
            Coroutine[Any, Any, None],
        ],
        receive: MemoryObjectReceiveStream[Trial],
        send: MemoryObjectSendStream[Trial],
    ) -> None:
        self._tg = tg
        self._work = work
        self._receive = receive
        self._send = send
        self.idle = _Idle()

    def ensure_one_idle(self) -> None:
        if self.idle.count == 0:
            self._tg.start_soon(self._work, self._receive, self._send, self.idle)
            self.idle.count += 1  # it will wait for work: counted now, so one is enough


def _drain(receive: MemoryObjectReceiveStream[Trial]) -> list[Trial]:
    trials: list[Trial] = []
    while True:
        try:
            trials.append(receive.receive_nowait())
        except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
            return trials
