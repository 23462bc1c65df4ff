"""The run's device pool, and the slots it allows: resolved once, before anything runs.

``gpus="auto"`` is looked up here (it may run ``nvidia-smi``: call it in a worker
thread), ``gpus_per_eval`` checked against what was found, and
``num_parallel_evals`` capped to ``len(gpus) // gpus_per_eval``: more slots
would only wait for devices, so the run says so once (a
:class:`~hyperdeme.HyperdemeWarning` and the log event ``gpus.slots_capped``)
and uses fewer.
"""

from __future__ import annotations

import warnings

from .._core._devices import detect_gpus
from .._core._errors import HyperdemeWarning
from .._core._logging import get_logger
from .._engine._evaluator_config import EvaluatorConfig, check_gpus_per_eval

__all__ = ["run_gpus", "slots_for_gpus"]

log = get_logger("hyperdeme.run")


def run_gpus(config: EvaluatorConfig) -> tuple[str, ...]:
    """The device ids of the run (``()``: no pinning); raises ConfigError."""
    if config.gpus is None:
        return ()
    gpus = detect_gpus() if config.gpus == "auto" else config.gpus
    check_gpus_per_eval(config.gpus_per_eval_count, gpus)
    if config.gpus == "auto":
        log.info("gpus.detected", gpus=list(gpus))
    return gpus


def slots_for_gpus(slots: int, gpus: tuple[str, ...], per_eval: int, *, hosts: int = 1) -> int:
    """``slots``, capped to the evaluations the devices can run at once (warning once).

    ``hosts``: nodes that each have the ``gpus`` ids (a launcher that packs
    evaluations onto the nodes of its allocation), 1 for one machine's pool.
    """
    if not gpus:
        return slots
    allowed = len(gpus) // per_eval * hosts
    if slots <= allowed:
        return slots
    on = f" on each of {hosts} nodes" if hosts > 1 else ""
    message = (
        f"num_parallel_evals={slots} is more than the {len(gpus)} devices of gpus="
        f"{list(gpus)!r}{on} allow at gpus_per_eval={per_eval}: {allowed} evaluations run "
        f"at once. Lower num_parallel_evals to {allowed}, or add devices."
    )
    log.warning("gpus.slots_capped", requested=slots, slots=allowed, gpus=list(gpus))
    warnings.warn(message, HyperdemeWarning, stacklevel=2)
    return allowed
