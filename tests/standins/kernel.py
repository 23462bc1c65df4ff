#!/usr/bin/env python3
"""A tiny evaluation program for launcher tests (the workload, not a stand-in).

Prints ``FoM: <value>`` (default 1.25). Options: ``--exit N`` exit status,
``--pidfile PATH`` write its pid there first, ``--hold S`` keep running S
seconds (a long evaluation, for cancellation tests), ``--show VAR`` print
``VAR=<value>`` of an environment variable, ``--stderr TEXT``, ``--x=V``
(a hyperparameter: the FoM is then ``(V - 0.3) ** 2``).
"""

import argparse
import os
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--fom", default="1.25")
parser.add_argument("--exit", type=int, default=0)
parser.add_argument("--pidfile")
parser.add_argument("--hold", type=float, default=0.0)
parser.add_argument("--show", action="append", default=[])
parser.add_argument("--stderr", default="")
parser.add_argument("--x", type=float)
args = parser.parse_args()
if args.x is not None:
    args.fom = repr((args.x - 0.3) ** 2)
if args.pidfile:
    with open(args.pidfile + ".tmp", "w") as file:
        file.write(str(os.getpid()))
    os.replace(args.pidfile + ".tmp", args.pidfile)
for name in args.show:
    print(f"{name}={os.environ.get(name, '<unset>')}")
print(f"cwd={os.getcwd()}")
if args.stderr:
    print(args.stderr, file=sys.stderr)
time.sleep(args.hold)
print(f"FoM: {args.fom}", flush=True)
sys.exit(args.exit)
