"""A launcher of your own: every evaluation at a lower CPU priority (``nice``).

Registering it makes ``Evaluator(..., launcher="nice")`` run trials through it,
like the built-in ``local``, ``slurm``, ``pbs``, ``k8s`` and ``urika``; installing
this directory as a package (its ``pyproject.toml`` declares the entry point
``nice`` in the group ``hyperdeme.launchers``) makes ``launcher = "nice"`` work
in an experiment file too, without importing anything. The keys of
``launcher_options`` it accepts are the fields of ``NiceOptions`` (here
``niceness``): an unknown key is refused, with a suggestion, when an Evaluator
names the launcher, before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import hyperdeme
from hyperdeme.launchers import run_process


@dataclass(frozen=True)
class NiceOptions:
    """The keys of ``launcher_options`` the ``nice`` launcher accepts."""

    niceness: int = 10

    def __post_init__(self) -> None:
        niceness = self.niceness
        if isinstance(niceness, bool) or not isinstance(niceness, int) or not 0 <= niceness <= 19:
            raise hyperdeme.ConfigError(
                f"launcher_options['niceness'] must be an integer from 0 to 19, got {niceness!r}."
            )


@hyperdeme.register_launcher("nice")
class NiceLauncher(hyperdeme.Launcher):
    """``nice -n <niceness> /bin/sh -c <command>`` on this machine."""

    launcher_options = NiceOptions

    def __init__(self, options: hyperdeme.LauncherOptions) -> None:
        settings: NiceOptions = self.read_extra(options)
        self.niceness = settings.niceness

    async def run(self, job: hyperdeme.Job) -> hyperdeme.Exit:
        # run_process streams output into the engine's sinks and, when the
        # evaluation is cancelled or times out, stops the whole process group
        returncode = await run_process(
            ["nice", "-n", str(self.niceness), "/bin/sh", "-c", job.command],
            cwd=job.cwd,
            env=job.environ(),
            stdout=job.stdout,
            stderr=job.stderr,
        )
        return hyperdeme.Exit(returncode)


if __name__ == "__main__":
    # the program reports its own niceness as its figure of merit
    program = "python3 -c 'import os, sys; print(\"FoM:\", os.nice(0) + float(sys.argv[1][4:]))'"
    evaluator = hyperdeme.Evaluator(program, launcher="nice", launcher_options={"niceness": 15})
    optimizer = hyperdeme.RandomOptimizer(evaluator, num_iters=4, seed=1)
    result = optimizer.optimize(hyperdeme.Params([["--x", 0.5, (0.0, 1.0)]]))
    print(result)
