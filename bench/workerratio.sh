#!/usr/bin/env bash
# A worker's CPU per job, as a fraction of gearmand's, for the C worker and
# the Go worker built at one or more git revisions, without perf attached.
#
#   bash bench/workerratio.sh [SCENARIO [N [ROUNDS [REV...]]]]   default W1 20000 4 (working tree)
#
# Each round runs the C client (pinned to CPU 1, as in bench/run.sh) against
# the C worker and then against each Go worker, each with a fresh gearmand;
# gearmand and the worker share CPU 0. The CPU times come from /proc, read
# around the client's run. This VM's speed drifts by up to a third within
# minutes, and gearmand's CPU per job drifts with it; the worker's CPU divided
# by gearmand's, both measured in the same run, stayed within about 0.01
# from round to round (bench/notes.md). The last lines give each worker's
# median ratio. REV is anything git rev-parse takes; "." is the working tree,
# "floor" is bench/floor (the least a cgo worker must do) from the tree,
# "floor:MODE" the same with FLOOR_MODE=MODE (bench/floor/main.go), and
# "c+thread" the C worker with an idle second thread (GEARBENCH_IDLE_THREAD),
# and "php" the PHP extension's worker (bench/php/worker.php).
# GOMAXPROCS (default 2, as in bench/run.sh) reaches the Go workers.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCEN=${1:-W1}
N=${2:-20000}
ROUNDS=${3:-4}
shift $(($# < 3 ? $# : 3))
REVS=("$@")
[[ ${#REVS[@]} -gt 0 ]] || REVS=(.)
GEARMAND=${GEARMAND:-/usr/sbin/gearmand}
export GOMAXPROCS=${GOMAXPROCS:-2}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/workerratio.XXXXXX")
pids=()
worktrees=() # the git revisions checked out below
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for wt in "${worktrees[@]}"; do git -C "$ROOT" worktree remove --force "$wt" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

cc -O2 -Wall -o "$TMP/gearbench" "$ROOT/bench/c/gearbench.c" $(pkg-config --cflags --libs gearmand)
# with_env SCRIPT VAR=VALUE BIN writes SCRIPT, which execs BIN with VAR set
# (exec keeps the process id that start_pair reads the CPU time of).
with_env() { printf '#!/bin/sh\nexec env %q %q "$@"\n' "$2" "$3" >"$1" && chmod +x "$1"; }

names=(c)
bins=("$TMP/gearbench")
for r in "${REVS[@]}"; do
	if [[ $r == . ]]; then
		name=go-tree
		(cd "$ROOT" && go build -o "$TMP/$name" ./bench/go)
	elif [[ $r == floor* ]]; then
		name=${r/:/-}
		[[ -x $TMP/floor-bin ]] || (cd "$ROOT" && go build -o "$TMP/floor-bin" ./bench/floor)
		mode=${r#floor}
		with_env "$TMP/$name" "FLOOR_MODE=${mode#:}" "$TMP/floor-bin"
	elif [[ $r == php ]]; then
		name=php
		printf '#!/bin/sh\nshift\nexec php %q "$@"\n' "$ROOT/bench/php/worker.php" >"$TMP/$name"
		chmod +x "$TMP/$name"
	elif [[ $r == c+thread ]]; then
		name=$r
		with_env "$TMP/$name" GEARBENCH_IDLE_THREAD=1 "$TMP/gearbench"
	else
		name=go-$(git -C "$ROOT" rev-parse --short "$r")
		git -C "$ROOT" worktree add --detach -q "$TMP/src-${name#go-}" "$r"
		worktrees+=("$TMP/src-${name#go-}")
		(cd "$TMP/src-${name#go-}" && go build -o "$TMP/$name" ./bench/go)
	fi
	names+=("$name")
	bins+=("$TMP/$name")
done

source "$ROOT/bench/pair.sh"
ticks() { cut -d' ' -f14,15 "/proc/$1/stat"; } # user and system clock ticks

one() { # NAME BIN -> one line
	local name=$1 bin=$2 out w0 w1 g0 g1
	start_pair "$bin"
	w0=$(ticks "$WPID") g0=$(ticks "$GPID")
	out=$(taskset -c 1 "$TMP/gearbench" client 127.0.0.1 "$PORT" "$SCEN" "$N" 100)
	w1=$(ticks "$WPID") g1=$(ticks "$GPID")
	stop_pair
	awk -v name="$name" -v out="$out" -v w0="$w0" -v w1="$w1" -v g0="$g0" -v g1="$g1" -v n="$N" -v hz="$(getconf CLK_TCK)" '
		BEGIN {
			if (!match(out, /drained_per_sec=[0-9.]+/)) match(out, /jobs_per_sec=[0-9.]+/)
			split(substr(out, RSTART, RLENGTH), r, "=")
			split(w0, a, " "); split(w1, b, " "); split(g0, c, " "); split(g1, d, " ")
			us = 1e6 / hz / n
			wu = (b[1] - a[1]) * us; ws = (b[2] - a[2]) * us; gm = (d[1] + d[2] - c[1] - c[2]) * us
			printf "%-12s %7.0f jobs/s  worker user %5.1f sys %5.1f us/job  gearmand %6.1f us/job  ratio %.3f\n", name, r[2], wu, ws, gm, (wu + ws) / gm
		}'
}

echo "$SCEN, N=$N, C client, GOMAXPROCS=$GOMAXPROCS; worker CPU per job and its ratio to gearmand's"
for _ in $(seq "$ROUNDS"); do
	for i in "${!names[@]}"; do one "${names[$i]}" "${bins[$i]}"; done
done | tee "$TMP/lines"
echo "median ratio:"
for name in "${names[@]}"; do
	awk -v name="$name" '$1 == name { print $NF }' "$TMP/lines" | sort -n |
		awk -v name="$name" '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "  %-12s %.3f (%d rounds)\n", name, m, NR }'
done
