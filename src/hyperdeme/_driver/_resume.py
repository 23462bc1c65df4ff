"""Resuming an experiment exactly once: its fingerprint, and replaying its journal.

An experiment's first journal record is its fingerprint: the search space,
the strategy (type and settings), the seed actually used and the direction
(whether the FoM is minimised or maximised; a journal written before
directions existed minimised). Resuming with
anything else is refused with an error naming the differences, because the
journal's trials would not be what this search would have asked for. Only the
strategy's budget settings (``Strategy.budget_settings``: ``num_iters``,
``max_evals``, ``generations``) may change: the replayed
strategy then goes on to the new budget (a budget that grows). A budget
smaller than the trials already asked for is refused (see
``check_budget``); the same budget finishes at once.

Replaying the journal rebuilds the strategy exactly: each ``started`` record
is asked again under its trial id, and the strategy must ask for the very
candidate recorded (a second, implicit check that nothing changed), and each
finished ``trial`` record is told, in the journal's order, which is the order
the strategy saw them. So random search continues its sequence, grid search
skips the points done, genetic search rebuilds its demes, and finished trials
count against the budget and are never run again. Trials that were asked but
never finished (the driver died) or were cancelled (the run was stopped) stay
outstanding: they run again, first, under their ids and with their candidates.

The replay also sums up what it told (the best trial, how many failed), in the
thread that replays: the run starts from these and keeps them as trials come, so
the event loop's thread never walks 20,000 replayed trials (each walk 8-27 ms
measured, issue 26).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._core._direction import Direction, is_better, scored
from .._core._errors import ConfigError
from .._core._trial import FAILURES, Candidate, Status, Trial
from .._engine._journal import Record
from .._space import Params
from ..strategies import Strategy

__all__ = ["Replayed", "check_budget", "check_fingerprint", "fingerprint", "replay"]

#: what must not change for an experiment to be resumed
_KEYS = ("space", "strategy", "seed", "direction", "objectives")
#: what a fingerprint without the key means
_DEFAULTS = {"direction": "minimize"}


def fingerprint(
    params: Params,
    strategy: Strategy,
    command: str,
    direction: Direction = "minimize",
    objectives: Mapping[str, Direction] | None = None,
) -> dict[str, Any]:
    """The experiment's identity, as recorded in its journal's first record (with
    ``objectives`` only when there are some: a single FoM's stays as it was)."""
    data: dict[str, Any] = {
        "space": params.to_json(),
        "strategy": strategy.describe(),
        "seed": strategy.seed,
        "command": command,
        "direction": direction,
    }
    if objectives:
        data["objectives"] = dict(objectives)
    plain: dict[str, Any] = _plain(data)
    return plain


def check_fingerprint(
    recorded: Mapping[str, Any],
    current: Mapping[str, Any],
    where: str,
    *,
    budget: tuple[str, ...] = (),
) -> None:
    """Raise ConfigError naming what differs between ``recorded`` and ``current``, but
    for the strategy settings named in ``budget``."""
    old, new = _settled(recorded, budget), _settled(current, budget)
    differences: list[str] = []
    for key in _KEYS:
        differences += _diff(key, _get(old, key), _get(new, key))
    if differences:
        shown = "; ".join(differences[:6]) + (" ..." if len(differences) > 6 else "")
        only = f"; only the budget ({', '.join(budget)}) may change" if budget else ""
        raise ConfigError(
            f"cannot resume {where}: it was started with another search (recorded -> now: "
            f"{shown}{only}). Resume with the settings it was started with (settings chosen "
            "for a budget, such as the genetic search's num_demes and pop_size, given as "
            "recorded), or start a new experiment under another name."
        )


def check_budget(strategy: Strategy, asked: int, where: str) -> None:
    """Refuse a budget smaller than the ``asked`` trials an experiment already holds."""
    budget = strategy.budget
    if budget is None or budget >= asked:
        return
    settings = strategy.describe()["settings"]
    named = {key: settings.get(key) for key in strategy.budget_settings}
    shown = ", ".join(f"{key}={value!r}" for key, value in named.items()) or "its settings"
    raise ConfigError(
        f"cannot resume {where} with a budget of {budget} evaluations ({shown}): it already "
        f"holds {asked} trials, and trials are never taken back. Give a budget of at least "
        f"{asked} (equal: the run finishes at once with what is there).",
        name=next(iter(named), "budget"),
        value=budget,
    )


def matches(
    recorded: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    seed: bool,
    budget: tuple[str, ...] = (),
) -> bool:
    """Whether an experiment recorded so could be resumed (ignoring the seed unless ``seed``,
    and the strategy settings named in ``budget``)."""
    keys = [key for key in _KEYS if seed or key != "seed"]
    old, new = _settled(recorded, budget), _settled(current, budget)
    return all(not _diff(key, _get(old, key), _get(new, key)) for key in keys)


def _get(fingerprint: Mapping[str, Any], key: str) -> Any:
    return fingerprint.get(key, _DEFAULTS.get(key))


def _settled(identity: Mapping[str, Any], budget: tuple[str, ...]) -> Mapping[str, Any]:
    """``identity`` without the strategy settings named in ``budget``."""
    strategy = identity.get("strategy")
    if not budget or not isinstance(strategy, dict):
        return identity
    settings = strategy.get("settings")
    if not isinstance(settings, dict):
        return identity
    kept = {key: value for key, value in settings.items() if key not in budget}
    return {**identity, "strategy": {**strategy, "settings": kept}}


def _diff(path: str, old: Any, new: Any) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for key in dict.fromkeys([*old, *new]):
            found += _diff(f"{path}.{key}", old.get(key), new.get(key))
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        found = []
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            found += _diff(f"{path}[{index}]", a, b)
        return found
    return [] if old == new else [f"{path}: {old!r} -> {new!r}"]


def _plain(value: Any) -> Any:
    """``value`` as it reads back from the journal (tuples as lists, numbers as JSON has them)."""
    return json.loads(json.dumps(value, default=str))


@dataclass(slots=True)
class Replayed:
    """What replaying a journal left: results, and asks to run again."""

    finished: list[Trial] = field(default_factory=list)
    rerun: list[tuple[int, Candidate]] = field(default_factory=list)
    #: asked, never finished nor cancelled: their driver died while they ran
    interrupted: list[int] = field(default_factory=list)
    next_id: int = 1
    #: the best of ``finished`` (``trial.ok``, the earliest among equal FoMs), as
    #: ``Result.best_trial`` would find it
    best: Trial | None = None
    #: how many of ``finished`` failed (``Result.n_failed``)
    failed: int = 0


def replay(
    strategy: Strategy,
    records: Iterable[Record],
    where: str,
    direction: Direction = "minimize",
    objectives: Mapping[str, Direction] | None = None,
) -> Replayed:
    """Replay ``records`` into a fresh ``strategy`` (see the module docstring); the
    strategy is told scores, as in the run (see :mod:`hyperdeme._core._direction`)."""
    asked: dict[int, Candidate] = {}
    cancelled: set[int] = set()
    finished: dict[int, Trial] = {}  # the trials told, by id
    summary = Replayed()
    for record in records:
        kind = record.get("type")
        if kind == "started":
            trial_id = record["id"]
            candidate = strategy.ask(trial_id)
            recorded = record.get("genes")
            if candidate is None or _plain(candidate.params) != recorded:
                asked_for = None if candidate is None else _plain(candidate.params)
                raise ConfigError(
                    f"cannot resume {where}: replaying its journal, the strategy asks for "
                    f"{asked_for!r} as trial {trial_id} where the journal has {recorded!r}; the "
                    "strategy, its settings, the seed or the search space must have changed "
                    "(or hyperdeme's own strategies did, between versions)."
                )
            asked[trial_id] = candidate
        elif kind == "trial":
            trial = Trial.from_json(record)
            if trial.id not in asked or trial.id in finished:
                continue  # a line of hyperdeme 0.1 (the reader refuses foreign or duplicate ones)
            if trial.status in (Status.CANCELLED, Status.INTERRUPTED):
                cancelled.add(trial.id)
                continue
            trial.candidate = asked[trial.id]
            strategy.tell(scored(trial, direction, objectives))
            finished[trial.id] = trial
            _summed(summary, trial, direction)
    outstanding = sorted(asked.keys() - finished.keys())
    summary.finished = list(finished.values())
    summary.rerun = [(trial_id, asked[trial_id]) for trial_id in outstanding]
    summary.interrupted = [trial_id for trial_id in outstanding if trial_id not in cancelled]
    summary.next_id = max(asked, default=0) + 1
    return summary


def _summed(summary: Replayed, trial: Trial, direction: Direction) -> None:
    """Count ``trial`` (told in the journal's order) in the replay's best and failures."""
    if trial.status in FAILURES:
        summary.failed += 1
    best = summary.best
    if trial.ok and (best is None or is_better(trial.fom, best.fom, direction)):
        summary.best = trial
