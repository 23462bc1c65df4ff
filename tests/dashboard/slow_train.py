"""A slow training program for the dashboard's tests: sleeps ``--sleep`` seconds,
reports intermediate FoMs, prints its flags (hostile ones included) to stdout and
stderr, then ``FoM: <value>``; ``--tag`` takes any text."""

import argparse
import math
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--layers", type=int, default=3)
parser.add_argument("--tag", default="plain")
parser.add_argument("--sleep", type=float, default=0.0)
args = parser.parse_args()

print(f"training with tag {args.tag} <img src=x onerror=document.title='pwned-stdout'>")
print(f"warning about {args.tag} <script>document.title='pwned-stderr'</script>", file=sys.stderr)
fom = (math.log10(args.lr) + 2) ** 2 + 0.1 * (args.layers - 3) ** 2 + 0.01
time.sleep(args.sleep)
print(f"FoM: {fom!r}", flush=True)
