#!/usr/bin/env bash
# Where a worker's CPU time goes: runs one scenario with the C client against
# the C worker and against the Go worker (pinned as in bench/run.sh: gearmand
# and the worker on CPU 0, the client on CPU 1), and prints per job the
# worker's CPU time (perf's task-clock, and user and system time from
# /proc), context switches and system calls, counted by perf from kernel
# tracepoints. For the Go worker it also counts, through uprobes, calls of
# the runtime's handoffp (a P taken from a thread that waits inside C) and of
# goschedImpl (the binding's scheduler yields, sched.go).
# bench/notes.md explains what the figures show.
#
#   bash bench/workercost.sh [SCENARIO [N [ROUNDS]]]    default W1 4000 3
#
# Needs perf (Debian: linux-perf) and root for the tracepoints and the uprobe.
# GOMAXPROCS in the environment reaches the Go worker.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCEN=${1:-W1}
N=${2:-4000}
ROUNDS=${3:-3}
GEARMAND=${GEARMAND:-/usr/sbin/gearmand}
command -v perf >/dev/null || { echo "workercost.sh: needs perf (apt-get install linux-perf)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/workercost.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	perf probe -q -d 'probe_gobench:*' 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

cc -O2 -Wall -o "$TMP/gearbench" "$ROOT/bench/c/gearbench.c" $(pkg-config --cflags --libs gearmand)
(cd "$ROOT" && go build -o "$TMP/gobench" ./bench/go)
perf probe -q -d 'probe_gobench:*' 2>/dev/null || true
perf probe -q -x "$TMP/gobench" -a 'handoffp=runtime.handoffp'
perf probe -q -x "$TMP/gobench" -a 'gosched=runtime.goschedImpl'

source "$ROOT/bench/pair.sh"
EVENTS=task-clock,context-switches
for sc in poll ppoll epoll_pwait futex nanosleep sendto recvfrom; do EVENTS+=",syscalls:sys_enter_$sc"; done

one() { # IMPL BIN -> one line of per-job figures
	local impl=$1 bin=$2 events=$EVENTS
	[[ $impl == go ]] && events+=",probe_gobench:handoffp,probe_gobench:gosched"
	start_pair "$bin"
	perf stat -x, -e "$events" -p "$WPID" -o "$TMP/stat" &
	local ps=$!
	sleep 0.2
	local out t0 t1
	t0=$(cut -d' ' -f14,15 "/proc/$WPID/stat") # user and system clock ticks
	out=$(taskset -c 1 "$TMP/gearbench" client 127.0.0.1 "$PORT" "$SCEN" "$N" 100)
	t1=$(cut -d' ' -f14,15 "/proc/$WPID/stat")
	kill -INT "$ps"
	wait "$ps" || true
	stop_pair
	awk -F, -v impl="$impl" -v n="$N" -v out="$out" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" '
		/^[0-9.]+,/ { name = $3; sub(/.*:sys_enter_/, "", name); sub(/.*:/, "", name); v[name] = $1 }
		END {
			if (!match(out, /drained_per_sec=[0-9.]+/)) match(out, /jobs_per_sec=[0-9.]+/)
			split(substr(out, RSTART, RLENGTH), r, "=")
			split(t0, a, " "); split(t1, b, " ")
			printf "%-3s %9.0f jobs/s  cpu %6.1f us (user %5.1f, sys %5.1f)  switches %4.1f  poll %4.1f  ppoll %4.1f  epoll %4.1f  futex %4.1f  nanosleep %4.1f  sendto %4.1f  recvfrom %4.1f",
				impl, r[2], v["task-clock"] * 1000 / n, (b[1] - a[1]) * 1e6 / hz / n, (b[2] - a[2]) * 1e6 / hz / n,
				v["context-switches"] / n, v["poll"] / n, v["ppoll"] / n, v["epoll_pwait"] / n,
				v["futex"] / n, v["nanosleep"] / n, v["sendto"] / n, v["recvfrom"] / n
			if ("handoffp" in v) printf "  handoffp %4.2f  yields %4.2f", v["handoffp"] / n, v["gosched"] / n
			printf "\n"
		}' "$TMP/stat"
}

echo "$SCEN, N=$N, C client; per job (rate: drained for W3/W4), GOMAXPROCS=${GOMAXPROCS:-default}"
for _ in $(seq "$ROUNDS"); do
	one c "$TMP/gearbench"
	one go "$TMP/gobench"
done
