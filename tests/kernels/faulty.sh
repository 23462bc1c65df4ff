# The fault tests' kernel (run it as `bash faulty.sh --marker=M ...`): FoM = --x.
#
# Every process it starts carries the marker in its argv (renamed with `exec -a`), so
# tests can count survivors: first a grandchild in the background that sleeps 60 s in
# the kernel's process group (as a data loader's worker would), then the work, a
# foreground sleep. Flags:
#
#   --marker=TEXT      put into every process's argv
#   --x=X, --n=N       the hyperparameters (FoM = X, 0.5 by default)
#   --sleep=SECONDS    how long the work takes (default 0.02)
#   --stubborn         the grandchild ignores SIGTERM and SIGINT: only SIGKILL stops it
#   --hang-above=T     hang (sleep 600 s) when X > T
#   --fail-below=T     exit 3 with a message on stderr when X < T
#   --shout=BYTES      print BYTES of output (one line) before the work
#
# When the environment has FAULT_LOG, a completed evaluation (never a failed or hung
# one) appends "<trial directory name> <x> <n>" to that file just before its FoM.
marker=unmarked x=0.5 n=0 work=0.02 stubborn= hang_above= fail_below= shout=
for arg in "$@"; do
    case $arg in
        --marker=*) marker=${arg#*=} ;;
        --x=*) x=${arg#*=} ;;
        --n=*) n=${arg#*=} ;;
        --sleep=*) work=${arg#*=} ;;
        --stubborn) stubborn=1 ;;
        --hang-above=*) hang_above=${arg#*=} ;;
        --fail-below=*) fail_below=${arg#*=} ;;
        --shout=*) shout=${arg#*=} ;;
    esac
done

# compare two decimals without floating point in bash: awk decides
above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }

if [[ -n $stubborn ]]; then
    (trap '' TERM INT && exec -a "$marker-grandchild" sleep 60) &
else
    (exec -a "$marker-grandchild" sleep 60) &
fi
if [[ -n $fail_below ]] && above "$fail_below" "$x"; then
    echo "faulty.sh: x=$x is below $fail_below: failing as asked" >&2
    exit 3
fi
if [[ -n $hang_above ]] && above "$x" "$hang_above"; then
    echo started
    (exec -a "$marker-hang" sleep 600)
fi
if [[ -n $shout ]]; then
    head -c "$shout" /dev/zero | tr '\0' y
    echo
fi
(exec -a "$marker-work" sleep "$work")
if [[ -n ${FAULT_LOG:-} ]]; then
    printf '%s %s %s\n' "${PWD##*/}" "$x" "$n" >>"$FAULT_LOG"
fi
printf 'FoM: %s\n' "$x"
