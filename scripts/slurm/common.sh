# shellcheck shell=bash disable=SC2034
# Shared helpers for scripts/slurm-up, scripts/slurm-down and scripts/slurm-node.
# Sourced, not executed. Callers set `set -euo pipefail` themselves.
#
# Two test clusters can run side by side on one machine:
#
#   kind 1  ClusterName=hyperdeme1  dir $REPO/.slurm/hyperdeme1  ports 16817/16818
#           one node "localhost" (CPUs=8) in the root network namespace.
#   kind 2  ClusterName=hyperdeme2  dir $REPO/.slurm/hyperdeme2  ports 16827/16828
#           nodes "n1" and "n2" (CPUs=4 each), each in its own network namespace
#           (hyperdeme-n1, hyperdeme-n2) hanging off the bridge hdslurm0.
#           Only one kind-2 cluster can exist per machine (namespaces are global).
#
# Every slurmd, of either kind, runs in a private mount namespace in which its
# own directory $DIR/nodes/<node> is bind-mounted on /var/spool/slurmd (the
# SlurmdSpoolDir, which also holds SlurmdPidFile). Several slurmds can then share
# one slurm.conf without sharing spool or pid files, and every process of a node
# (slurmd, slurmstepd, the job's tasks) can be found afterwards: its
# /proc/PID/mountinfo shows that bind mount.

SLURM_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SLURM_SPOOL_MOUNT=/var/spool/slurmd
SLURM_BRIDGE=hdslurm0
SLURM_NET_PREFIX=10.213.0       # bridge .1, node nN at .1N
SLURM_NETNS_PREFIX=hyperdeme-   # network namespace of node nN: hyperdeme-nN

say() { echo "slurm: $*" >&2; }
die() { echo "slurm: error: $*" >&2; exit 1; }

# cluster_name KIND -> hyperdeme1 | hyperdeme2
cluster_name() { echo "hyperdeme$1"; }

# cluster_dir KIND [EXPLICIT_DIR] -> absolute directory of that cluster.
# An explicit --dir wins, then HYPERDEME_SLURM_DIR, then $REPO/.slurm/<cluster>.
cluster_dir() {
    local kind=$1 dir=${2:-${HYPERDEME_SLURM_DIR:-}}
    [[ -n $dir ]] || dir=$SLURM_REPO/.slurm/$(cluster_name "$kind")
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    # mountinfo escapes whitespace, which would break process matching below.
    [[ $dir != *[[:space:]]* ]] || die "cluster directory must not contain whitespace: $dir"
    echo "$dir"
}

# cluster_nodes DIR -> node names of the cluster configured in DIR (from its env file).
cluster_nodes() {
    local dir=$1
    [[ -f $dir/env ]] || return 0
    (
        # shellcheck disable=SC1091
        source "$dir/env"
        echo "${HYPERDEME_SLURM_NODES:-}"
    )
}

netns_of() { echo "$SLURM_NETNS_PREFIX$1"; }

# pid_alive PIDFILE PATTERN -> prints the pid if it runs and its command line
# contains PATTERN (guards against stale pid files whose pid was reused).
pid_alive() {
    local pidfile=$1 pattern=$2 pid
    [[ -f $pidfile ]] || return 1
    pid=$(tr -dc 0-9 <"$pidfile" 2>/dev/null) || return 1
    [[ -n $pid ]] && alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
    echo "$pid"
}

# node_pids DIR NODE -> every process of that node: its slurmd, slurmstepds and
# job tasks (all of them live in the mount namespace with the bind mount).
node_pids() {
    local needle=" $1/nodes/$2 $SLURM_SPOOL_MOUNT " f pid
    for f in /proc/[0-9]*/mountinfo; do
        pid=${f#/proc/}
        pid=${pid%/mountinfo}
        [[ $pid != "$$" && $pid != "$BASHPID" ]] || continue
        grep -qF -- "$needle" "$f" 2>/dev/null && echo "$pid"
    done
    return 0
}

# alive PID: the process exists and is not a zombie. Daemonized processes are
# reparented to PID 1, which here reaps them only after a while, so a killed
# daemon can linger as a zombie for seconds.
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# kill_pids PID...: TERM, wait up to ~5 s, then KILL what is left.
kill_pids() {
    local pids=("$@") i left p
    ((${#pids[@]})) || return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        left=()
        for p in "${pids[@]}"; do alive "$p" && left+=("$p"); done
        ((${#left[@]})) || return 0
        sleep 0.1
    done
    kill -KILL "${left[@]}" 2>/dev/null || true
    sleep 0.2
}

# stop_node DIR NODE [SIGNAL]: kill everything belonging to that node.
# With SIGNAL=KILL the node dies abruptly (simulated node failure).
stop_node() {
    local dir=$1 node=$2 sig=${3:-TERM} pids=() ns
    mapfile -t pids < <(node_pids "$dir" "$node")
    # A kind-2 node is also everything in its network namespace.
    ns=$(netns_of "$node")
    if [[ $node != localhost ]] && ip netns list 2>/dev/null | grep -qw -- "$ns"; then
        mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2>/dev/null)
    fi
    ((${#pids[@]})) || return 0
    if [[ $sig == KILL ]]; then
        kill -KILL "${pids[@]}" 2>/dev/null || true
        sleep 0.2
    else
        kill_pids "${pids[@]}"
    fi
}

# start_node DIR NODE: start slurmd for NODE (no-op when it already runs).
start_node() {
    local dir=$1 node=$2 spool=$1/nodes/$2 conf=$1/slurm.conf
    if pid_alive "$spool/slurmd.pid" "$conf" >/dev/null; then
        return 0
    fi
    # Leftovers of a dead slurmd (orphaned slurmstepds) would confuse a new one.
    stop_node "$dir" "$node" KILL
    mkdir -p "$spool" "$SLURM_SPOOL_MOUNT"
    find "$spool" -mindepth 1 -delete
    local cmd="mount --bind '$spool' '$SLURM_SPOOL_MOUNT' && exec slurmd -f '$conf' -N '$node'"
    # setsid + slurmd daemonizing: the node outlives the calling script.
    # `unshare -m` makes the bind mount private to this slurmd and its children.
    if [[ $node == localhost ]]; then
        setsid unshare -m sh -c "$cmd" </dev/null >>"$dir/log/slurmd-start.log" 2>&1
    else
        # nsenter --net, not `ip netns exec`: the latter remounts /sys inside, and
        # slurmd then fails on the missing cgroup hierarchy. A UTS namespace
        # gives the node its own hostname, so `hostname` in a task says n1/n2.
        setsid nsenter --net="/var/run/netns/$(netns_of "$node")" \
            unshare -m -u sh -c "hostname '$node' && $cmd" </dev/null >>"$dir/log/slurmd-start.log" 2>&1
    fi || die "slurmd for $node failed to start; see $dir/log/slurmd-$node.log"
}

# node_states DIR -> "node state" lines as sinfo reports them.
node_states() {
    SLURM_CONF=$1/slurm.conf sinfo -h -N -o '%N %t' 2>/dev/null | sort -u
}

# wait_idle DIR TIMEOUT NODE... : wait until every NODE is idle (or mixed/alloc:
# up and usable). Prints diagnostics and fails on timeout.
wait_idle() {
    local dir=$1 timeout=$2
    shift 2
    local deadline=$((SECONDS + timeout)) states node ok
    while :; do
        states=$(node_states "$dir" || true)
        ok=1
        for node in "$@"; do
            grep -qE "^$node (idle|mix|alloc)$" <<<"$states" || ok=0
        done
        ((ok)) && return 0
        if ((SECONDS >= deadline)); then
            {
                echo "slurm: error: nodes $* of $(basename "$dir") not idle after ${timeout}s"
                echo "--- sinfo:"
                echo "${states:-<sinfo gave nothing>}"
                for log in "$dir"/log/*.log; do
                    [[ -f $log ]] || continue
                    echo "--- tail $log:"
                    tail -n 20 "$log"
                done
            } >&2
            return 1
        fi
        sleep 0.5
    done
}
