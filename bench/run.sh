#!/usr/bin/env bash
# Side-by-side benchmark: the same Gearman scenarios through plain C
# libgearman (bench/c), the Go binding (bench/go) and the PHP extension
# (bench/php), each client measured against its own echo worker.
#
#   bash bench/run.sh                 run, print the tables, write docs/benchmarks.{md,svg}
#   bash bench/run.sh report RAW...   only redo the tables and the docs from saved
#                                     raw results (bench/results/*.tsv, which git
#                                     ignores: docs/benchmarks.md keeps the figures);
#                                     for each scenario and implementation the last
#                                     file that has it wins
#
# Scenarios (100-byte payloads unless stated):
#   W1  20 000 sequential DoNormal
#   W2  50 000 AddTask, then one RunTasks
#   W3  50 000 sequential DoBackground: submit rate, and rate until drained
#   W4  50 000 AddTaskBackground, then one RunTasks: submit rate, and until drained
#   W5  200 sequential DoNormal of 1 MiB
#   W2F, W4F  W2 and W4 for C only, with GEARMAN_CLIENT_FREE_TASKS (which the
#       PHP extension and the Go binding always set). They run along with W2
#       and W4 whenever C does, unless BENCH_FREE_TASKS_VARIANT=0.
#   W1-1cpu  W1 with Go's default GOMAXPROCS (GOMAXPROCS unset for the Go client
#       and worker, whatever BENCH_GOMAXPROCS or GOMAXPROCS say): pinned, each
#       process may use one CPU, so Go runs with one P. C, Go (worker: Run), PHP.
#   W1-1cpu-work  the same with the Go worker as a PHP-style loop of Work calls
#       (gobench worker ... work); Go only, its ratio is to W1-1cpu's C.
#   W6  20 000 DoNormal from 64 concurrent callers against 4 echo worker
#       processes: Go, 64 goroutines that share ONE Client; C (the table's C
#       column, "W6-C"), 64 threads with one gearman_client_st each. No PHP.
#   W6-own  Go only: 64 goroutines with one Client each; its ratio is to W6's C.
#       The report also prints W6's shared Client over W6-own.
#
# Environment:
#   BENCH_SCALE=1       multiplies every N
#   BENCH_RUNS=5        runs per scenario and implementation
#   BENCH_ONLY=W1,W2    scenarios to run (default W1,W2,W3,W4,W5,W1-1cpu,
#                       W1-1cpu-work,W6,W6-own)
#   BENCH_IMPLS=c,go    implementations to run (default c,go,php)
#   BENCH_W5_N=20       N for W5 (default 200 x BENCH_SCALE; W5 costs ~0.6 s a job)
#   BENCH_PIN=0         do not pin with taskset (default: gearmand and the worker on
#                       CPU BENCH_CPU_SERVER=0, the client on CPU BENCH_CPU_CLIENT=1)
#   BENCH_W6_PIN=split  how W6 and W6-own are pinned (with BENCH_PIN=1): "split"
#                       (default) gearmand alone on BENCH_CPU_SERVER, the 4 workers
#                       and the client on BENCH_CPU_CLIENT; "w1" as W1 (gearmand and
#                       the workers on BENCH_CPU_SERVER, the client on
#                       BENCH_CPU_CLIENT); "none" unpinned. bench/notes.md says why.
#   BENCH_DOCS=0        do not write docs/benchmarks.md and docs/benchmarks.svg
#   BENCH_WORKER=c      run every client against this worker (c, go or php) instead
#                       of its own, to tell client costs from worker costs; such a
#                       run prints its tables but never writes the docs
#   BENCH_RESULTS_DIR   where raw results go (default bench/results)
#   GEARBENCH_OWN_UNIQUE=1  the C client passes its own unique key in W1, W3 and W5
#                       instead of NULL, as the Go binding does (bench/c/gearbench.c)
#   GEARMAND            the gearmand binary (default /usr/sbin/gearmand)
#   BENCH_GOMAXPROCS=2  GOMAXPROCS for the Go programs (default 2; "default" leaves
#                       the choice to the runtime). Pinned to one CPU, Go would pick 1,
#                       which no Go program that may use two CPUs or more ever has,
#                       and with one P the runtime takes it from every thread that
#                       waits inside libgearman (bench/notes.md). A GOMAXPROCS in the
#                       environment wins over BENCH_GOMAXPROCS.
#
# Every run gets a fresh gearmand (-t 2 -L 127.0.0.1 -p <free port>) and a
# fresh worker of the implementation measured; each client does one untimed
# warm-up job, then prints jobs_per_sec (and drained_per_sec for W3 and W4)
# and its own CPU time. The script also reads the CPU time the worker and
# gearmand used during the client's run from /proc. Every process started here
# is stopped on exit, and every client is bounded with timeout(1).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The command as typed, with the settings given in the environment.
command_line() {
	local v words=()
	for v in BENCH_SCALE BENCH_RUNS BENCH_ONLY BENCH_IMPLS BENCH_W5_N BENCH_PIN BENCH_W6_PIN BENCH_CPU_SERVER \
		BENCH_CPU_CLIENT BENCH_FREE_TASKS_VARIANT BENCH_WORKER BENCH_GOMAXPROCS LIBGEARMAN_GO_SNDBUF GEARBENCH_OWN_UNIQUE GEARMAND GOMAXPROCS; do
		if [[ -n ${!v:-} ]]; then
			words+=("$v=${!v}")
		fi
	done
	words+=(bash bench/run.sh)
	echo "${words[*]}"
}
CMDLINE=$(command_line)

HOST=127.0.0.1
GEARMAND=${GEARMAND:-/usr/sbin/gearmand}
SCALE=${BENCH_SCALE:-1}
RUNS=${BENCH_RUNS:-5}
ONLY=${BENCH_ONLY:-W1,W2,W3,W4,W5,W1-1cpu,W1-1cpu-work,W6,W6-own}
IMPLS=${BENCH_IMPLS:-c,go,php}
W5_N=${BENCH_W5_N:-}
PIN=${BENCH_PIN:-1}
W6_PIN=${BENCH_W6_PIN:-split}
CPU_SERVER=${BENCH_CPU_SERVER:-0}
CPU_CLIENT=${BENCH_CPU_CLIENT:-1}
FREE_TASKS_VARIANT=${BENCH_FREE_TASKS_VARIANT:-1}
DOCS=${BENCH_DOCS:-1}
WORKER=${BENCH_WORKER:-}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$ROOT/bench/results}
CLK_TCK=$(getconf CLK_TCK)
# Only the Go programs read it; C, PHP and gearmand ignore it.
if [[ -z ${GOMAXPROCS:-} && ${BENCH_GOMAXPROCS:-2} != default ]]; then
	export GOMAXPROCS=${BENCH_GOMAXPROCS:-2}
fi

ALL_IMPLS=(c go php)
# Table rows: a scenario, or a scenario's drained rate (suffix d).
ROWS=(W1 W2 W2F W3 W3d W4 W4d W4F W4Fd W5 W1-1cpu W1-1cpu-work W6 W6-own)
# The scenarios a command line may name, and what each runs for.
ALL_SCENARIOS=W1,W2,W2F,W3,W4,W4F,W5,W1-1cpu,W1-1cpu-work,W6,W6-own
# W6's concurrent callers and worker processes (bench/go and bench/c have the
# 64 built in).
W6_WORKERS=4
# Raw result columns (tab-separated, one line per run):
RAW_HEADER="scenario	impl	run	n	size	jobs_per_sec	drained_per_sec	seconds	note	client_cpu_sec	worker_cpu_sec	gearmand_cpu_sec	load1	others_cpu_pct	steal_pct"

log() { printf '%s\n' "$*" >&2; }
die() {
	log "run.sh: $*"
	exit 1
}

# ---- process bookkeeping: everything started is stopped on exit ----

PIDS=()
TMP=""

track() { PIDS+=("$1"); }

untrack() {
	local p keep=()
	for p in "${PIDS[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# stop_pid sends SIGTERM, waits up to 5 s, then sends SIGKILL.
stop_pid() {
	local pid=$1 i
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "run.sh: pid $pid ignored SIGTERM; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	{ wait "$pid" || true; } 2>/dev/null
	untrack "$pid"
}

cleanup() {
	local i
	# Clients and workers first (newest first), gearmand last.
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${PIDS[i]}"
	done
	if [[ -n $TMP && -d $TMP ]]; then
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers ----

# pin CPU CMD... replaces the current (sub)shell with CMD, on CPU unless
# pinning is off or CPU is empty. Only ever called in a subshell or a
# background job.
pin() {
	local cpu=$1
	shift
	if [[ $PIN == 1 && -n $cpu ]]; then
		exec taskset -c "$cpu" "$@"
	fi
	exec "$@"
}

# cpu_for ROLE SCENARIO prints the CPU that gearmand, the worker or the client
# (ROLE) runs on in SCENARIO, or nothing for unpinned.
cpu_for() {
	local role=$1 scen=$2
	if [[ $scen == W6* ]]; then
		case $W6_PIN in
		none) return ;;
		split) [[ $role == gearmand ]] && echo "$CPU_SERVER" || echo "$CPU_CLIENT" ;;
		w1) [[ $role == client ]] && echo "$CPU_CLIENT" || echo "$CPU_SERVER" ;;
		esac
		return
	fi
	[[ $role == client ]] && echo "$CPU_CLIENT" || echo "$CPU_SERVER"
}

# run_impl SCENARIO IMPL: whether SCENARIO runs for IMPL.
run_impl() {
	case $1 in
	W2F | W4F) [[ $2 == c ]] ;;
	W6) [[ $2 != php ]] ;;
	W6-own | W1-1cpu-work) [[ $2 == go ]] ;;
	*) true ;;
	esac
}

# base_scenario SCENARIO prints the scenario the client programs run for it.
base_scenario() {
	case $1 in
	W1-1cpu | W1-1cpu-work) echo W1 ;;
	*) echo "$1" ;;
	esac
}

# go_env SCENARIO sets GO_RUN_ENV to the env(1) command that the Go programs run
# under: W1-1cpu* takes GOMAXPROCS away, so that Go picks its default.
go_env() {
	if [[ $1 == W1-1cpu* ]]; then GO_RUN_ENV=(env -u GOMAXPROCS); else GO_RUN_ENV=(env); fi
}

in_list() { # word comma-list
	[[ ,$2, == *,$1,* ]]
}

scaled() { # base -> max(1, round(base * SCALE))
	awk -v b="$1" -v s="$SCALE" 'BEGIN { n = int(b * s + 0.5); if (n < 1) n = 1; print n }'
}

n_for() {
	case $1 in
	W1 | W1-1cpu | W1-1cpu-work | W6 | W6-own) scaled 20000 ;;
	W2 | W2F | W3 | W4 | W4F) scaled 50000 ;;
	W5) if [[ -n $W5_N ]]; then echo "$W5_N"; else scaled 200; fi ;;
	esac
}

size_for() { if [[ $1 == W5 ]]; then echo 1048576; else echo 100; fi; }

# timeout_for SCENARIO N: seconds a client may take, generous on purpose
# (C runs W2 and W4 at a few hundred to a few thousand jobs/s, W5 at ~1.6).
timeout_for() {
	case $1 in
	W1 | W1-1cpu | W1-1cpu-work) echo $((30 + $2 / 1000)) ;;
	W6 | W6-own) echo $((60 + $2 / 200)) ;;
	W2 | W4) echo $((60 + $2 / 100)) ;;
	W2F | W3 | W4F) echo $((60 + $2 / 500)) ;;
	W5) echo $((60 + $2 * 3)) ;;
	esac
}

impl_name() {
	case $1 in
	c) echo C ;;
	go) echo Go ;;
	php) echo PHP ;;
	esac
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# pick_port prints a port nothing listens on, below the ephemeral range.
pick_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		port_open "$p" || {
			echo "$p"
			return
		}
	done
}

# cpu_ticks PID prints the user+system clock ticks of a process (0 if gone).
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
		echo 0
		return
	}
	stat=${stat##*) } # the fields after "(comm) "; utime and stime are the 12th and 13th
	awk '{ print $12 + $13 }' <<<"$stat"
}

# stat_ticks prints the machine's busy (user+nice+system+irq+softirq) and
# steal clock ticks so far, from /proc/stat.
stat_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $9; exit }' /proc/stat
}

# start_gearmand SCENARIO sets PORT and GPID.
start_gearmand() {
	local try i cpu
	cpu=$(cpu_for gearmand "$1")
	for ((try = 0; try < 8; try++)); do
		PORT=$(pick_port)
		pin "$cpu" "$GEARMAND" -t 2 -L "$HOST" -p "$PORT" -l "$TMP/gearmand-$PORT.log" \
			>>"$TMP/gearmand.out" 2>&1 &
		GPID=$!
		track "$GPID"
		for ((i = 0; i < 100; i++)); do
			kill -0 "$GPID" 2>/dev/null || break
			port_open "$PORT" && return 0
			sleep 0.05
		done
		stop_pid "$GPID"
	done
	die "gearmand did not start; see $TMP/gearmand.out"
}

# start_workers IMPL SCENARIO sets WPIDS and waits until gearmand lists the
# workers: one, or W6_WORKERS for W6 and W6-own.
start_workers() {
	local impl=$1 scen=$2 i k count=1 mode=run workers cpu alive
	[[ $scen == W6* ]] && count=$W6_WORKERS
	[[ $scen == W1-1cpu-work ]] && mode=work
	cpu=$(cpu_for worker "$scen")
	go_env "$scen"
	WPIDS=()
	for ((k = 0; k < count; k++)); do
		case $impl in
		c) pin "$cpu" "$TMP/gearbench" worker "$HOST" "$PORT" >>"$TMP/worker-c.log" 2>&1 & ;;
		go) pin "$cpu" "${GO_RUN_ENV[@]}" "$TMP/gobench" worker "$HOST" "$PORT" "$mode" >>"$TMP/worker-go.log" 2>&1 & ;;
		php) pin "$cpu" php "$ROOT/bench/php/worker.php" "$HOST" "$PORT" >>"$TMP/worker-php.log" 2>&1 & ;;
		esac
		WPIDS+=("$!")
		track "$!"
	done
	for ((i = 0; i < 200; i++)); do
		alive=1
		for k in "${WPIDS[@]}"; do kill -0 "$k" 2>/dev/null || alive=0; done
		((alive)) || break
		workers=$("$TMP/gobench" workers "$HOST" "$PORT" 2>/dev/null) || workers=""
		[[ -n $workers && $workers -ge $count ]] && return 0
		sleep 0.05
	done
	log "run.sh: the $impl worker(s) did not register; the log:"
	tail -5 "$TMP/worker-$impl.log" >&2 || true
	return 1
}

stop_workers() {
	local p
	for p in "${WPIDS[@]}"; do stop_pid "$p"; done
}

# workers_ticks prints the clock ticks of all of WPIDS.
workers_ticks() {
	local p t=0
	for p in "${WPIDS[@]}"; do t=$((t + $(cpu_ticks "$p"))); done
	echo "$t"
}

client_cmd() {
	case $1 in
	c) CLIENT=("$TMP/gearbench" client) ;;
	go) CLIENT=("$TMP/gobench" client) ;;
	php) CLIENT=(php "$ROOT/bench/php/client.php") ;;
	esac
}

now() { date +%s.%N; }

# one_run SCENARIO IMPL RUN appends one line to $RAW.
one_run() {
	local scen=$1 impl=$2 run=$3 n size tmo t0 t1 rc=0 out jobs drained ccpu secs cpid load
	local w0 w1 g0 g1 wcpu gcpu s0 s1 others
	n=$(n_for "$scen")
	size=$(size_for "$scen")
	tmo=$(timeout_for "$scen" "$n")
	load=$(cut -d' ' -f1 /proc/loadavg)
	start_gearmand "$scen"
	if ! start_workers "${WORKER:-$impl}" "$scen"; then
		stop_workers
		stop_pid "$GPID"
		printf '%s\t%s\t%s\t%s\t%s\tFAIL\t\t\tworker did not start\t\t\t\t%s\n' \
			"$scen" "$impl" "$run" "$n" "$size" "$load" >>"$RAW"
		return
	fi
	client_cmd "$impl"
	go_env "$scen"
	w0=$(workers_ticks)
	g0=$(cpu_ticks "$GPID")
	s0=$(stat_ticks)
	t0=$(now)
	(pin "$(cpu_for client "$scen")" "${GO_RUN_ENV[@]}" timeout -k 5 "$tmo" "${CLIENT[@]}" "$HOST" "$PORT" "$(base_scenario "$scen")" "$n" "$size") \
		>"$TMP/client.out" 2>>"$TMP/client-$impl.log" &
	cpid=$!
	track "$cpid"
	wait "$cpid" || rc=$?
	untrack "$cpid"
	t1=$(now)
	w1=$(workers_ticks)
	g1=$(cpu_ticks "$GPID")
	s1=$(stat_ticks)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	wcpu=$(awk -v a="$w0" -v b="$w1" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }')
	gcpu=$(awk -v a="$g0" -v b="$g1" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t }')
	stop_workers
	stop_pid "$GPID"
	out=$(cat "$TMP/client.out")
	jobs=$(sed -n 's/.*jobs_per_sec=\([0-9.]*\).*/\1/p' <<<"$out")
	drained=$(sed -n 's/.*drained_per_sec=\([0-9.]*\).*/\1/p' <<<"$out")
	ccpu=$(sed -n 's/.*cpu_sec=\([0-9.]*\).*/\1/p' <<<"$out")
	# What the rest of the machine used meanwhile, in % of all its CPUs (the
	# client's startup and warm-up count as "others"), and the steal time.
	others=$(awk -v s0="$s0" -v s1="$s1" -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" -v np="$(nproc)" \
		-v mine="$(awk -v a="$wcpu" -v b="$gcpu" -v c="${ccpu:-0}" 'BEGIN { print a + b + c }')" 'BEGIN {
			split(s0, a, " "); split(s1, b, " "); cap = np * (t1 - t0)
			o = ((b[1] - a[1]) / hz - mine) / cap * 100; if (o < 0) o = 0; if (o > 100) o = 100
			printf "%.0f\t%.0f", o, (b[2] - a[2]) / hz / cap * 100
		}')
	if [[ $rc -ne 0 || -z $jobs ]]; then
		local why="exit $rc"
		[[ $rc -eq 124 || $rc -eq 137 ]] && why="timed out after ${tmo}s"
		log "  $scen $impl run $run/$RUNS FAILED ($why); client log:"
		tail -3 "$TMP/client-$impl.log" | sed 's/^/    /' >&2 || true
		printf '%s\t%s\t%s\t%s\t%s\tFAIL\t\t%s\t%s\t\t%s\t%s\t%s\t%s\n' \
			"$scen" "$impl" "$run" "$n" "$size" "$secs" "$why" "$wcpu" "$gcpu" "$load" "$others" >>"$RAW"
		return
	fi
	log "  $(printf '%-12s %-3s run %d/%d  N=%-6s %-68s %6ss  others %s%%' "$scen" "$impl" "$run" "$RUNS" "$n" "$out" "$secs" "${others%%$'\t'*}")"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\t%s\t%s\t%s\t%s\t%s\n' \
		"$scen" "$impl" "$run" "$n" "$size" "$jobs" "$drained" "$secs" "$ccpu" "$wcpu" "$gcpu" "$load" "$others" >>"$RAW"
}

machine_header() {
	local cpu php_ext
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	php_ext=$(php -r 'echo phpversion("gearman");' 2>/dev/null || echo "?")
	echo "# nproc: $(nproc)"
	echo "# cpu: ${cpu:-unknown}"
	echo "# kernel: $(uname -sr)"
	echo "# libgearman: $(pkg-config --modversion gearmand 2>/dev/null || echo '?') (gearmand: $("$GEARMAND" -V 2>/dev/null | grep -m1 . | sed 's/ - .*//' || echo '?'))"
	echo "# go: $(go version 2>/dev/null | awk '{ print $3, $4 }'), GOMAXPROCS=${GOMAXPROCS:-runtime default}"
	echo "# php: $(php -r 'echo PHP_VERSION;' 2>/dev/null || echo '?') with gearman extension $php_ext"
	echo "# cc: $(cc --version 2>/dev/null | head -1)"
	echo "# binding: $(git -C "$ROOT" log -1 --format='%h %s' 2>/dev/null | cut -c1-100)$([[ -z $(git -C "$ROOT" status --porcelain -- . ':!bench' ':!docs' 2>/dev/null) ]] || echo ' (plus uncommitted changes)')"
	if [[ -n $WORKER ]]; then
		echo "# worker: every client against the $(impl_name "$WORKER") worker"
	fi
	if [[ $PIN == 1 ]]; then
		echo "# setup: gearmand -t 2 and the worker pinned to CPU $CPU_SERVER, the client to CPU $CPU_CLIENT; fresh gearmand per run"
	else
		echo "# setup: unpinned; fresh gearmand per run"
	fi
	if in_list W6 "$ONLY" || in_list W6-own "$ONLY"; then
		local how="unpinned"
		if [[ $PIN == 1 ]]; then
			case $W6_PIN in
			split) how="gearmand pinned to CPU $CPU_SERVER, the $W6_WORKERS workers and the client to CPU $CPU_CLIENT" ;;
			w1) how="gearmand and the $W6_WORKERS workers pinned to CPU $CPU_SERVER, the client to CPU $CPU_CLIENT" ;;
			esac
		fi
		echo "# setup W6: 64 callers, $W6_WORKERS worker processes; $how"
	fi
	if in_list W1-1cpu "$ONLY" || in_list W1-1cpu-work "$ONLY"; then
		echo "# setup W1-1cpu: as W1, the Go programs with GOMAXPROCS unset (the runtime's default)"
	fi
}

# ---- report: tables, docs/benchmarks.md, docs/benchmarks.svg ----

row_label() { # ROW N -> label for the chart ("|" breaks lines)
	local n=$2 k
	if ((n >= 1000 && n % 1000 == 0)); then k="$((n / 1000))k"; else k=$n; fi
	case $1 in
	W1) echo "W1|DoNormal|$k × 100 B" ;;
	W2) echo "W2|AddTask+RunTasks|$k × 100 B" ;;
	W2F) echo "W2F|C only, FREE_TASKS|$k × 100 B" ;;
	W3) echo "W3 submit|DoBackground|$k × 100 B" ;;
	W3d) echo "W3 drained|DoBackground|$k × 100 B" ;;
	W4) echo "W4 submit|AddTaskBg+Run|$k × 100 B" ;;
	W4d) echo "W4 drained|AddTaskBg+Run|$k × 100 B" ;;
	W4F) echo "W4F submit|C only, FREE_TASKS|$k × 100 B" ;;
	W4Fd) echo "W4F drained|C only, FREE_TASKS|$k × 100 B" ;;
	W5) echo "W5|DoNormal 1 MiB|$k × 1 MiB" ;;
	W1-1cpu) echo "W1 one CPU|Go worker: Run|$k × 100 B" ;;
	W1-1cpu-work) echo "W1 one CPU|Go worker: Work loop|$k × 100 B" ;;
	W6) echo "W6|64 callers, 1 Client|$k × 100 B" ;;
	W6-own) echo "W6-own|64 callers, 64 Clients|$k × 100 B" ;;
	esac
}

row_text() { # ROW N -> label for the markdown tables
	case $1 in
	W1) echo "W1 $2 × DoNormal (100 B)" ;;
	W2) echo "W2 $2 × AddTask + one RunTasks" ;;
	W2F) echo "W2F = W2, C with FREE_TASKS ¹" ;;
	W3) echo "W3 $2 × DoBackground, submit" ;;
	W3d) echo "W3 … until drained" ;;
	W4) echo "W4 $2 × AddTaskBackground + one RunTasks, submit" ;;
	W4d) echo "W4 … until drained" ;;
	W4F) echo "W4F = W4 submit, C with FREE_TASKS ¹" ;;
	W4Fd) echo "W4F … until drained ¹" ;;
	W5) echo "W5 $2 × DoNormal (1 MiB)" ;;
	W1-1cpu) echo "W1-1cpu = W1, Go's default GOMAXPROCS (1), Go worker Run ²" ;;
	W1-1cpu-work) echo "W1-1cpu-work = W1-1cpu, Go worker a Work loop ²" ;;
	W6) echo "W6 $2 × DoNormal from 64 callers, Go: one shared Client ³" ;;
	W6-own) echo "W6-own = W6, Go: one Client per goroutine ³" ;;
	esac
}

# The Go and PHP figures a C-only row is compared with.
ref_row() {
	case $1 in
	W2F) echo W2 ;;
	W4F) echo W4 ;;
	W4Fd) echo W4d ;;
	W1-1cpu-work) echo W1-1cpu ;;
	W6-own) echo W6 ;;
	*) echo "$1" ;;
	esac
}

fmt_rate() {
	awk -v v="$1" 'BEGIN { if (v >= 100) printf "%.0f", v; else if (v >= 10) printf "%.1f", v; else printf "%.2f", v }'
}

# merge RAW... prints the data lines of the given raw files; for each scenario
# and implementation only the last file that has it counts.
merge() {
	local files=() i
	for ((i = $#; i >= 1; i--)); do files+=("${!i}"); done
	awk -F'\t' 'FNR == 1 { f++ } /^#/ || NF < 6 { next }
		{ k = $1 FS $2; if (!(k in owner)) owner[k] = f; if (owner[k] == f) print }' "${files[@]}"
}

# AWK_STATS sorts v[1..c] and sets med, lo, hi.
AWK_STATS='function stats(v, c,    i, j, x) {
	for (i = 2; i <= c; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
	med = (c % 2) ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
	lo = v[1]; hi = v[c]
}'

# aggregate: data lines on stdin -> ROW IMPL N COUNT FAILS MEDIAN MIN MAX.
aggregate() {
	awk -F'\t' -v OFS='\t' "$AWK_STATS"'
		function add(row, val,    k) {
			k = row OFS $2
			if (!(k in nn)) { order[++m] = k; nn[k] = $4 }
			if ($6 == "FAIL" || val == "") fails[k]++; else all[k, ++cnt[k]] = val + 0
		}
		{ add($1, $6); if ($1 ~ /^W[34]/) add($1 "d", $7) }
		END {
			for (i = 1; i <= m; i++) {
				k = order[i]; c = cnt[k] + 0
				if (c == 0) { print k, nn[k], 0, fails[k] + 0; continue }
				for (j = 1; j <= c; j++) v[j] = all[k, j]
				stats(v, c)
				print k, nn[k], c, fails[k] + 0, med, lo, hi
			}
		}'
}

# cpu_table: data lines on stdin -> a markdown table of wall and CPU time per
# job (medians over the runs).
cpu_table() {
	echo "| scenario | impl | wall µs/job | client CPU µs/job | worker CPU µs/job | gearmand CPU µs/job | CPU $CPU_SERVER busy (worker+gearmand) | CPU $CPU_CLIENT busy (client) | other processes | steal |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' -v OFS='\t' "$AWK_STATS"'
		$6 != "FAIL" && $10 != "" {
			k = $1 OFS $2
			if (!(k in cnt)) order[++m] = k
			c = ++cnt[k]
			rate = ($7 != "") ? $7 : $6
			wall[k, c] = 1e6 / rate; cl[k, c] = $10 * 1e6 / $4
			wk[k, c] = $11 * 1e6 / $4; gd[k, c] = $12 * 1e6 / $4; ot[k, c] = $14 + 0; st[k, c] = $15 + 0
		}
		function col(a, k, c,    j) { for (j = 1; j <= c; j++) v[j] = a[k, j]; stats(v, c); return med }
		END {
			for (i = 1; i <= m; i++) {
				k = order[i]; c = cnt[k]
				w = col(wall, k, c); x = col(cl, k, c); y = col(wk, k, c); z = col(gd, k, c)
				print k, w, x, y, z, (y + z) / w * 100, x / w * 100, col(ot, k, c), col(st, k, c)
			}
		}' | sort -t$'\t' -k1,1 -s |
		while IFS=$'\t' read -r scen impl w x y z b0 b1 ot st; do
			printf '| %s | %s | %.0f | %.1f | %.1f | %.1f | %.0f%% | %.0f%% | %.0f%% | %.0f%% |\n' \
				"$scen" "$(impl_name "$impl")" "$w" "$x" "$y" "$z" "$b0" "$b1" "$ot" "$st"
		done
}

# report RAW... prints the tables and writes the docs.
report() {
	local data agg row impl line n cell med lo hi cnt fails ratio md_table cpu chart_in title when setup i ref
	data=$(merge "$@")
	[[ -n $data ]] || die "no results in $*"
	agg=$(aggregate <<<"$data")

	md_table="| scenario | C jobs/s | Go jobs/s | PHP jobs/s | Go/C | PHP/C |"$'\n'
	md_table+="|---|---:|---:|---:|---:|---:|"$'\n'
	chart_in=""
	for row in "${ROWS[@]}"; do
		line=$(awk -F'\t' -v r="$row" '$1 == r' <<<"$agg")
		[[ -n $line ]] || continue
		n=$(awk -F'\t' 'NR == 1 { print $3 }' <<<"$line")
		local cells=() meds=()
		for impl in "${ALL_IMPLS[@]}"; do
			cnt="" fails="" med="" lo="" hi=""
			IFS=$'\t' read -r _ _ _ cnt fails med lo hi < <(awk -F'\t' -v i="$impl" '$2 == i' <<<"$line") || true
			if [[ -z $cnt ]]; then
				cells+=("–")
				meds+=("")
			elif [[ $cnt == 0 ]]; then
				cells+=("failed ($fails)")
				meds+=("")
			else
				cell="$(fmt_rate "$med")"
				if ((cnt > 1)); then cell+=" [$(fmt_rate "$lo")–$(fmt_rate "$hi")]"; fi
				if ((fails > 0)); then cell+=" ($fails failed)"; fi
				cells+=("$cell")
				meds+=("$med")
				chart_in+="$(row_label "$row" "$n")"$'\t'"$(impl_name "$impl")"$'\t'"$med"$'\t'"$lo"$'\t'"$hi"$'\n'
			fi
		done
		# A row of one implementation only is compared with the other
		# implementations' figures of its base row.
		ref=$(ref_row "$row")
		if [[ $ref != "$row" ]]; then
			for i in 0 1 2; do
				[[ ${cells[i]} == "–" ]] || continue
				meds[i]=$(awk -F'\t' -v r="$ref" -v im="${ALL_IMPLS[i]}" '$1 == r && $2 == im && $4 > 0 { print $6 }' <<<"$agg")
				[[ -n ${meds[i]} ]] && cells[i]="(see ${ref%d})"
			done
		fi
		local ratios=()
		for i in 1 2; do
			if [[ -n ${meds[0]} && -n ${meds[i]} ]]; then
				ratio=$(awk -v a="${meds[i]}" -v b="${meds[0]}" 'BEGIN { printf "%.2f×", a / b }')
			else
				ratio="–"
			fi
			ratios+=("$ratio")
		done
		md_table+="| $(row_text "$row" "$n") | ${cells[0]} | ${cells[1]} | ${cells[2]} | ${ratios[0]} | ${ratios[1]} |"$'\n'
	done
	# W6: the shared Client against one Client per goroutine (Go).
	local shared own_med
	shared=$(awk -F'\t' '$1 == "W6" && $2 == "go" && $4 > 0 { print $6 }' <<<"$agg")
	own_med=$(awk -F'\t' '$1 == "W6-own" && $2 == "go" && $4 > 0 { print $6 }' <<<"$agg")
	if [[ -n $shared && -n $own_med ]]; then
		md_table+=$'\n'"W6, Go: one shared Client / one Client per goroutine (W6-own) = $(awk -v a="$shared" -v b="$own_med" 'BEGIN { printf "%.2f×", a / b }')"$'\n'
	fi
	cpu=$(cpu_table <<<"$data")

	echo
	echo "jobs/s: median [min–max]; ratios are of medians"
	{ grep -h '^# worker: ' "$@" || true; } | sort -u | sed 's/^# worker: /NOTE: /'
	echo
	printf '%s' "$md_table"
	echo
	echo "time per job (medians; W3 and W4 until drained, C variants W2F/W4F included)"
	echo
	printf '%s\n' "$cpu"

	[[ $DOCS == 1 ]] || return 0
	mkdir -p "$ROOT/docs"
	when=$(date -u '+%Y-%m-%d %H:%M UTC')
	title="libgearman $(pkg-config --modversion gearmand 2>/dev/null): C vs Go binding vs PHP extension, jobs/s"
	[[ -x $TMP/chart ]] || (cd "$ROOT" && go build -o "$TMP/chart" ./bench/chart)
	setup=$(sed -n 's/^# setup: //p' "${!#}")
	printf '%s' "$chart_in" | "$TMP/chart" -title "$title" \
		-subtitle "$(sed -n 's/^# nproc: //p' "${!#}") CPUs, $(sed -n 's/^# cpu: //p' "${!#}"); ${setup:-?}; $when" \
		-o "$ROOT/docs/benchmarks.svg"
	write_md "$md_table" "$cpu" "$when" "$@" >"$ROOT/docs/benchmarks.md"
	log "wrote docs/benchmarks.md and docs/benchmarks.svg"
}

write_md() {
	local table=$1 cpu=$2 when=$3 f took
	shift 3
	local latest=${!#}
	cat <<EOF
# Benchmarks: C libgearman, the Go binding, the PHP extension

Generated by \`bench/run.sh\` on $when. The same scenarios run through three
implementations, each client against its own echo worker:
plain C against libgearman (\`bench/c/gearbench.c\`), this Go binding
(\`bench/go\`), and PHP with the gearman extension (\`bench/php\`).

![jobs/s per scenario, log scale](benchmarks.svg)

jobs/s, median [min–max] over the runs; the ratios are of the medians.

$table
¹ C only: the same scenario with \`GEARMAN_CLIENT_FREE_TASKS\`, which the PHP
extension always sets and the Go binding sets too; its ratios compare Go's
and PHP's figures of the base scenario with it.

² W1 with the Go client and worker left to Go's default GOMAXPROCS, which is 1
as each process may use one CPU: what a Go program gets under taskset, a
cpuset or a one-CPU container. The other rows give Go \`GOMAXPROCS=2\`.
W1-1cpu-work serves with a PHP-style \`for { w.Work() }\` loop instead of
\`Run\`; its ratios are to W1-1cpu's C and PHP.

³ 64 concurrent callers, each doing its share of the jobs sequentially,
against 4 echo worker processes. Go: 64 goroutines that share one
\`*gearman.Client\` (W6), or have one each (W6-own, whose ratio is to W6's C).
C ("W6-C"): 64 threads, each with its own \`gearman_client_st\`. PHP has no
threads and does not run them.

Time per job, medians over the runs (W3 and W4: until drained). CPU times are
the client's own (getrusage over the timed part) and, from \`/proc\`, the
worker's and gearmand's over the client's whole run. "Busy" is CPU time over
wall time: near 100% means that CPU is the bottleneck. "Other processes" is
what the rest of the machine used meanwhile, in % of all its CPUs, and
"steal" the time the hypervisor gave to other guests (a shared machine:
anything well above 0 in either disturbed the run).

$cpu

## Machine

$(grep -E '^# (nproc|cpu|kernel|libgearman|go|php|cc|setup):' "$latest" | sed 's/^# /- /')
$(for f in "$@"; do grep -E '^# setup [^:]*:' "$f" | sed 's/^# /- /'; done | sort -u)
$(for f in "$@"; do sed -n 's/^# binding: \(.*\)/- Go binding measured: \1/p' "$f"; done | sort -u)

## How it was run

EOF
	for f in "$@"; do
		took=$(sed -n 's/^# took: //p' "$f")
		echo "- \`$(sed -n 's/^# command: //p' "$f")\` — $(sed -n 's/^# date: //p' "$f"), raw results \`${f#"$ROOT"/}\` (not committed; the last table has them), scenarios $(awk -F'\t' '!/^#/ && NF >= 6 { print $1 }' "$f" | sort -u | paste -sd, -)${took:+, took $took}"
	done
	cat <<'EOF'

- Every run starts a fresh `gearmand -t 2 -L 127.0.0.1 -p <free port>` and a fresh
  echo worker of the implementation measured (C: `gearman_function_create_v2` +
  `gearman_job_send_complete`; Go: `AddFunction` + `Run`; PHP: `addFunction` +
  `work()` loop), both pinned with `taskset -c 0`; the client runs pinned on CPU 1
  under `timeout`. Each client does one untimed warm-up job first. The runs of
  the three implementations are interleaved.
- W6 and W6-own start 4 worker processes and, by default, pin gearmand alone
  to CPU 0 and the workers and the client to CPU 1 (`BENCH_W6_PIN`; the
  "setup W6" line above says what the run did). Every caller (each thread,
  each goroutine's Client) does its warm-up job before the clock starts. In
  the time-per-job table, the worker's CPU is that of all 4, and the "busy"
  columns are still worker+gearmand and client CPU over wall time, whichever
  CPU they ran on.
- W1: sequential DoNormal; W2: N AddTask, then one RunTasks (C: N
  `gearman_client_add_task`, one `gearman_client_run_tasks`, default options);
  W3: sequential DoBackground; W4: N AddTaskBackground, then one RunTasks;
  W5: sequential DoNormal of 1 MiB. W3 and W4 report the submission rate and the
  rate until the worker drained the queue (the client polls the admin `status`
  command over a plain TCP socket every 5 ms until the queue of `echo` is 0).
  Every result is checked.
EOF
	if [[ -f $ROOT/bench/notes.md ]]; then
		echo
		cat "$ROOT/bench/notes.md"
	fi
	echo
	echo "## Raw runs (jobs/s; drained in brackets; in braces the 1-minute load average at the start, the other processes' CPU share and the steal time during the run)"
	echo
	echo '| scenario | impl | N | runs |'
	echo '|---|---|---:|---|'
	merge "$@" | awk -F'\t' '{
			k = $1 " | " $2 " | " $4
			if (!(k in c)) order[++m] = k
			v = ($6 == "FAIL") ? "FAIL(" $9 ")" : $6 ($7 != "" ? " [" $7 "]" : "")
			if ($13 != "") v = v " {" $13 ($14 != "" ? ", " $14 "%" : "") ($15 != "" ? ", steal " $15 "%" : "") "}"
			s[k] = (c[k]++ ? s[k] ", " : "") v
		}
		END { for (i = 1; i <= m; i++) print "| " order[i] " | " s[order[i]] " |" }'
}

# ---- main ----

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gearbench.XXXXXX")

if [[ ${1:-} == report ]]; then
	shift
	(($# > 0)) || die "usage: bash bench/run.sh report RAW.tsv..."
	abs=()
	for f in "$@"; do
		[[ -f $f ]] || die "no such file: $f"
		abs+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
	done
	report "${abs[@]}"
	exit 0
fi
(($# == 0)) || die "unknown arguments: $* (see the header of bench/run.sh)"

# Validate the settings.
awk -v s="$SCALE" 'BEGIN { exit !(s + 0 > 0) }' || die "BENCH_SCALE must be a positive number"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
[[ -z $W5_N || $W5_N =~ ^[1-9][0-9]*$ ]] || die "BENCH_W5_N must be a positive integer"
RUN_IMPLS=()
for i in ${IMPLS//,/ }; do
	in_list "$i" "c,go,php" || die "unknown implementation $i in BENCH_IMPLS"
	RUN_IMPLS+=("$i")
done
SCENARIOS=()
for s in ${ONLY//,/ }; do
	in_list "$s" "$ALL_SCENARIOS" || die "unknown scenario $s in BENCH_ONLY"
	in_list "$s" "$(IFS=,; echo "${SCENARIOS[*]}")" && continue
	SCENARIOS+=("$s")
	if [[ $FREE_TASKS_VARIANT == 1 && ($s == W2 || $s == W4) ]] && in_list c "$IMPLS" && ! in_list "${s}F" "$ONLY"; then
		SCENARIOS+=("${s}F")
	fi
done
((${#SCENARIOS[@]} > 0 && ${#RUN_IMPLS[@]} > 0)) || die "nothing to run"
if [[ -n $WORKER ]]; then
	in_list "$WORKER" "c,go,php" || die "BENCH_WORKER must be c, go or php"
	DOCS=0 # the docs compare each implementation with its own worker
fi
[[ -x $GEARMAND ]] || die "no gearmand at $GEARMAND"
in_list "$W6_PIN" "split,w1,none" || die "BENCH_W6_PIN must be split, w1 or none"
if [[ $PIN == 1 ]]; then
	command -v taskset >/dev/null || die "taskset is missing (BENCH_PIN=0 runs unpinned)"
	(($(nproc) > CPU_CLIENT && $(nproc) > CPU_SERVER)) || die "need CPUs $CPU_SERVER and $CPU_CLIENT (BENCH_PIN=0 runs unpinned)"
fi
if in_list php "$IMPLS" || [[ $WORKER == php ]]; then
	php -r 'exit(extension_loaded("gearman") ? 0 : 1);' || die "php with the gearman extension is needed (or leave php out of BENCH_IMPLS)"
fi

log "building into $TMP"
if in_list c "$IMPLS" || [[ $WORKER == c ]]; then
	# shellcheck disable=SC2046 # pkg-config prints several words on purpose
	cc -O2 -Wall -o "$TMP/gearbench" "$ROOT/bench/c/gearbench.c" $(pkg-config --cflags --libs gearmand)
fi
(
	cd "$ROOT"
	# Always: start_worker asks it how many echo workers gearmand lists.
	go build -o "$TMP/gobench" ./bench/go
	if [[ $DOCS == 1 ]]; then go build -o "$TMP/chart" ./bench/chart; fi
)

mkdir -p "$RESULTS_DIR"
RAW="$RESULTS_DIR/$(date -u +%Y%m%d-%H%M%S).tsv"
{
	echo "# command: $CMDLINE"
	echo "# date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	machine_header
	echo "# $RAW_HEADER"
} >"$RAW"

log "scenarios ${SCENARIOS[*]}, implementations ${RUN_IMPLS[*]}, $RUNS run(s) each, scale $SCALE; raw results: ${RAW#"$ROOT"/}"
started=$(now)
# Runs interleave the implementations, so that a slow spell on the machine
# does not land on one implementation only; a companion scenario (W1-1cpu-work,
# W6-own) is interleaved with its base (W1-1cpu, W6) when both run.
companion() {
	case $1 in
	W1-1cpu) echo W1-1cpu-work ;;
	W6) echo W6-own ;;
	esac
}
SELECTED=$(IFS=,; echo "${SCENARIOS[*]}")
for scen in "${SCENARIOS[@]}"; do
	case $scen in
	W1-1cpu-work) in_list W1-1cpu "$SELECTED" && continue ;;
	W6-own) in_list W6 "$SELECTED" && continue ;;
	esac
	group=("$scen")
	comp=$(companion "$scen")
	[[ -n $comp ]] && in_list "$comp" "$SELECTED" && group+=("$comp")
	for ((run = 1; run <= RUNS; run++)); do
		for s in "${group[@]}"; do
			for impl in "${RUN_IMPLS[@]}"; do
				run_impl "$s" "$impl" || continue # variants of some implementations only
				one_run "$s" "$impl" "$run"
			done
		done
	done
done
took=$(awk -v a="$started" -v b="$(now)" 'BEGIN { s = b - a; printf "%d min %02d s", s / 60, s % 60 }')
echo "# took: $took" >>"$RAW"
log "all runs took $took"

report "$RAW"
