"""What a crayai.hpo script prints on stdout, printed by ``hyperdeme.hpo``'s optimizers.

crayai's optimizers printed to stdout, and scripts written for them are read by
that output. Only :mod:`hyperdeme.hpo` prints it (the rest of hyperdeme never
prints; its events go through logging): a settings banner when the
optimization starts, a "Global Best" block after each generation of genetic
search, a "Best:" block at the end, and with ``verbose=True`` a line per
finished trial followed by the program's output::

    ------------------------------------------------------------
    Genetic Optimizer
    ------------------------------------------------------------
    Optimizer Settings:
      generations: 3
      ...
    Evaluator Settings:
      cmd: python3 train.py
      ...
    ------------------------------------------------------------
    Generation 0 (8 evaluations)
    Global Best:
      FoM: 0.0123
      --lr: 0.01
    ...
    ------------------------------------------------------------
    Best:
      FoM: 0.0104
      --lr: 0.012
    ------------------------------------------------------------

Floats are printed so that they read back exactly (``repr``): a script, or a
test, can compare them with the journal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

import anyio

from .._core._direction import Direction, best_of
from .._core._trial import Trial
from .._engine._evaluator import Evaluator
from .._engine._workspace import Workspace
from ._generations import Generations

__all__ = ["Console"]

RULE = "-" * 60


def _value(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def evaluator_settings(evaluator: Evaluator) -> dict[str, Any]:
    """The evaluator's settings as the banner shows them (crayai's keywords)."""
    config = evaluator.config
    launch = config.launch
    return {
        "cmd": evaluator.cmd,
        "src_path": config.src_path,
        "run_path": config.run_root,
        "checkpoint": config.checkpoint,
        "launcher": config.named_launcher or "auto",
        "nodes": launch.nodes,
        "nodes_per_eval": launch.nodes_per_eval,
        "num_parallel_evals": config.num_parallel_evals,
        "timeout": config.timeout,
        "num_retries": config.num_retries,
        "verbose": config.verbose,
    }


class Console:
    """Prints one run's crayai output on ``stream``; fed by the hpo optimizer's run."""

    def __init__(
        self,
        stream: TextIO,
        *,
        verbose: bool,
        generations: Generations | None = None,
        direction: Direction = "minimize",
    ) -> None:
        self.stream = stream
        self.verbose = verbose
        self.direction: Direction = direction
        self.generations = generations
        self._best: Trial | None = None  # through the last generation reported
        self._by_generation: dict[int, Trial | None] = {}
        self._seeded = False

    def _better(self, best: Trial | None, trial: Trial | None) -> Trial | None:
        """The better of the two by the run's direction, among trials that ran to their end."""
        return best_of([t for t in (best, trial) if t is not None], self.direction)

    def _print(self, *lines: str) -> None:
        self.stream.write("".join(f"{line}\n" for line in lines))
        self.stream.flush()

    def banner(self, title: str, settings: Mapping[str, Any], evaluator: Evaluator) -> None:
        """The settings banner, before any evaluation starts."""
        lines = [RULE, title, RULE, "Optimizer Settings:"]
        lines += [f"  {key}: {_value(value)}" for key, value in settings.items()]
        lines.append("Evaluator Settings:")
        lines += [f"  {k}: {_value(v)}" for k, v in evaluator_settings(evaluator).items()]
        self._print(*lines)

    def block(self, heading: str, best: Trial | None) -> list[str]:
        """``heading``, the FoM and the parameters of ``best`` (or that there is none)."""
        if best is None:
            return [heading, "  no evaluation succeeded"]
        return [
            heading,
            f"  FoM: {_value(best.fom)}",
            *(f"  {flag}: {_value(value)}" for flag, value in best.params.items()),
        ]

    def seed(self, trials: Iterable[Trial]) -> None:
        """Count the trials a resumed run had finished before, printing nothing."""
        if self._seeded:
            return
        self._seeded = True
        for trial in trials:
            for generation in self._count(trial):
                self._best = self._better(self._best, self._by_generation.get(generation))

    async def trial(self, trial: Trial, run_directory: Path | None) -> None:
        """A finished trial: with verbose its line and output; the generations it ends."""
        if self.verbose:
            self._print(self._trial_line(trial))
            output = await _output(trial, run_directory)
            if output:
                self._print(output.rstrip("\n"))
        for generation in self._count(trial):
            self._generation(generation)

    def finish(self, best: Trial | None) -> None:
        """The run ended: the generations it left incomplete, then the final best."""
        if self.generations is not None:
            for generation in self.generations.rest():
                self._generation(generation)
        self._print(RULE, *self.block("Best:", best), RULE)

    def _count(self, trial: Trial) -> list[int]:
        if self.generations is None:
            return []
        generation = trial.info.get("generation")
        if isinstance(generation, int):
            self._by_generation[generation] = self._better(
                self._by_generation.get(generation), trial
            )
        return self.generations.add(trial)

    def _generation(self, generation: int) -> None:
        self._best = self._better(self._best, self._by_generation.get(generation))
        assert self.generations is not None
        evaluations = self.generations.finished_through(generation)
        self._print(
            RULE,
            f"Generation {generation} ({evaluations} evaluations)",
            *self.block("Global Best:", self._best),
        )

    @staticmethod
    def _trial_line(trial: Trial) -> str:
        where = ""
        if "generation" in trial.info:
            where = f" (deme {trial.info.get('deme')}, generation {trial.info['generation']})"
        params = " ".join(f"{flag}={_value(value)}" for flag, value in trial.params.items())
        if trial.ok:
            return f"Trial {trial.id}{where}: FoM: {_value(trial.fom)} {params}".rstrip()
        status = trial.status.value
        detail = f": {trial.error.strip().splitlines()[-1]}" if trial.error.strip() else ""
        return f"Trial {trial.id}{where}: {status}{detail} {params}".rstrip()


async def _output(trial: Trial, run_directory: Path | None) -> str:
    """What the trial's program printed (its last attempt's stdout), if it was a process."""
    if run_directory is None:
        return ""
    workspace = Workspace(
        root=run_directory, src_path=None, cwd=run_directory, checkpoint_root=None
    )
    path = anyio.Path(workspace.trial_dir(trial.id) / "stdout.log")
    try:
        return await path.read_text(errors="replace")
    except OSError:
        return ""
