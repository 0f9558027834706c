# Sourced by bench/workercost.sh and bench/workerratio.sh: a fresh gearmand
# and one echo worker, both pinned to CPU 0 as in bench/run.sh.
#
#   start_pair BIN    sets PORT, GPID (gearmand) and WPID (the worker, started
#                     as "BIN worker 127.0.0.1 PORT"), adds both to pids, and
#                     returns once the worker has had half a second to settle
#   stop_pair         stops both
#
# The caller sets GEARMAND and keeps the array pids for its exit trap.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_pair() {
	PORT=$(free_port)
	taskset -c 0 "$GEARMAND" -t 2 -L 127.0.0.1 -p "$PORT" -l /dev/null &
	GPID=$!
	pids+=("$GPID")
	until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do sleep 0.05; done
	taskset -c 0 "$1" worker 127.0.0.1 "$PORT" 2>/dev/null &
	WPID=$!
	pids+=("$WPID")
	sleep 0.5
}

stop_pair() {
	kill "$WPID" "$GPID"
	wait "$WPID" "$GPID" 2>/dev/null || true
}
