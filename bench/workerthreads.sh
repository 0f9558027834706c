#!/usr/bin/env bash
# The worker's CPU time and context switches, thread by thread: a fresh
# gearmand and one echo worker pinned to CPU 0 (bench/pair.sh), the C client
# on CPU 1 running one scenario, and for each of the worker's threads the
# clock ticks (user + system) and the voluntary and involuntary switches it
# used meanwhile, read from /proc. No perf needed.
#
#   bash bench/workerthreads.sh [go|c] [SCENARIO [N]]    default go W1 4000
#
# GOMAXPROCS in the environment reaches the Go worker. bench/notes.md uses it
# to compare ways of waiting by the worker's ticks for the same N.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMPL=${1:-go}
SCEN=${2:-W1}
N=${3:-4000}
GEARMAND=${GEARMAND:-/usr/sbin/gearmand}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/workerthreads.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

cc -O2 -Wall -o "$TMP/gearbench" "$ROOT/bench/c/gearbench.c" $(pkg-config --cflags --libs gearmand)
(cd "$ROOT" && go build -o "$TMP/gobench" ./bench/go)
source "$ROOT/bench/pair.sh"
bin=$TMP/gobench
[[ $IMPL == c ]] && bin=$TMP/gearbench

snap() { # tid voluntary involuntary utime stime
	local t
	for t in /proc/"$WPID"/task/*; do
		echo "$(basename "$t") $(awk '/^voluntary_ctxt/ {v = $2} /^nonvoluntary_ctxt/ {n = $2} END {print v, n}' "$t/status") $(cut -d' ' -f14,15 "$t/stat")"
	done | sort
}
start_pair "$bin"
snap >"$TMP/before"
out=$(taskset -c 1 "$TMP/gearbench" client 127.0.0.1 "$PORT" "$SCEN" "$N" 100)
snap >"$TMP/after"
stop_pair
echo "$IMPL $SCEN N=$N GOMAXPROCS=${GOMAXPROCS:-default}: $out"
join "$TMP/before" "$TMP/after" | awk -v n="$N" '
	{ v = $6 - $2; iv = $7 - $3; tk = $8 - $4 + $9 - $5
	  if (v + iv + tk > 0) printf "  thread %s: ticks %d, switches %d voluntary, %d involuntary\n", $1, tk, v, iv
	  T += tk; V += v; IV += iv }
	END { printf "  all: ticks %d, switches per job %.2f voluntary, %.2f involuntary\n", T, V / n, IV / n }'
