# A trial that leaves three daemons behind (run it as `bash daemons.sh MARKER [--x=...]`):
#   MARKER-envi-T  setsid and `env -i`: out of the process group, without the run's mark
#   MARKER-keep-T  setsid only: out of the process group, with the marks
#   MARKER-fork-T  double-forked: an orphan in the trial's process group
# (T is the trial's directory name, its id), each a `sleep 300` renamed with `exec -a`.
# It waits until all three run, sleeps $DAEMONS_HANG seconds if set, and prints its FoM.
m=$1
t=$(basename "$PWD")
setsid env -i bash -c ': >envi-up; exec -a "$0" sleep 300' "$m-envi-$t" &
(bash -c ': >fork-up; exec -a "$0" sleep 300' "$m-fork-$t" &)
setsid bash -c ': >keep-up; exec -a "$0" sleep 300' "$m-keep-$t" &
until [ -e envi-up ] && [ -e fork-up ] && [ -e keep-up ]; do sleep 0.005; done
if [ -n "$DAEMONS_HANG" ]; then sleep "$DAEMONS_HANG"; fi
echo "FoM: 1"
