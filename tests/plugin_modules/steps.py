"""A training program printing ``FoM: <x>`` for five epochs, slowly enough to be stopped."""

from __future__ import annotations

import sys
import time

x = float(sys.argv[1].partition("=")[2])
for epoch in range(1, 6):
    print(f"FoM: {x + 1 / epoch}", flush=True)
    time.sleep(0.2)
