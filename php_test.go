package gearman_test

// Cross-language tests: PHP's own gearman extension (PECL gearman, the API
// this package copies) is the peer of the Go client and worker, against a real
// gearmand. The PHP side lives in testdata/php: client.php runs one client
// command and prints what it saw, worker.php serves a fixed number of jobs and
// logs each one. Both print JSON lines (client.php's "events" command prints
// callback events in the same one-line format as phpEventLine).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

const (
	// phpClientLimit bounds one client.php run.
	phpClientLimit = 15 * time.Second
	// phpWorkerLimit bounds a worker.php run; the script also exits by itself
	// after this long (exit code 1) if it has not been given all its jobs.
	phpWorkerLimit = 20 * time.Second
	// phpGoTimeout is the Go clients' SetTimeout, so that a dead PHP peer
	// fails a test instead of hanging it.
	phpGoTimeout = 10000
	// phpInstallHint tells how to get PHP with the gearman extension.
	phpInstallHint = "apt-get install php-cli php-gearman"
)

// phpArgs are the interpreter flags: every diagnostic on stderr, once.
var phpArgs = []string{"-d", "display_errors=stderr", "-d", "log_errors=0", "-d", "error_reporting=-1"}

// phpBinary finds php on $PATH and checks that it loads the gearman extension.
var phpBinary = sync.OnceValues(func() (string, error) {
	php, err := exec.LookPath("php")
	if err != nil {
		return "", fmt.Errorf("php not found on $PATH: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, php, "-r", `exit(extension_loaded("gearman") ? 0 : 1);`).CombinedOutput()
	if err != nil {
		if out = bytes.TrimSpace(out); len(out) > 0 {
			err = fmt.Errorf("%w: %s", err, out)
		}
		return "", fmt.Errorf("%s does not load the gearman extension (%v)", php, err)
	}
	return php, nil
})

// requirePHP returns the php binary, or skips the test when PHP or its
// gearman extension is missing (fails it when $CI is "true").
func requirePHP(t testing.TB) string {
	t.Helper()
	php, err := phpBinary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v; install it with `%s`", err, phpInstallHint)
		}
		t.Skipf("skipping: %v; install it with `%s`", err, phpInstallHint)
	}
	return php
}

// phpCommand prepares `php testdata/php/<script> args...` for srv. The job
// server reaches PHP through GEARMAN_TEST_HOST/PORT; GEARMAN_SERVERS, which
// libgearman would add to every client and worker, is dropped.
func phpCommand(ctx context.Context, t testing.TB, srv *gearmantest.Server, script string, args ...string) *exec.Cmd {
	t.Helper()
	php := requirePHP(t)
	path, err := filepath.Abs(filepath.Join("testdata", "php", script))
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, php, append(append(append([]string{}, phpArgs...), path), args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GEARMAN_SERVERS=") && !strings.HasPrefix(kv, "GEARMAN_TEST_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GEARMAN_TEST_HOST="+srv.Host(), "GEARMAN_TEST_PORT="+strconv.Itoa(srv.Port()))
	cmd.WaitDelay = time.Second
	return cmd
}

// runPHPClient runs client.php with args and returns its stdout; a non-zero
// exit fails the test with PHP's stderr.
func runPHPClient(t testing.TB, srv *gearmantest.Server, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), phpClientLimit)
	defer cancel()
	cmd := phpCommand(ctx, t, srv, "client.php", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("php client.php %s: %v (limit %v)\nstderr:\n%s\nstdout:\n%s", strings.Join(args, " "), err, phpClientLimit, stderr.Bytes(), stdout.Bytes())
	}
	return stdout.String()
}

// runPHPClientJSON runs client.php and decodes its one JSON line into v.
func runPHPClientJSON(t testing.TB, srv *gearmantest.Server, v any, args ...string) {
	t.Helper()
	out := runPHPClient(t, srv, args...)
	require.NoError(t, json.Unmarshal([]byte(out), v), "client.php %s printed %q", strings.Join(args, " "), out)
}

// phpDoResult is what client.php's "do" command prints.
type phpDoResult struct {
	Result      string `json:"result"` // hex
	ReturnCode  int    `json:"return_code"`
	WorkloadMD5 string `json:"workload_md5"`
	ResultMD5   string `json:"result_md5"`
	Identical   bool   `json:"identical"`
}

// phpJob is one line of worker.php's log.
type phpJob struct {
	Function     string `json:"function"`
	Handle       string `json:"handle"`
	Unique       string `json:"unique"`
	Workload     string `json:"workload"` // hex
	WorkloadSize int    `json:"workload_size"`
	WorkloadMD5  string `json:"workload_md5"`
	Thrown       string `json:"thrown"`
	ReturnCode   int    `json:"return_code"`
}

// phpWorker is a running worker.php.
type phpWorker struct {
	cmd            *exec.Cmd
	done           chan struct{}
	err            error // valid once done is closed
	stdout, stderr bytes.Buffer
}

// startPHPWorker starts worker.php, which exits once it has been given jobs
// jobs, and waits until gearmand lists it for every one of functions. The
// process is killed when the test ends if it is still running.
func startPHPWorker(t *testing.T, srv *gearmantest.Server, jobs int, functions ...string) *phpWorker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), phpWorkerLimit)
	w := &phpWorker{done: make(chan struct{})}
	w.cmd = phpCommand(ctx, t, srv, "worker.php", strconv.Itoa(jobs), strconv.Itoa(int(phpWorkerLimit/time.Second)))
	w.cmd.Stdout, w.cmd.Stderr = &w.stdout, &w.stderr
	if err := w.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting php worker.php: %v", err)
	}
	go func() {
		w.err = w.cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		cancel() // kills the process if it still runs
		<-w.done
		if t.Failed() {
			t.Logf("php worker.php (%v):\nstdout:\n%s\nstderr:\n%s", w.err, w.stdout.Bytes(), w.stderr.Bytes())
		}
	})

	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case <-w.done:
			t.Fatalf("php worker.php exited before registering %v: %v\nstderr:\n%s", functions, w.err, w.stderr.Bytes())
		default:
		}
		if status, err := gearmantest.AdminCommand(srv.Addr(), "status", time.Second); err == nil && phpAllRegistered(status, functions) {
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("php worker.php did not register %v within 5s", functions)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// phpAllRegistered reports whether the admin "status" output lists at least
// one worker for every function.
func phpAllRegistered(status string, functions []string) bool {
	workers := map[string]int{}
	for _, line := range strings.Split(status, "\n") {
		f := strings.Split(strings.TrimSpace(line), "\t")
		if len(f) == 4 {
			workers[f[0]], _ = strconv.Atoi(f[3])
		}
	}
	for _, fn := range functions {
		if workers[fn] == 0 {
			return false
		}
	}
	return true
}

// wait waits for the worker to exit after its last job and returns its log.
func (w *phpWorker) wait(t *testing.T) []phpJob {
	t.Helper()
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("php worker.php did not exit 10s after its last job\nstdout:\n%s", w.stdout.Bytes())
	}
	require.NoError(t, w.err, "php worker.php failed\nstderr:\n%s\nstdout:\n%s", w.stderr.Bytes(), w.stdout.Bytes())
	var jobs []phpJob
	sc := bufio.NewScanner(bytes.NewReader(w.stdout.Bytes()))
	for sc.Scan() {
		var j phpJob
		require.NoError(t, json.Unmarshal(sc.Bytes(), &j), "worker.php printed %q", sc.Text())
		jobs = append(jobs, j)
	}
	return jobs
}

// newPHPPeerClient is a Go client on srv whose calls give up after
// phpGoTimeout of silence.
func newPHPPeerClient(t *testing.T, srv *gearmantest.Server) *gearman.Client {
	t.Helper()
	c := newClient(t, srv)
	require.NoError(t, c.SetTimeout(phpGoTimeout))
	return c
}

// phpEventLine formats a callback event exactly as testdata/php/common.php's
// event_line does.
func phpEventLine(name string, ctx any, task *gearman.Task) string {
	return fmt.Sprintf("%s ctx=%v known=%t running=%t %d/%d data=%s", name, ctx,
		task.IsKnown(), task.IsRunning(), task.TaskNumerator(), task.TaskDenominator(), hex.EncodeToString(task.Data()))
}

// phpBinaryPayload holds every byte value, with NULs at both ends and in the
// middle: 00, 00..ff, 00, ff..00, 00 (515 bytes).
func phpBinaryPayload() []byte {
	p := []byte{0}
	for i := 0; i < 256; i++ {
		p = append(p, byte(i))
	}
	p = append(p, 0)
	for i := 255; i >= 0; i-- {
		p = append(p, byte(i))
	}
	return append(p, 0)
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func hexs(s string) string { return hex.EncodeToString([]byte(s)) }

// phpRecorder collects what a Go worker function saw; Go workers run on
// their own goroutine.
type phpRecorder struct {
	mu   sync.Mutex
	jobs []phpJob
}

func (r *phpRecorder) wrap(fn gearman.WorkerFunc) gearman.WorkerFunc {
	return func(job *gearman.Job, ctx any) ([]byte, error) {
		w := job.Workload()
		r.mu.Lock()
		r.jobs = append(r.jobs, phpJob{
			Function: job.FunctionName(), Handle: job.Handle(), Unique: job.Unique(),
			Workload: hex.EncodeToString(w), WorkloadSize: job.WorkloadSize(), WorkloadMD5: md5hex(w),
		})
		r.mu.Unlock()
		return fn(job, ctx)
	}
}

func (r *phpRecorder) seen() []phpJob {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]phpJob(nil), r.jobs...)
}

// ---- 1. round trips ----

// TestPHPClientToGoWorker: PHP's doNormal reaches a Go worker with its
// function name, unique key and workload, and gets the Go result back.
func TestPHPClientToGoWorker(t *testing.T) {
	requirePHP(t)
	srv := gearmantest.NewServer(t)
	var rec phpRecorder
	startWorker(t, srv, map[string]gearman.WorkerFunc{"go_reverse": rec.wrap(reverse)})

	var got phpDoResult
	runPHPClientJSON(t, srv, &got, "do", "go_reverse", hexs("Hello from PHP"), "php-unique-1")
	require.Equal(t, hexs("PHP morf olleH"), got.Result)
	require.Equal(t, int(gearman.Success), got.ReturnCode)

	seen := rec.seen()
	require.Len(t, seen, 1)
	require.Equal(t, "go_reverse", seen[0].Function)
	require.Equal(t, "php-unique-1", seen[0].Unique)
	require.Equal(t, hexs("Hello from PHP"), seen[0].Workload)
	require.Regexp(t, `^H:`, seen[0].Handle)
}

// TestPHPGoClientToPHPWorker: Go's DoNormal reaches a PHP worker with its
// function name, unique key and workload, and gets the PHP result back.
func TestPHPGoClientToPHPWorker(t *testing.T) {
	requirePHP(t)
	srv := gearmantest.NewServer(t)
	w := startPHPWorker(t, srv, 1, "php_reverse")
	c := newPHPPeerClient(t, srv)

	res, err := c.DoNormal("php_reverse", []byte("Hello from Go"), "go-unique-1")
	require.NoError(t, err)
	require.Equal(t, "oG morf olleH", string(res))
	require.Equal(t, gearman.Success, c.ReturnCode())

	jobs := w.wait(t)
	require.Len(t, jobs, 1)
	require.Equal(t, "php_reverse", jobs[0].Function)
	require.Equal(t, "go-unique-1", jobs[0].Unique)
	require.Equal(t, hexs("Hello from Go"), jobs[0].Workload)
	require.Regexp(t, `^H:`, jobs[0].Handle)
}

// ---- 2. binary workloads ----

// TestPHPBinaryWorkloadBothWays: a workload holding every byte value, with
// NULs at both ends and in the middle, arrives intact as workload and comes
// back intact as result, PHP client to Go worker and Go client to PHP worker.
func TestPHPBinaryWorkloadBothWays(t *testing.T) {
	requirePHP(t)
	payload := phpBinaryPayload()
	require.Len(t, payload, 515)
	srv := gearmantest.NewServer(t)

	t.Run("PHPClientGoWorker", func(t *testing.T) {
		var rec phpRecorder
		startWorker(t, srv, map[string]gearman.WorkerFunc{"go_echo": rec.wrap(echo)})
		var got phpDoResult
		runPHPClientJSON(t, srv, &got, "do", "go_echo", hex.EncodeToString(payload), "")
		require.Equal(t, int(gearman.Success), got.ReturnCode)
		require.Equal(t, md5hex(payload), got.WorkloadMD5, "PHP built the payload")
		require.Equal(t, hex.EncodeToString(payload), got.Result, "Go worker's result as PHP got it")
		require.Equal(t, md5hex(payload), got.ResultMD5)
		require.True(t, got.Identical, "PHP: result === workload")
		seen := rec.seen()
		require.Len(t, seen, 1)
		require.Equal(t, hex.EncodeToString(payload), seen[0].Workload, "PHP's workload as the Go worker got it")
		require.Equal(t, len(payload), seen[0].WorkloadSize)
	})

	t.Run("GoClientPHPWorker", func(t *testing.T) {
		w := startPHPWorker(t, srv, 1, "php_echo")
		c := newPHPPeerClient(t, srv)
		res, err := c.DoNormal("php_echo", payload, "")
		require.NoError(t, err)
		require.Equal(t, hex.EncodeToString(payload), hex.EncodeToString(res), "PHP worker's result as Go got it")
		jobs := w.wait(t)
		require.Len(t, jobs, 1)
		require.Equal(t, hex.EncodeToString(payload), jobs[0].Workload, "Go's workload as the PHP worker got it")
		require.Equal(t, len(payload), jobs[0].WorkloadSize)
		require.Equal(t, md5hex(payload), jobs[0].WorkloadMD5)
	})
}

// ---- 3. callback sequence ----

// phpChattyGo does in Go what worker.php's php_chatty does.
func phpChattyGo(job *gearman.Job, _ any) ([]byte, error) {
	for _, step := range []func() error{
		func() error { return job.SendStatus(1, 4) },
		func() error { return job.SendData([]byte("chunk-1")) },
		func() error { return job.SendStatus(2, 4) },
		func() error { return job.SendWarning([]byte("warn-1")) },
		func() error { return job.SendData([]byte("chunk-2")) },
		func() error { return job.SendStatus(4, 4) },
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return append([]byte("final:"), job.Workload()...), nil
}

// goEventLog runs function(workload) through AddTask with all eight
// callbacks and returns one phpEventLine per callback.
func goEventLog(t *testing.T, srv *gearmantest.Server, function, workload, ctx string) string {
	t.Helper()
	c := newPHPPeerClient(t, srv)
	var lines []string
	rec := func(name string) gearman.TaskCallback {
		return func(task *gearman.Task, ctx any) error {
			lines = append(lines, phpEventLine(name, ctx, task))
			return nil
		}
	}
	for name, set := range map[string]func(gearman.TaskCallback) error{
		"workload": c.SetWorkloadCallback, "created": c.SetCreatedCallback,
		"data": c.SetDataCallback, "warning": c.SetWarningCallback,
		"status": c.SetStatusCallback, "complete": c.SetCompleteCallback,
		"exception": c.SetExceptionCallback, "fail": c.SetFailCallback,
	} {
		require.NoError(t, set(rec(name)))
	}
	_, err := c.AddTask(function, []byte(workload), ctx, "")
	require.NoError(t, err)
	require.NoError(t, c.RunTasks())
	require.Equal(t, gearman.Success, c.ReturnCode())
	return strings.Join(lines, "\n") + "\n"
}

// TestPHPCallbackSequence: a job that sends status, data and warnings fires
// the same callbacks, in the same order, with the same isKnown, isRunning,
// numerator/denominator and data, whichever language the client and the
// worker are written in (all four pairs), and that is what PHP printed in the
// reference experiment. doNormal of that job gives the same bytes in both
// languages: the data chunks, then the result.
func TestPHPCallbackSequence(t *testing.T) {
	requirePHP(t)
	srv := gearmantest.NewServer(t)
	// PHP client's and Go client's AddTask, then each one's doNormal.
	w := startPHPWorker(t, srv, 4, "php_chatty")
	startWorker(t, srv, map[string]gearman.WorkerFunc{"go_chatty": phpChattyGo})

	// What PHP's client printed against PHP's worker in the reference
	// experiment (d_task_callbacks.php), in the event_line format.
	want := strings.Join([]string{
		"created ctx=CTX-1 known=true running=false 0/0 data=",
		"status ctx=CTX-1 known=true running=false 1/4 data=",
		"data ctx=CTX-1 known=true running=true 1/4 data=" + hexs("chunk-1"),
		"status ctx=CTX-1 known=true running=true 2/4 data=",
		"warning ctx=CTX-1 known=true running=true 2/4 data=" + hexs("warn-1"),
		"data ctx=CTX-1 known=true running=true 2/4 data=" + hexs("chunk-2"),
		"status ctx=CTX-1 known=true running=true 4/4 data=",
		"complete ctx=CTX-1 known=false running=false 4/4 data=" + hexs("final:w1"),
	}, "\n") + "\n"

	phpLog := runPHPClient(t, srv, "events", "php_chatty", "w1", "CTX-1")
	require.Equal(t, want, phpLog, "PHP client, PHP worker: as in the reference experiment")
	for _, other := range []struct{ name, log string }{
		{"Go client, PHP worker", goEventLog(t, srv, "php_chatty", "w1", "CTX-1")},
		{"Go client, Go worker", goEventLog(t, srv, "go_chatty", "w1", "CTX-1")},
		{"PHP client, Go worker", runPHPClient(t, srv, "events", "go_chatty", "w1", "CTX-1")},
	} {
		require.Equal(t, phpLog, other.log, "%s vs PHP client, PHP worker", other.name)
	}

	// The blocking call gives the same bytes in both languages: every
	// WORK_DATA chunk, then the result.
	c := newPHPPeerClient(t, srv)
	for _, fn := range []string{"php_chatty", "go_chatty"} {
		var php phpDoResult
		runPHPClientJSON(t, srv, &php, "do", fn, hexs("w2"), "")
		require.Equal(t, int(gearman.Success), php.ReturnCode)
		res, err := c.DoNormal(fn, []byte("w2"), "")
		require.NoError(t, err)
		require.Equal(t, "chunk-1chunk-2final:w2", string(res), fn)
		require.Equal(t, hex.EncodeToString(res), php.Result, "%s: PHP doNormal vs Go DoNormal", fn)
	}
	require.Len(t, w.wait(t), 4)
}

// ---- 4. background jobs looked up across languages ----

// TestPHPBackgroundJobStatusAcrossLanguages: a background job with a unique
// key that no worker serves, submitted in one language, is known, not
// running, 0/0 by handle and by unique key in the other language, both ways;
// an unknown handle and key give the same all-false answer in both.
func TestPHPBackgroundJobStatusAcrossLanguages(t *testing.T) {
	requirePHP(t)
	srv := gearmantest.NewServer(t)
	queued := gearman.JobStatus{Known: true, Running: false, Numerator: 0, Denominator: 0}
	// With libgearman 1.1.20 a client that asked for a status by unique key
	// never sees the JOB_CREATED of its next submission (run.cc counts
	// GET_STATUS_UNIQUE as a submission). PHP's client keeps that bug; the Go
	// client rebuilds itself (TestJobAfterStatusByUniqueKey).

	t.Run("PHPSubmitsGoLooksUp", func(t *testing.T) {
		var bg struct {
			Handle      string `json:"handle"`
			DoJobHandle string `json:"do_job_handle"`
			ReturnCode  int    `json:"return_code"`
		}
		runPHPClientJSON(t, srv, &bg, "background", "php_bg_unserved", "payload", "unique-from-php")
		require.Regexp(t, `^H:`, bg.Handle)
		require.Equal(t, bg.Handle, bg.DoJobHandle)
		require.Equal(t, int(gearman.Success), bg.ReturnCode)

		c := newPHPPeerClient(t, srv)
		st, err := c.JobStatus(bg.Handle)
		require.NoError(t, err)
		require.Equal(t, queued, st, "JobStatus(%q)", bg.Handle)
		st, err = c.JobStatusByUniqueKey("unique-from-php")
		require.NoError(t, err)
		require.Equal(t, queued, st, "JobStatusByUniqueKey")
	})

	t.Run("GoSubmitsPHPLooksUp", func(t *testing.T) {
		c := newPHPPeerClient(t, srv)
		handle, err := c.DoBackground("go_bg_unserved", []byte("payload"), "unique-from-go")
		require.NoError(t, err)
		require.Regexp(t, `^H:`, handle)

		var st struct {
			ByHandle           []any `json:"by_handle"`
			ByHandleReturnCode int   `json:"by_handle_return_code"`
			ByUnique           []any `json:"by_unique"`
		}
		runPHPClientJSON(t, srv, &st, "status", handle, "unique-from-go")
		want := []any{true, false, float64(0), float64(0)}
		require.Equal(t, want, st.ByHandle, "PHP jobStatus(%q)", handle)
		require.Equal(t, int(gearman.Success), st.ByHandleReturnCode)
		require.Equal(t, want, st.ByUnique, "PHP jobStatusByUniqueKey")
	})

	t.Run("UnknownJobSameAnswer", func(t *testing.T) {
		var st struct {
			ByHandle []any `json:"by_handle"`
			ByUnique []any `json:"by_unique"`
		}
		runPHPClientJSON(t, srv, &st, "status", "H:nowhere:1", "no-such-unique")
		unknown := []any{false, false, float64(0), float64(0)}
		require.Equal(t, unknown, st.ByHandle)
		require.Equal(t, unknown, st.ByUnique)
		c := newPHPPeerClient(t, srv)
		byHandle, err := c.JobStatus("H:nowhere:1")
		require.NoError(t, err)
		require.Equal(t, gearman.JobStatus{}, byHandle)
		byUnique, err := c.JobStatusByUniqueKey("no-such-unique")
		require.NoError(t, err)
		require.Equal(t, gearman.JobStatus{}, byUnique)
	})

	// Both jobs are still queued, unserved.
	status, err := gearmantest.AdminCommand(srv.Addr(), "status", time.Second)
	require.NoError(t, err)
	require.Contains(t, status, "php_bg_unserved\t1\t0\t0")
	require.Contains(t, status, "go_bg_unserved\t1\t0\t0")
}

// ---- 5. exception texts across languages ----

// phpExceptionReport is what client.php's "exception" command prints.
type phpExceptionReport struct {
	Events []struct {
		Event string `json:"event"`
		Data  string `json:"data"` // hex
	} `json:"events"`
	RunTasks           bool   `json:"run_tasks"`
	RunTasksReturnCode int    `json:"run_tasks_return_code"`
	DoResult           string `json:"do_result"` // hex
	DoReturnCode       int    `json:"do_return_code"`
}

// TestPHPClientGetsGoWorkerException: the text of a Go worker's error (with
// a NUL in it) reaches a PHP client's exception callback, the only callback
// that fires; runTasks() is true; doNormal returns an empty string with
// returnCode() GEARMAN_WORK_EXCEPTION.
func TestPHPClientGetsGoWorkerException(t *testing.T) {
	requirePHP(t)
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{
		"go_fail": func(job *gearman.Job, _ any) ([]byte, error) {
			return nil, errors.New("go worker failed on " + string(job.Workload()))
		},
	})

	var got phpExceptionReport
	runPHPClientJSON(t, srv, &got, "exception", "go_fail", hexs("job\x00-7"))
	require.Len(t, got.Events, 1, "only the exception callback fires: %+v", got.Events)
	require.Equal(t, "exception", got.Events[0].Event)
	require.Equal(t, hexs("go worker failed on job\x00-7"), got.Events[0].Data, "exception callback's data()")
	require.True(t, got.RunTasks, "runTasks() is true: WORK_EXCEPTION is soft-OK")
	require.Equal(t, int(gearman.Success), got.RunTasksReturnCode)
	require.Equal(t, "", got.DoResult, "doNormal returns ''")
	require.Equal(t, int(gearman.WorkException), got.DoReturnCode, "doNormal's returnCode()")
}

// TestPHPWorkerExceptionReachesGoClient: a PHP worker's sendException text
// (with a NUL in it) is in the error of Go's DoNormal (errors.Is WorkException)
// and is the task's Data() in the exception callback, the only callback that
// fires. A PHP worker that throws sends the extension's fixed text "Unable to
// add worker function"; its own message stays in the worker.
func TestPHPWorkerExceptionReachesGoClient(t *testing.T) {
	requirePHP(t)
	srv := gearmantest.NewServer(t)
	w := startPHPWorker(t, srv, 4, "php_exception", "php_throw")

	for _, tc := range []struct{ function, workload, text string }{
		// sendException's text travels as it is.
		{"php_exception", "job\x00-8", "php exception: job\x00-8"},
		// A throwing PHP function sends a fixed text, never its message.
		{"php_throw", "job-9", "Unable to add worker function"},
	} {
		t.Run(tc.function, func(t *testing.T) {
			c := newPHPPeerClient(t, srv)
			res, err := c.DoNormal(tc.function, []byte(tc.workload), "")
			require.Nil(t, res)
			require.ErrorIs(t, err, gearman.WorkException)
			require.ErrorContains(t, err, tc.text)
			var gerr *gearman.Error
			require.ErrorAs(t, err, &gerr)
			require.Equal(t, tc.text, gerr.Msg)
			require.Equal(t, gearman.WorkException, c.ReturnCode())

			var log []string
			for name, set := range map[string]func(gearman.TaskCallback) error{
				"complete": c.SetCompleteCallback, "fail": c.SetFailCallback,
				"exception": c.SetExceptionCallback, "data": c.SetDataCallback,
				"warning": c.SetWarningCallback,
			} {
				require.NoError(t, set(func(task *gearman.Task, _ any) error {
					log = append(log, name+":"+string(task.Data()))
					return nil
				}))
			}
			task, err := c.AddTask(tc.function, []byte(tc.workload), nil, "")
			require.NoError(t, err)
			require.NoError(t, c.RunTasks(), "PHP: runTasks() is true")
			require.Equal(t, gearman.Success, c.ReturnCode(), "PHP: returnCode() after runTasks() is GEARMAN_SUCCESS")
			require.Equal(t, []string{"exception:" + tc.text}, log)
			require.Equal(t, tc.text, string(task.Data()))
		})
	}

	jobs := w.wait(t)
	var thrown []string
	for _, j := range jobs {
		if j.Thrown != "" {
			thrown = append(thrown, j.Thrown)
			require.Equal(t, int(gearman.WorkException), j.ReturnCode)
		}
	}
	require.Equal(t, []string{"php throw: job-9", "php throw: job-9"}, thrown, "the message stays in the PHP worker")
}

// TestPHPVersion compares Version with PHP's gearman_version() on the same
// machine: a port that logs or compares it sees the same string.
func TestPHPVersion(t *testing.T) {
	php := requirePHP(t)
	ctx, cancel := context.WithTimeout(context.Background(), phpClientLimit)
	defer cancel()
	out, err := exec.CommandContext(ctx, php, append(append([]string{}, phpArgs...), "-r", "echo gearman_version();")...).Output()
	require.NoError(t, err)
	require.NotEmpty(t, out)
	require.Equal(t, string(out), gearman.Version())
}

// TestPHPLastErrorIsLibgearmansText compares LastError with PHP's error()
// after the same failure: both are libgearman's message alone (the pid
// inside it aside), so log parsing ported from PHP keeps working.
func TestPHPLastErrorIsLibgearmansText(t *testing.T) {
	srv := gearmantest.NewServer(t)
	srv.Stop() // nothing listens on its port now
	var php struct {
		ClientError      string `json:"client_error"`
		ClientReturnCode int    `json:"client_return_code"`
		WorkerError      string `json:"worker_error"`
	}
	runPHPClientJSON(t, srv, &php, "dead", strconv.Itoa(srv.Port()))
	pid := regexp.MustCompile(`pid\([0-9]+\)`)
	samePID := func(s string) string { return pid.ReplaceAllString(s, "pid(N)") }
	require.Contains(t, php.ClientError, "GEARMAN_COULD_NOT_CONNECT", "PHP's own text")

	c, err := gearman.NewClient()
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.AddServer(srv.Host(), srv.Port()))
	_, err = c.DoNormal("f", []byte("x"), "")
	require.ErrorIs(t, err, gearman.CouldNotConnect)
	require.Equal(t, gearman.ReturnCode(php.ClientReturnCode), c.ReturnCode())
	require.Equal(t, samePID(php.ClientError), samePID(c.LastError()))
	require.Equal(t, "gearman: DoNormal: GEARMAN_COULD_NOT_CONNECT: "+c.LastError(), err.Error(), "the error keeps the full text")

	w, err := gearman.NewWorker()
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, w.AddServer(srv.Host(), srv.Port()))
	require.NoError(t, w.AddFunction("f", echo, nil, 0))
	require.ErrorIs(t, w.Work(), gearman.CouldNotConnect)
	require.Equal(t, samePID(php.WorkerError), samePID(w.LastError()))
}

// TestPHPHashKey compares Task.Unique for the key "#" with PHP's unique()
// for the same workloads (addTask does no I/O in PHP: no server needed).
func TestPHPHashKey(t *testing.T) {
	php := requirePHP(t)
	workloads := []string{"abc", "x", "hello world", strings.Repeat("q", 1000), "\x00\xff\x01binary"}
	ctx, cancel := context.WithTimeout(context.Background(), phpClientLimit)
	defer cancel()
	script := `$c = new GearmanClient();
foreach (array_slice($argv, 1) as $hex) {
    echo $c->addTask("f", hex2bin($hex), null, "#")->unique(), "\n";
}`
	args := append(append([]string{}, phpArgs...), "-r", script, "--")
	for _, w := range workloads {
		args = append(args, hex.EncodeToString([]byte(w)))
	}
	out, err := exec.CommandContext(ctx, php, args...).Output()
	require.NoError(t, err)
	keys := strings.Fields(string(out))
	require.Len(t, keys, len(workloads))

	c, err := gearman.NewClient()
	require.NoError(t, err)
	defer c.Close()
	for i, w := range workloads {
		task, err := c.AddTask("f", []byte(w), nil, "#")
		require.NoError(t, err)
		require.Equal(t, keys[i], task.Unique(), "workload %q", w)
	}
}
