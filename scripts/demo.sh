#!/usr/bin/env bash
# make demo: build the reverse example (the PHP manual's worker/client pair),
# start a throwaway gearmand on 127.0.0.1 on a free port, run the worker in the
# background (-count 1: it exits after one job) and the client against it.
# Everything started here is stopped on exit, also on failure or Ctrl-C.
#
# Environment: DEMO_DELAY (default 1s) is the worker's pause per character,
# like the PHP example's sleep(1); DEMO_TIMEOUT (default 120) bounds the client;
# DEMO_BIN, a directory holding worker and client already built, skips the build
# (scripts/test.sh runs its -tags gearman_static build this way).
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO_ROOT"

DEMO_DELAY=${DEMO_DELAY:-1s}
DEMO_TIMEOUT=${DEMO_TIMEOUT:-120}
GEARMAND_BIN=${GEARMAND:-$(command -v gearmand || true)}
if [ -z "$GEARMAND_BIN" ] || [ ! -x "$GEARMAND_BIN" ]; then
	echo "demo: gearmand not found (package gearman-job-server); run scripts/setup.sh" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/libgearman-go-demo.XXXXXX")
gearmand_pid=""
worker_pid=""
client_pid=""

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# Client and worker first, then the server; each only if still running, by its own pid.
	for pid in $client_pid $worker_pid $gearmand_pid; do
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	if [ "$rc" -ne 0 ] && [ -s "$work/gearmand.log" ]; then
		echo "--- gearmand log ($work/gearmand.log) ---" >&2
		tail -n 20 "$work/gearmand.log" >&2
	fi
	rm -rf "$work"
	if [ "$rc" -ne 0 ]; then
		echo "demo: FAILED (exit $rc)" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bin=$work/bin
if [ -n "${DEMO_BIN:-}" ]; then
	bin=$DEMO_BIN
else
	step "build examples/reverse/{worker,client}"
	go build -o "$bin/" ./examples/reverse/worker ./examples/reverse/client
	echo ok
fi

step "start gearmand on 127.0.0.1"
# The port can be taken between freeport.sh and gearmand's bind: retry.
for attempt in 1 2 3; do
	port=$(bash scripts/freeport.sh)
	"$GEARMAND_BIN" --config-file=/dev/null -L 127.0.0.1 -p "$port" -t 2 \
		-l "$work/gearmand.log" -P "$work/gearmand.pid" &
	gearmand_pid=$!
	up=0
	for _ in $(seq 1 100); do # up to 10s
		kill -0 "$gearmand_pid" 2>/dev/null || break
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			up=1
			break
		fi
		sleep 0.1
	done
	[ "$up" -eq 1 ] && break
	kill "$gearmand_pid" 2>/dev/null || true
	wait "$gearmand_pid" 2>/dev/null || true
	gearmand_pid=""
	echo "gearmand did not come up on port $port (attempt $attempt)" >&2
done
[ -n "$gearmand_pid" ] || { echo "demo: could not start gearmand" >&2; exit 1; }
echo "$("$GEARMAND_BIN" --version 2>/dev/null | grep -m1 .) pid $gearmand_pid, 127.0.0.1:$port"

step "start the worker: worker -host 127.0.0.1 -port $port -count 1 -delay $DEMO_DELAY"
"$bin/worker" -host 127.0.0.1 -port "$port" -count 1 -delay "$DEMO_DELAY" \
	> >(sed -u 's/^/[worker] /') 2>&1 &
worker_pid=$!
# Wait until gearmand lists the worker for "reverse" (admin "status": function,
# total, running, available workers), so a worker that cannot start fails the
# demo here instead of leaving the client waiting.
registered=0
for _ in $(seq 1 100); do # up to 10s
	kill -0 "$worker_pid" 2>/dev/null || break
	if gearadmin -h 127.0.0.1 -p "$port" --status 2>/dev/null | awk '$1 == "reverse" && $4 > 0 { ok = 1 } END { exit !ok }'; then
		registered=1
		break
	fi
	sleep 0.1
done
[ "$registered" -eq 1 ] || { echo "demo: the worker did not register the function \"reverse\"" >&2; exit 1; }

step "run the client: client -host 127.0.0.1 -port $port"
# In the background plus `wait`, so that a signal to this script is handled at
# once (bash runs traps only after a foreground command ends).
timeout "$DEMO_TIMEOUT" "$bin/client" -host 127.0.0.1 -port "$port" \
	> >(sed -u 's/^/[client] /') 2>&1 &
client_pid=$!
client_rc=0
wait "$client_pid" || client_rc=$?
client_pid=""
if [ "$client_rc" -eq 124 ]; then
	echo "demo: the client did not finish within ${DEMO_TIMEOUT}s" >&2
	exit 1
elif [ "$client_rc" -ne 0 ]; then
	echo "demo: the client exited with status $client_rc" >&2
	exit 1
fi

step "wait for the worker to exit (-count 1)"
for _ in $(seq 1 100); do # up to 10s
	kill -0 "$worker_pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$worker_pid" 2>/dev/null; then
	echo "demo: the worker is still running after its job" >&2
	exit 1
fi
worker_rc=0
wait "$worker_pid" || worker_rc=$?
worker_pid=""
[ "$worker_rc" -eq 0 ] || { echo "demo: the worker exited with status $worker_rc" >&2; exit 1; }
echo ok

step "demo finished"
