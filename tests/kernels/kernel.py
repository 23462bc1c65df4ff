"""The engine's test kernel: a small training program whose behaviour its flags choose.

Hyperparameters arrive as ``--flag=value`` (crayai's convention). FoM =
``(x - 0.3)^2 + 0.01 * (n - 5)^2``, printed as ``FoM: <value>``. Behaviours:

--marker=TEXT        ignored; lets tests find this process (and its children) by argv
--state=DIR          where runs take numbered tickets (0, 1, ...: one file each, atomically)
--fail-first=K       with --state: runs with tickets < K fail (exit 1, message on stderr)
--hang-after=K       with --state: runs with tickets >= K print "started" and hang
--exit=CODE          print a message on stderr and exit with CODE
--hang               sleep until killed (after printing "started")
--grandchildren=N    a hanging run first starts N grandchildren that sleep (argv: the marker)
--huge=BYTES         write BYTES of filler to stdout in 1 MiB chunks before the FoM
--silent             print no FoM
--print=TEXT         print TEXT as a line (repeatable) instead of the FoM
--argv-file=FILE     append this program's argv as a JSON line to FILE
--write=NAME         write a file NAME in the working directory
--read=NAME          print the contents of NAME (relative to the working directory)
--sleep=SECONDS      sleep before printing
--epochs=N           print "epoch <i>: FoM: <FoM + 1/i>" for i = 1..N instead of the FoM (a
                     learning curve for early stopping); a hanging run hangs after epoch 1
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, default=0.5)
parser.add_argument("--n", type=int, default=5)
parser.add_argument("--marker", default="")
parser.add_argument("--fail-first", type=int, default=0)
parser.add_argument("--hang-after", type=int, default=-1)
parser.add_argument("--state", default="")
parser.add_argument("--exit", type=int, default=0)
parser.add_argument("--hang", action="store_true")
parser.add_argument("--grandchildren", type=int, default=0)
parser.add_argument("--huge", type=int, default=0)
parser.add_argument("--silent", action="store_true")
parser.add_argument("--print", action="append", default=[])
parser.add_argument("--argv-file", default="")
parser.add_argument("--write", default="")
parser.add_argument("--read", default="")
parser.add_argument("--sleep", type=float, default=0.0)
parser.add_argument("--epochs", type=int, default=0)
args, _unknown = parser.parse_known_args()


def take_ticket(directory: str) -> int:
    """This run's number among all runs sharing ``directory`` (safe across processes)."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    number = 0
    while True:
        try:
            os.close(os.open(Path(directory, str(number)), os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            number += 1
        else:
            return number


if args.argv_file:
    with open(args.argv_file, "a") as handle:
        handle.write(json.dumps(sys.argv[1:]) + "\n")
ticket = take_ticket(args.state) if args.state else 0
if ticket < args.fail_first:
    print(f"FoM: {ticket}", flush=True)  # partial output of a failed run
    sys.exit(f"kernel: simulated failure {ticket + 1} of {args.fail_first}")
if 0 <= args.hang_after <= ticket:
    args.hang = True
if args.exit:
    print(f"kernel: exiting with {args.exit} as asked", file=sys.stderr, flush=True)
    sys.exit(args.exit)
for _ in range(args.grandchildren if args.hang else 0):
    subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)", f"--marker={args.marker}"]
    )
fom = (args.x - 0.3) ** 2 + 0.01 * (args.n - 5) ** 2
for epoch in range(1, args.epochs + 1):
    print(f"epoch {epoch}: FoM: {fom + 1 / epoch}", flush=True)
    if args.hang:
        time.sleep(600)
if args.hang:
    print("started", flush=True)
    time.sleep(600)
if args.huge:
    chunk = b"x" * 1023 + b"\n"
    block = chunk * 1024  # 1 MiB
    out = sys.stdout.buffer
    for _ in range(args.huge // len(block)):
        out.write(block)
    out.flush()
if args.write:
    Path(args.write).write_text(f"written by trial in {os.getcwd()}\n")
if args.read:
    print(Path(args.read).read_text().strip())
time.sleep(args.sleep)
for line in args.print:
    print(line)
if not args.silent and not args.print and not args.epochs:
    print(f"FoM: {fom}", flush=True)
