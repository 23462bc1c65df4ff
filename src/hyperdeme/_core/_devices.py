"""GPUs (and other accelerators) per evaluation: the pool's ids, checked, found, exported.

``Evaluator(gpus=[0, 1, 2, 3], gpus_per_eval=2)`` names a pool of device ids;
each running evaluation holds ``gpus_per_eval`` of them exclusively (a
:class:`~._hosts.HostPool` of ids: the same first-fit primitive that packs
nodes) and sees them in :func:`device_environment`'s variables. An id is what
``CUDA_VISIBLE_DEVICES`` accepts: an index (``0``), a GPU UUID
(``GPU-8f3c...``) or a MIG device (``MIG-...``), kept as text.

``gpus="auto"`` asks, in order (:func:`detect_gpus`):

1. the ``CUDA_VISIBLE_DEVICES`` the driver itself was given (a scheduler that
   gave this job its GPUs set it; its ids are the pool);
2. ``nvidia-smi -L``: one ``GPU <index>: <name> (UUID: GPU-...)`` line per GPU,
   with its MIG devices under it (``  MIG 1g.5gb Device 0: (UUID: MIG-...)``):
   a GPU's MIG devices replace it (CUDA sees MIG devices, not their GPU);
3. ``rocm-smi --showid``: ``GPU[<index>] : Device ID: 0x74a1`` lines, several
   per GPU;

and refuses to guess when none answers. Parsing their text by hand: the tools'
Python bindings (``pynvml``, ``amdsmi``) need the vendor's driver library to even
import, which a login node or a CPU-only CI machine does not have.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from ._checks import is_integer
from ._errors import ConfigError, ConfigTypeError

__all__ = [
    "DEVICE_VARIABLES",
    "Gpus",
    "check_gpus",
    "detect_gpus",
    "device_environment",
]

#: a checked pool: its ids, "auto" (found when the run starts) or None (no pinning)
Gpus = tuple[str, ...] | Literal["auto"] | None

#: the variables each evaluation's ids are exported in (CUDA, ROCm's HIP and ROCr,
#: and hyperdeme's own for programs that pick devices themselves)
DEVICE_VARIABLES = (
    "CUDA_VISIBLE_DEVICES",
    "HIP_VISIBLE_DEVICES",
    "ROCR_VISIBLE_DEVICES",
    "HYPERDEME_GPUS",
)

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./:-]*")
_NVIDIA_GPU = re.compile(r"^GPU (\d+): .*$")
_NVIDIA_MIG = re.compile(r"^\s+MIG .*\(UUID: (MIG-[^)\s]+)\)\s*$")
_ROCM_GPU = re.compile(r"^GPU\[(\d+)\]")

Run = Callable[[Sequence[str]], str | None]


def _device_id(name: str, value: Any) -> str:
    if is_integer(value):
        if value < 0:
            raise ConfigError(
                f"{name} ids must be device indices >= 0 or id strings such as "
                f"'GPU-8f3c...' or 'MIG-...'; got {value!r}.",
                name=name,
                value=value,
            )
        return str(int(value))
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    error = ConfigError if isinstance(value, str) else ConfigTypeError
    raise error(
        f"{name} ids must be device indices (ints >= 0) or id strings without commas or "
        f"spaces (a UUID such as 'GPU-8f3c...' or 'MIG-...'), as CUDA_VISIBLE_DEVICES "
        f"takes them; got {value!r}.",
        name=name,
        value=value,
    )


def check_gpus(name: str, value: Any) -> Gpus:
    """None, ``"auto"``, or a non-empty list of distinct device ids (as text)."""
    if value is None or value == "auto":
        return value  # type: ignore[no-any-return]
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ConfigTypeError(
            f"{name} must be a list of device ids such as [0, 1, 2, 3], 'auto' (the "
            f"CUDA_VISIBLE_DEVICES given, else nvidia-smi, else rocm-smi) or None; got "
            f"{value!r}.",
            name=name,
            value=value,
        )
    ids = tuple(_device_id(name, item) for item in value)
    if not ids:
        raise ConfigError(
            f"{name} must list at least one device id (leave it out, or None, for no "
            "pinning); got an empty list.",
            name=name,
            value=value,
        )
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ConfigError(
            f"{name} must not repeat a device (each is given to one evaluation at a time); "
            f"repeated: {', '.join(repeated)} in {list(value)!r}.",
            name=name,
            value=value,
        )
    return ids


def device_environment(ids: Sequence[str]) -> dict[str, str]:
    """The variables an evaluation holding ``ids`` runs with (see :data:`DEVICE_VARIABLES`)."""
    joined = ",".join(ids)
    return dict.fromkeys(DEVICE_VARIABLES, joined)


def _run(argv: Sequence[str]) -> str | None:
    """``argv``'s stdout, or None when it is not installed or fails."""
    import shutil  # only for gpus="auto": ``import hyperdeme`` loads neither
    import subprocess

    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def nvidia_ids(text: str) -> list[str]:
    """The ids in ``nvidia-smi -L``'s output: GPU indices, a GPU's MIG devices in its place."""
    ids: list[str] = []
    migs: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if gpu := _NVIDIA_GPU.match(line):
            current = gpu.group(1)
            ids.append(current)
        elif (mig := _NVIDIA_MIG.match(line)) and current:
            migs.setdefault(current, []).append(mig.group(1))
    return [device for gpu in ids for device in migs.get(gpu, [gpu])]


def rocm_ids(text: str) -> list[str]:
    """The GPU indices in ``rocm-smi --showid``'s output (each GPU has several lines)."""
    found = (_ROCM_GPU.match(line) for line in text.splitlines())
    return list(dict.fromkeys(match.group(1) for match in found if match))


def detect_gpus(environ: Mapping[str, str] | None = None, *, run: Run = _run) -> tuple[str, ...]:
    """The pool ``gpus="auto"`` means; see the module docstring. Raises ConfigError."""
    environ = os.environ if environ is None else environ
    given = environ.get("CUDA_VISIBLE_DEVICES")
    if given is not None:
        ids = [part.strip() for part in given.split(",") if part.strip()]
        if not ids:
            raise ConfigError(
                "gpus='auto' found CUDA_VISIBLE_DEVICES set but empty: this process was "
                "given no GPUs. Unset it, or list the devices: gpus=[0, 1].",
                name="gpus",
                value="auto",
            )
        return tuple(dict.fromkeys(ids))
    for argv, parse in ((("nvidia-smi", "-L"), nvidia_ids), (("rocm-smi", "--showid"), rocm_ids)):
        text = run(argv)
        if text is not None and (ids := parse(text)):
            return tuple(ids)
    raise ConfigError(
        "gpus='auto' found no GPU: CUDA_VISIBLE_DEVICES is not set, and neither "
        "`nvidia-smi -L` nor `rocm-smi --showid` ran and listed one. List the devices "
        "(gpus=[0, 1, 2, 3]) or leave gpus out.",
        name="gpus",
        value="auto",
    )
