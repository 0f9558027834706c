#!/usr/bin/env bash
# CPU profiles of the Go client and the Go worker for W1 and W2, with the cgo
# calls per job: the figures behind "Where the time goes" in docs/benchmarks.md.
#
#   bash bench/profile.sh            # N: W1 20 000, W2 50 000
#   PROFILE_SCALE=0.2 bash bench/profile.sh
#
# gearmand (-t 2) and the worker are pinned to CPU 0, the client to CPU 1, as
# in bench/run.sh. Profiles go to bench/results/profile-<time>/; the script
# prints `go tool pprof -top` of each and the cgo calls per job.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GEARMAND=${GEARMAND:-$(command -v gearmand || echo /usr/sbin/gearmand)}
SCALE=${PROFILE_SCALE:-1}
OUT="$ROOT/bench/results/profile-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
cd "$ROOT"
BIN=$(mktemp -d)
go build -o "$BIN/gobench" ./bench/go

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$BIN"
}
trap cleanup EXIT

for scen in W1 W2; do
	n=$(awk -v s="$SCALE" -v b="$([ "$scen" = W1 ] && echo 20000 || echo 50000)" 'BEGIN { printf "%d", s * b }')
	p=$(port)
	taskset -c 0 "$GEARMAND" -t 2 -L 127.0.0.1 -p "$p" -l "$OUT/gearmand-$scen.log" &
	gpid=$!
	pids+=("$gpid")
	until (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do sleep 0.05; done
	mkdir -p "$OUT/$scen"
	GOBENCH_PROFILE="$OUT/$scen" taskset -c 0 "$BIN/gobench" worker 127.0.0.1 "$p" 2>"$OUT/$scen/worker.err" &
	wpid=$!
	pids+=("$wpid")
	sleep 0.5
	GOBENCH_PROFILE="$OUT/$scen" taskset -c 1 "$BIN/gobench" client 127.0.0.1 "$p" "$scen" "$n" 100 \
		2>"$OUT/$scen/client.err" | tee "$OUT/$scen/result.txt"
	kill -TERM "$wpid"
	wait "$wpid" || true
	kill -TERM "$gpid"
	wait "$gpid" || true
	echo "== $scen (N=$n)"
	cat "$OUT/$scen/client.err" "$OUT/$scen/worker.err"
	for who in "client-$scen" worker; do
		echo "-- $who: top by cumulative time"
		go tool pprof -top -cum -nodecount=22 "$OUT/$scen/$who.pprof" 2>/dev/null | sed -n '1,30p'
	done
done
echo "profiles in $OUT"
