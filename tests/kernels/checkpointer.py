"""A checkpointing test program: resumes its history from a directory and appends to it.

``checkpointer.py DIR [--crash-at-step K --once FILE] --x=X``: loads
``DIR/state.json`` (a list of the ``x`` values of every step trained, empty
when missing), prints ``loaded: <json>``, appends ``x``, saves, prints
``saved: <json>`` and ``FoM: <x>``. With ``--crash-at-step K``, the first run
(the one that creates ``FILE``) loading K entries writes half a file and exits
1, like a program killed mid-save.
"""

import argparse
import json
import os
import sys
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("directory")
parser.add_argument("--x", type=float, default=0.5)
parser.add_argument("--crash-at-step", type=int, default=-1)
parser.add_argument("--once", default="")
args = parser.parse_args()

state = Path(args.directory) / "state.json"
history = json.loads(state.read_text()) if state.exists() else []
print(f"loaded: {json.dumps(history)}", flush=True)
if len(history) == args.crash_at_step:
    try:
        os.close(os.open(args.once, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        pass
    else:
        state.write_text(json.dumps(history)[:-1] + ', "torn')
        sys.exit("checkpointer: killed mid-save")
history.append(args.x)
state.write_text(json.dumps(history))
print(f"saved: {json.dumps(history)}")
print(f"FoM: {args.x}", flush=True)
