"""A training stand-in that reports the devices and slot it was given.

Writes one JSON file per trial (into the directory ``GPU_REPORT``): the
interpreter running it, its ``HYPERDEME_*`` and ``*_VISIBLE_DEVICES`` variables
and the wall-clock times it started and ended (it sleeps ``GPU_HOLD`` seconds
between them, so evaluations on different slots overlap); then prints a FoM.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

started = time.time()
time.sleep(float(os.environ.get("GPU_HOLD", "0.3")))
names = [n for n in os.environ if n.startswith(("HYPERDEME_", "SLURMD_")) or "VISIBLE" in n]
report = {
    "executable": sys.executable,
    "env": {name: os.environ[name] for name in names},
    "started": started,
    "ended": time.time(),
}
trial = os.environ.get("HYPERDEME_TRIAL", "none")
(Path(os.environ["GPU_REPORT"]) / f"{trial}.json").write_text(json.dumps(report))
print("FoM:", len(sys.argv))
