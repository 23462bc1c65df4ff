# shellcheck shell=bash disable=SC2034
# Shared settings and helpers for scripts/pbs-up, scripts/pbs-exec and scripts/pbs-down.
# Sourced, not executed. Callers set `set -euo pipefail` themselves.
#
# One OpenPBS server per machine, built from ../shared/vendor (or
# $HYPERDEME_PBS_ARCHIVE) into /opt/pbs. PBS refuses every 127.0.0.0/8 address
# for its hosts, so its daemons and every PBS command run in the private network
# namespace $PBS_NETNS, whose own `lo` carries $PBS_ADDR/32 and whose
# /etc/netns/$PBS_NETNS/hosts maps this machine's hostname to it. Its traffic
# never leaves that namespace.

PBS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PBS_PREFIX=/opt/pbs
PBS_EXEC_BIN=$PBS_PREFIX/bin
PBS_NETNS=hyperdeme-pbs
PBS_ADDR=10.214.0.1
PBS_USER=${HYPERDEME_PBS_USER:-hdpbs}
PBS_STAMP=$PBS_PREFIX/.hyperdeme-build
PBS_STATE=$PBS_REPO/.pbs        # env file and venv of this checkout
# A venv of Debian's /usr/bin/python3, readable by all, with this checkout
# installed editable: the test user can run neither pyenv's python (under
# /root, mode 700) nor a venv made from it.
PBS_VENV=$PBS_STATE/venv
PBS_HOME=/var/spool/pbs

say() { echo "pbs: $*" >&2; }
die() { echo "pbs: error: $*" >&2; exit 1; }

pbs_archive() {
    local archive=${HYPERDEME_PBS_ARCHIVE:-}
    local dir=$PBS_REPO
    # ../shared/vendor next to the checkout, or next to one of its parents (a worktree).
    while [[ -z $archive && $dir != / ]]; do
        dir=$(dirname "$dir")
        archive=$(compgen -G "$dir/shared/vendor/openpbs-*.tar.gz" | head -n 1) || true
    done
    [[ -n $archive && -f $archive ]] ||
        die "no OpenPBS source archive: set HYPERDEME_PBS_ARCHIVE or put openpbs-*.tar.gz in ../shared/vendor next to the repository"
    echo "$archive"
}

# in_ns CMD...: run CMD in the PBS network namespace (as root), with its hosts file.
in_ns() { ip netns exec "$PBS_NETNS" "$@"; }

ns_exists() { ip netns list 2>/dev/null | grep -qw -- "$PBS_NETNS"; }

# pbs_pids -> every PBS daemon and datastore process on the machine: commands
# under /opt/pbs or named pbs_*, the datastore's postmaster (its command line
# names $PBS_HOME/datastore) and that postmaster's children ("postgres: ...").
pbs_pids() {
    local f pid exe stat postmasters=" "
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        [[ $pid != "$$" && $pid != "$BASHPID" ]] || continue
        exe=$({ tr '\0' ' ' <"$f"; } 2>/dev/null) || continue
        case $exe in
        *"$PBS_HOME"/datastore*) echo "$pid"; postmasters+="$pid " ;;
        "$PBS_PREFIX"/* | pbs_*) echo "$pid" ;;
        esac
    done
    [[ $postmasters != " " ]] || return 0
    for f in /proc/[0-9]*/stat; do
        stat=$({ cat "$f"; } 2>/dev/null) || continue
        stat=${stat##*) }   # state ppid ...
        stat=${stat#* }
        [[ $postmasters == *" ${stat%% *} "* ]] && { pid=${f#/proc/}; echo "${pid%/stat}"; }
    done
    return 0
}

# timed LABEL CMD...: run CMD and print how long it took.
timed() {
    local label=$1 start=$SECONDS
    shift
    "$@"
    say "$label: $((SECONDS - start)) s"
}
