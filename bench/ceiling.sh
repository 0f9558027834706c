#!/usr/bin/env bash
# W1 on one CPU, pinned as bench/run.sh's W1-1cpu (gearmand and the worker on
# CPU 0, the client on CPU 1, Go's default GOMAXPROCS, so one P), for pairs
# of client and worker, in interleaved rounds with a fresh gearmand each run:
# how close any Go program over libgearman can come to C there.
#
#   bash bench/ceiling.sh [N [ROUNDS [PAIR...]]]     default 20000 5, all pairs
#
# A PAIR is CLIENT/WORKER, each one of
#   c       bench/c/gearbench.c
#   cloop   bench/floor (the worker with FLOOR_MODE=cloop): its whole loop in C inside one
#           cgo call, so a Go runtime that is present and idle; the least any
#           Go program over libgearman pays
#   go      the binding (bench/go; the worker runs Run)
#   work    the binding's worker as a loop of Work calls (worker only)
#   go2     the binding's worker with GOMAXPROCS=2 on its one CPU (worker only)
# The table gives each pair's median jobs/s, its ratio to c/c's median, and
# the client's and worker's CPU per job. bench/notes.md has the runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-20000}
ROUNDS=${2:-5}
shift $(($# < 2 ? $# : 2))
PAIRS=("$@")
if ((${#PAIRS[@]} == 0)); then
	PAIRS=(c/c cloop/cloop go/go go/work go/c c/go cloop/c c/cloop)
fi
GEARMAND=${GEARMAND:-/usr/sbin/gearmand}
unset GOMAXPROCS

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ceiling.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

cc -O2 -Wall -o "$TMP/c" "$ROOT/bench/c/gearbench.c" $(pkg-config --cflags --libs gearmand)
(cd "$ROOT" && go build -o "$TMP/go" ./bench/go && go build -o "$TMP/floor" ./bench/floor)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # utime + stime of a process
CLK_TCK=$(getconf CLK_TCK)

start_worker() { # KIND PORT: starts the worker on CPU 0, leaves its pid in $!
	case $1 in
	c) taskset -c 0 "$TMP/c" worker 127.0.0.1 "$2" >/dev/null 2>&1 & ;;
	cloop) FLOOR_MODE=cloop taskset -c 0 "$TMP/floor" worker 127.0.0.1 "$2" >/dev/null 2>&1 & ;;
	go) taskset -c 0 "$TMP/go" worker 127.0.0.1 "$2" >/dev/null 2>&1 & ;;
	work) taskset -c 0 "$TMP/go" worker 127.0.0.1 "$2" work >/dev/null 2>&1 & ;;
	go2) GOMAXPROCS=2 taskset -c 0 "$TMP/go" worker 127.0.0.1 "$2" >/dev/null 2>&1 & ;;
	*) echo "ceiling.sh: unknown worker $1" >&2 && exit 2 ;;
	esac
}

client() { # KIND PORT
	case $1 in
	c) taskset -c 1 "$TMP/c" client 127.0.0.1 "$2" W1 "$N" 100 ;;
	cloop) taskset -c 1 "$TMP/floor" client 127.0.0.1 "$2" "$N" 100 ;;
	go) taskset -c 1 "$TMP/go" client 127.0.0.1 "$2" W1 "$N" 100 ;;
	*) echo "ceiling.sh: unknown client $1" >&2 && exit 2 ;;
	esac
}

one() { # PAIR: one run; prints "PAIR jobs_per_sec=… cpu_sec=… worker_sec=…"
	local port g w t0 out
	port=$(free_port)
	taskset -c 0 "$GEARMAND" -t 2 -L 127.0.0.1 -p "$port" -l /dev/null &
	g=$!
	pids+=("$g")
	until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.05; done
	start_worker "${1#*/}" "$port"
	w=$!
	pids+=("$w")
	until [[ $("$TMP/go" workers 127.0.0.1 "$port" 2>/dev/null || echo 0) -ge 1 ]]; do sleep 0.05; done
	t0=$(ticks "$w")
	out=$(client "${1%/*}" "$port")
	echo "$1 $out worker_sec=$(awk -v a="$t0" -v b="$(ticks "$w")" -v t="$CLK_TCK" 'BEGIN { printf "%.3f", (b - a) / t }')"
	kill "$w" "$g"
	wait "$w" "$g" 2>/dev/null || true
}

echo "W1 on one CPU, N=$N, $ROUNDS rounds: ${PAIRS[*]}" >&2
for ((r = 1; r <= ROUNDS; r++)); do
	for p in "${PAIRS[@]}"; do
		one "$p" | tee -a "$TMP/lines" >&2
	done
done

median() { sort -g | awk '{ v[NR] = $1 } END { printf "%s", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { # PAIR KEY
	awk -v p="$1" -v k="$2" '$1 == p { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$TMP/lines"
}
base=$(field c/c jobs_per_sec | median)
echo
echo "| client/worker | jobs/s median [min–max] | ratio to c/c | client CPU µs/job | worker CPU µs/job |"
echo "|---|---:|---:|---:|---:|"
for p in "${PAIRS[@]}"; do
	med=$(field "$p" jobs_per_sec | median)
	lo=$(field "$p" jobs_per_sec | sort -g | head -1)
	hi=$(field "$p" jobs_per_sec | sort -g | tail -1)
	awk -v p="$p" -v m="$med" -v lo="$lo" -v hi="$hi" -v b="${base:-0}" -v n="$N" \
		-v c="$(field "$p" cpu_sec | median)" -v w="$(field "$p" worker_sec | median)" \
		'BEGIN { printf "| %s | %.0f [%.0f–%.0f] | %s | %.1f | %.1f |\n", p, m, lo, hi, (b > 0 ? sprintf("%.2f×", m / b) : "–"), c * 1e6 / n, w * 1e6 / n }'
done
