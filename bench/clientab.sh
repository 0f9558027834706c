#!/usr/bin/env bash
# The Go client (bench/go) built at two git revisions, run against C echo
# workers (bench/c/gearbench.c) in interleaved pairs, one fresh gearmand per
# run: jobs/s and the client's CPU seconds, and their medians.
#
#   bash bench/clientab.sh OLD NEW [SCENARIO [N [WORKERS [RUNS]]]]   default W1 5000 1 5
#   STRACE=1 bash bench/clientab.sh OLD NEW W1 3000   one run each under strace -f -c:
#                                                     the client's system calls
#
# OLD and NEW are anything git rev-parse takes, or "." for the working tree.
# Unpinned by default; PIN_SERVER=0 PIN_CLIENT=1 pin gearmand and the workers,
# and the client, with taskset. GOMAXPROCS (default 2) reaches the clients.
# bench/notes.md has the runs this script made.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OLD=$1 NEW=$2 SCEN=${3:-W1} N=${4:-5000} WORKERS=${5:-1} RUNS=${6:-5}
GEARMAND=${GEARMAND:-/usr/sbin/gearmand}
export GOMAXPROCS=${GOMAXPROCS:-2}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/clientab.XXXXXX")
pids=()
worktrees=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for wt in "${worktrees[@]}"; do git -C "$ROOT" worktree remove --force "$wt" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

cc -O2 -Wall -o "$TMP/gearbench" "$ROOT/bench/c/gearbench.c" $(pkg-config --cflags --libs gearmand)
build() { # REV NAME
	if [[ $1 == . ]]; then
		(cd "$ROOT" && go build -o "$TMP/$2" ./bench/go)
		return
	fi
	git -C "$ROOT" worktree add --detach -q "$TMP/src-$2" "$1"
	worktrees+=("$TMP/src-$2")
	(cd "$TMP/src-$2" && go build -o "$TMP/$2" ./bench/go)
}
build "$OLD" old
build "$NEW" new

pin() { # CPU CMD...: becomes CMD, under taskset when CPU is set (so that
	# "pin ... &" leaves CMD's own pid in $!)
	local cpu=$1
	shift
	if [[ -n $cpu ]]; then exec taskset -c "$cpu" "$@"; else exec "$@"; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

one() { # NAME: one run of that client against fresh workers
	local port w wp=() k
	port=$(free_port)
	pin "${PIN_SERVER:-}" "$GEARMAND" -t 2 -L 127.0.0.1 -p "$port" -l /dev/null &
	pids+=("$!")
	local g=$!
	until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.05; done
	for ((k = 0; k < WORKERS; k++)); do
		pin "${PIN_SERVER:-}" "$TMP/gearbench" worker 127.0.0.1 "$port" >/dev/null 2>&1 &
		wp+=("$!")
		pids+=("$!")
	done
	until w=$("$TMP/new" workers 127.0.0.1 "$port" 2>/dev/null) && [[ $w -ge $WORKERS ]]; do sleep 0.05; done
	if [[ -n ${STRACE:-} ]]; then
		(pin "${PIN_CLIENT:-}" strace -f -c -o "$TMP/strace-$1" "$TMP/$1" client 127.0.0.1 "$port" "$SCEN" "$N" 100 >/dev/null)
		echo "== $1"
		head -12 "$TMP/strace-$1"
	else
		echo "$1 $(pin "${PIN_CLIENT:-}" "$TMP/$1" client 127.0.0.1 "$port" "$SCEN" "$N" 100)"
	fi
	kill "${wp[@]}" "$g"
	wait "${wp[@]}" "$g" 2>/dev/null || true
}

echo "$SCEN, N=$N, $WORKERS C worker(s), GOMAXPROCS=$GOMAXPROCS; old=$OLD new=$NEW"
if [[ -n ${STRACE:-} ]]; then
	one old
	one new
	exit 0
fi
for ((r = 1; r <= RUNS; r++)); do
	one old
	one new
done >"$TMP/lines"
cat "$TMP/lines"
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%s", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { # NAME KEY: that value of each of NAME's runs
	awk -v v="$1" -v k="$2" '$1 == v { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$TMP/lines"
}
for v in old new; do
	echo "median $v: $(field $v jobs_per_sec | median) jobs/s, client CPU $(field $v cpu_sec | median) s ($RUNS runs)"
done
