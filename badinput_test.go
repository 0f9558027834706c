package gearman_test

// Issue 4's "Bad input" list, one TestBadInput function per item: each bad
// call returns a clear error (the exact ReturnCode, and ErrClosed or
// ErrJobDone where they apply), nothing reaches the server or the worker
// because of it, nothing already there is lost, and nothing crashes. Where a
// deeper test exists elsewhere, a comment points to it; the assertions here
// stand on their own.
//
// "Nothing was sent" is shown two ways: a worker that records every job it
// runs (badLog) sees exactly the accepted jobs, and gearmand's admin "status"
// lists exactly the functions and queued jobs the test expects
// (badRequireQueues).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// ---- helpers ----

// badJob is one job a badLog worker ran.
type badJob struct {
	function, unique string
	workload         []byte
}

// badLog is a worker function that echoes its workload and records the job.
type badLog struct {
	mu   sync.Mutex
	jobs []badJob
}

func (l *badLog) echo(job *gearman.Job, _ any) ([]byte, error) {
	w := job.Workload()
	l.mu.Lock()
	l.jobs = append(l.jobs, badJob{job.FunctionName(), job.Unique(), bytes.Clone(w)})
	l.mu.Unlock()
	return w, nil
}

// take returns the jobs run since the last take.
func (l *badLog) take() []badJob {
	l.mu.Lock()
	defer l.mu.Unlock()
	jobs := l.jobs
	l.jobs = nil
	return jobs
}

func (l *badLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.jobs)
}

// waitTake waits until n jobs ran since the last take (background jobs run
// after the call that queued them returned), and returns them.
func (l *badLog) waitTake(t *testing.T, n int) []badJob {
	t.Helper()
	require.Eventually(t, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.jobs) >= n
	}, 10*time.Second, 5*time.Millisecond, "waiting for %d jobs", n)
	return l.take()
}

// requireOnly runs a fresh job for function through c and requires it back,
// and requires it to be the only job the worker ran since the last take: the
// refused calls before it left nothing queued in front of it.
func (l *badLog) requireOnly(t *testing.T, c *gearman.Client, function string) {
	t.Helper()
	marker := []byte(fmt.Sprintf("marker-%d", time.Now().UnixNano()))
	res, err := c.DoNormal(function, marker, "")
	require.NoError(t, err, "a valid job after the refused calls")
	require.Equal(t, string(marker), string(res))
	jobs := l.take()
	require.Len(t, jobs, 1, "the worker ran something besides the marker job: %q", jobs)
	require.Equal(t, string(marker), string(jobs[0].workload))
}

// badServer starts gearmand with a recording echo worker for functions, and a
// client.
func badServer(t *testing.T, functions ...string) (*gearmantest.Server, *gearman.Client, *gearman.Worker, *badLog) {
	t.Helper()
	srv := gearmantest.NewServer(t)
	log := &badLog{}
	w := newWorker(t, srv)
	for _, f := range functions {
		require.NoError(t, w.AddFunction(f, log.echo, nil, 0))
	}
	serve(t, srv, w, functions...)
	return srv, newClient(t, srv), w, log
}

// badRequireQueues waits until gearmand's "status" lists only functions named
// in want, each with that many jobs queued or running (a missing function
// counts as 0). A refused call leaves no job and no function name behind.
func badRequireQueues(t *testing.T, srv *gearmantest.Server, want map[string]int) {
	t.Helper()
	var last string
	ok := eventually(5*time.Second, func() bool {
		out, err := gearmantest.AdminCommand(srv.Addr(), "status", time.Second)
		if err != nil {
			return false
		}
		last = out
		for _, line := range splitLines(out) {
			var name string
			var total, running, workers int
			if line == "" {
				continue
			}
			if n, _ := sscanStatus(line, &name, &total, &running, &workers); n != 4 {
				return false
			}
			if w, known := want[name]; !known || w != total {
				return false
			}
		}
		for name, n := range want {
			if total, _, _, listed := functionStatus(out, name); n > 0 && (!listed || total != n) {
				return false
			}
		}
		return true
	})
	require.True(t, ok, "gearmand status: want %v, got:\n%s", want, last)
}

// badRequireDropped shows that the jobs of function that clients abandoned
// (a timeout, a context, Close) are gone and never run. gearmand only marks
// such a job ignored once it has processed its client's disconnection, and
// counts it in "status" until a worker asks for work; then it drops it. So
// once gearmand lists no more than liveClients client connections, a worker
// for function is started, and must run nothing while the queue empties.
func badRequireDropped(t *testing.T, srv *gearmantest.Server, function string, want map[string]int, liveClients int) {
	t.Helper()
	var last int
	require.True(t, eventually(30*time.Second, func() bool {
		last = clientConnections(srv)
		return last >= 0 && last <= liveClients
	}), "gearmand still lists %d client connections, want at most %d", last, liveClients)
	stray := &badLog{}
	w := newWorker(t, srv)
	require.NoError(t, w.AddFunction(function, stray.echo, nil, 0))
	serve(t, srv, w, function)
	badRequireQueues(t, srv, want)
	require.Empty(t, stray.take(), "a worker ran an abandoned %s job", function)
}

// clientConnections counts the connections gearmand lists without a
// function, the admin connection that asks excepted; -1 if it cannot tell.
func clientConnections(srv *gearmantest.Server) int {
	out, err := gearmantest.AdminCommand(srv.Addr(), "workers", time.Second)
	if err != nil {
		return -1
	}
	n := -1 // the asking connection
	for _, line := range splitLines(out) {
		if _, functions, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(functions) == "" {
			n++
		}
	}
	return n
}

// badState is what a Client or Worker remembers of its last failure.
type badState interface {
	ReturnCode() gearman.ReturnCode
	LastError() string
}

// requireBad requires err to be a *gearman.Error with code; obj, if given,
// must report that code and a message.
func requireBad(t *testing.T, what string, err error, code gearman.ReturnCode, obj badState) {
	t.Helper()
	var e *gearman.Error
	require.ErrorAs(t, err, &e, what)
	require.Equal(t, code, e.Code, "%s: %v", what, err)
	require.ErrorIs(t, err, code, what)
	if obj != nil {
		require.Equal(t, code, obj.ReturnCode(), "%s: ReturnCode()", what)
		require.NotEmpty(t, obj.LastError(), "%s: LastError()", what)
	}
}

// requireBadClosed requires the error of a call on a closed Client or Worker.
func requireBadClosed(t *testing.T, what string, err error) {
	t.Helper()
	requireBad(t, what, err, gearman.InvalidArgument, nil)
	require.ErrorIs(t, err, gearman.ErrClosed, what)
}

// badSubmitter is one of the client's ways to submit a job; result is the
// job's result (foreground), or its handle (background), or its Task.
type badSubmitter struct {
	name       string
	background bool
	submit     func(c *gearman.Client, function string, workload []byte, unique string) (result any, err error)
}

// badSubmitters lists all twelve: Do*, Do*Background and AddTask*. A call
// that fails must return no result, handle or task along with its error.
func badSubmitters() []badSubmitter {
	do := func(f func(*gearman.Client, string, []byte, string) ([]byte, error)) func(*gearman.Client, string, []byte, string) (any, error) {
		return func(c *gearman.Client, fn string, wl []byte, u string) (any, error) {
			res, err := f(c, fn, wl, u)
			if err != nil && res != nil {
				return res, fmt.Errorf("result %q with error %w", res, err)
			}
			return res, err
		}
	}
	bg := func(f func(*gearman.Client, string, []byte, string) (string, error)) func(*gearman.Client, string, []byte, string) (any, error) {
		return func(c *gearman.Client, fn string, wl []byte, u string) (any, error) {
			h, err := f(c, fn, wl, u)
			if err != nil && h != "" {
				return h, fmt.Errorf("handle %q with error %w", h, err)
			}
			return h, err
		}
	}
	task := func(f func(*gearman.Client, string, []byte, any, string) (*gearman.Task, error)) func(*gearman.Client, string, []byte, string) (any, error) {
		return func(c *gearman.Client, fn string, wl []byte, u string) (any, error) {
			tk, err := f(c, fn, wl, nil, u)
			if err != nil && tk != nil {
				return tk, fmt.Errorf("a task with error %w", err)
			}
			return tk, err
		}
	}
	return []badSubmitter{
		{"DoNormal", false, do((*gearman.Client).DoNormal)},
		{"DoHigh", false, do((*gearman.Client).DoHigh)},
		{"DoLow", false, do((*gearman.Client).DoLow)},
		{"DoBackground", true, bg((*gearman.Client).DoBackground)},
		{"DoHighBackground", true, bg((*gearman.Client).DoHighBackground)},
		{"DoLowBackground", true, bg((*gearman.Client).DoLowBackground)},
		{"AddTask", false, task((*gearman.Client).AddTask)},
		{"AddTaskHigh", false, task((*gearman.Client).AddTaskHigh)},
		{"AddTaskLow", false, task((*gearman.Client).AddTaskLow)},
		{"AddTaskBackground", true, task((*gearman.Client).AddTaskBackground)},
		{"AddTaskHighBackground", true, task((*gearman.Client).AddTaskHighBackground)},
		{"AddTaskLowBackground", true, task((*gearman.Client).AddTaskLowBackground)},
	}
}

// requireSubmitRefused requires every submitter to refuse the job with
// InvalidArgument, returning no result, handle or task.
func requireSubmitRefused(t *testing.T, c *gearman.Client, function string, workload []byte, unique, desc string) {
	t.Helper()
	for _, s := range badSubmitters() {
		what := fmt.Sprintf("%s(%s)", s.name, desc)
		res, err := s.submit(c, function, workload, unique)
		requireBad(t, what, err, gearman.InvalidArgument, c)
		require.Zero(t, res, what)
	}
	// The refused AddTask* calls queued nothing: RunTasks has no task to run.
	require.NoError(t, c.RunTasks())
}

// ---- the list ----

// Item: nil WorkerFunc or callback. Refused with InvalidArgument before
// anything changes: the name is not registered, and a function or callback
// already in force stays in force (a nil does not clear it). See also
// TestRegisterAndUnregister and TestTaskInvalidArguments.
func TestBadInputNilWorkerFunc(t *testing.T) {
	srv := gearmantest.NewServer(t)
	log := &badLog{}
	w := newWorker(t, srv)
	var nilFn gearman.WorkerFunc

	requireBad(t, "AddFunction(new name, nil)", w.AddFunction("never", nilFn, nil, 0), gearman.InvalidArgument, w)
	require.NoError(t, w.AddFunction("served", log.echo, nil, 0))
	// A nil for a known name, also with another timeout (which would
	// otherwise rebuild the worker), leaves the function in place.
	requireBad(t, "AddFunction(known name, nil)", w.AddFunction("served", nilFn, "ctx", 0), gearman.InvalidArgument, w)
	requireBad(t, "AddFunction(known name, nil, timeout)", w.AddFunction("served", nil, nil, 5000), gearman.InvalidArgument, w)
	serve(t, srv, w, "served")
	c := newClient(t, srv)
	log.requireOnly(t, c, "served")
	// "never" was not registered: gearmand has never heard the name.
	badRequireQueues(t, srv, map[string]int{"served": 0})

	// Client: set every callback, then try to replace each with nil.
	var mu sync.Mutex
	fired := map[string]int{}
	record := func(name string) gearman.TaskCallback {
		return func(*gearman.Task, any) error { mu.Lock(); fired[name]++; mu.Unlock(); return nil }
	}
	setters := []struct {
		name string
		set  func(gearman.TaskCallback) error
	}{
		{"workload", c.SetWorkloadCallback}, {"created", c.SetCreatedCallback},
		{"data", c.SetDataCallback}, {"warning", c.SetWarningCallback},
		{"status", c.SetStatusCallback}, {"complete", c.SetCompleteCallback},
		{"exception", c.SetExceptionCallback}, {"fail", c.SetFailCallback},
		{"data (SetClientCallback)", c.SetClientCallback},
	}
	for _, s := range setters {
		require.NoError(t, s.set(record(strings.Fields(s.name)[0])))
	}
	for _, s := range setters {
		var nilCb gearman.TaskCallback
		requireBad(t, "Set "+s.name+" callback(nil)", s.set(nilCb), gearman.InvalidArgument, c)
	}

	// The callbacks set before still fire, for every event a worker can
	// cause: chatty sends status, data and warning; fail and boom end
	// their jobs with WORK_FAIL and WORK_EXCEPTION.
	chat := newWorker(t, srv)
	require.NoError(t, chat.AddFunction("chatty", chatty, nil, 0))
	require.NoError(t, chat.AddFunction("fail", func(*gearman.Job, any) ([]byte, error) { return nil, gearman.WorkFail }, nil, 0))
	require.NoError(t, chat.AddFunction("boom", func(*gearman.Job, any) ([]byte, error) { return nil, errors.New("boom") }, nil, 0))
	serve(t, srv, chat, "chatty", "fail", "boom")
	for _, fn := range []string{"chatty", "fail", "boom"} {
		_, err := c.AddTask(fn, []byte("x"), nil, "")
		require.NoError(t, err)
	}
	require.NoError(t, c.RunTasks())
	mu.Lock()
	defer mu.Unlock()
	for _, ev := range []string{"created", "status", "data", "warning", "complete", "fail", "exception"} {
		require.Positive(t, fired[ev], "the %s callback no longer fires after a nil was refused: %v", ev, fired)
	}
	require.Zero(t, fired["workload"], "libgearman never asks for a workload the binding gave")
}

// Item: an empty function name, one holding a NUL, one over 512 bytes. Every
// submitter and every worker registration refuses them with InvalidArgument.
// A name with a NUL matters most: PHP cuts it there, so "fn\x00x" would run
// as "fn"; here it never reaches "fn"'s worker, and Unregister("fn\x00") does
// not unregister "fn". 512 bytes, the limit (GEARMAN_FUNCTION_MAX_SIZE), works
// end to end. See also TestInvalidArguments and FuzzArgumentValidation.
func TestBadInputFunctionNames(t *testing.T) {
	name512 := strings.Repeat("f", gearman.FunctionMaxSize)
	srv, c, w, log := badServer(t, "fn", name512)

	bad := []struct{ desc, name string }{
		{"empty", ""},
		{"NUL only", "\x00"},
		{"trailing NUL", "fn\x00"},
		{"NUL inside", "fn\x00x"},
		{"513 bytes", strings.Repeat("f", gearman.FunctionMaxSize+1)},
		{"64 KiB", strings.Repeat("f", 64<<10)},
	}
	for _, b := range bad {
		requireSubmitRefused(t, c, b.name, []byte("x"), "", b.desc+" name")
		// On the running worker: refused at once, before it waits for
		// its Run loop.
		requireBad(t, "AddFunction("+b.desc+")", w.AddFunction(b.name, log.echo, nil, 0), gearman.InvalidArgument, w)
		requireBad(t, "Register("+b.desc+")", w.Register(b.name, 0), gearman.InvalidArgument, w)
		requireBad(t, "Unregister("+b.desc+")", w.Unregister(b.name), gearman.InvalidArgument, w)
	}
	log.requireOnly(t, c, "fn")
	badRequireQueues(t, srv, map[string]int{"fn": 0, name512: 0})

	// The longest valid name, through all three kinds of call.
	res, err := c.DoNormal(name512, []byte("n512"), "")
	require.NoError(t, err)
	require.Equal(t, "n512", string(res))
	_, err = c.DoBackground(name512, []byte("n512-bg"), "")
	require.NoError(t, err)
	task, err := c.AddTask(name512, []byte("n512-task"), nil, "")
	require.NoError(t, err)
	require.NoError(t, c.RunTasks())
	require.Equal(t, "n512-task", string(task.Data()))
	jobs := log.waitTake(t, 3)
	for _, j := range jobs {
		require.Equal(t, name512, j.function)
	}
	badRequireQueues(t, srv, map[string]int{"fn": 0, name512: 0})
}

// Item: a unique key over 64 bytes. The binding refuses 64 bytes and more:
// GEARMAN_UNIQUE_SIZE (64) counts the terminating NUL, so libgearman would
// cut a 64-byte key to 63 and two keys would become one job. A NUL in a key
// is refused too (PHP cuts the key there). 63 bytes reach the worker intact,
// and JobStatusByUniqueKey finds the job by them. See also
// TestInvalidArguments and FuzzWorkloadRoundTrip.
func TestBadInputUniqueTooLong(t *testing.T) {
	srv, c, _, log := badServer(t, "echo")
	key63 := strings.Repeat("k", gearman.UniqueSize-1)

	bad := []struct{ desc, unique string }{
		{"64-byte", strings.Repeat("k", gearman.UniqueSize)},
		{"65-byte", strings.Repeat("k", gearman.UniqueSize+1)},
		{"1 KiB", strings.Repeat("k", 1024)},
		{"NUL-holding", key63[:10] + "\x00" + key63[11:]},
	}
	for _, b := range bad {
		requireSubmitRefused(t, c, "echo", []byte("x"), b.unique, b.desc+" unique key")
		// "parked" has no worker: a job that slipped through would stay
		// in its queue.
		requireSubmitRefused(t, c, "parked", []byte("x"), b.unique, b.desc+" unique key")
		st, err := c.JobStatusByUniqueKey(b.unique)
		requireBad(t, "JobStatusByUniqueKey("+b.desc+")", err, gearman.InvalidArgument, c)
		require.Zero(t, st)
	}
	// An empty key makes a job get a generated one, but names no job to
	// look up.
	st, err := c.JobStatusByUniqueKey("")
	requireBad(t, "JobStatusByUniqueKey(empty)", err, gearman.InvalidArgument, c)
	require.Zero(t, st)
	log.requireOnly(t, c, "echo")
	badRequireQueues(t, srv, map[string]int{"echo": 0})

	// 63 bytes: the key the worker sees is the key given, whichever way
	// the job was submitted.
	for _, s := range badSubmitters() {
		unique := s.name + strings.Repeat("k", gearman.UniqueSize-1-len(s.name))
		require.Len(t, unique, gearman.UniqueSize-1)
		_, err := s.submit(c, "echo", []byte("x"), unique)
		require.NoError(t, err, s.name)
		require.NoError(t, c.RunTasks(), s.name)
		jobs := log.waitTake(t, 1)
		require.Equal(t, unique, jobs[0].unique, s.name)
	}
	_, err = c.DoBackground("parked", []byte("x"), key63)
	require.NoError(t, err)
	st, err = c.JobStatusByUniqueKey(key63)
	require.NoError(t, err)
	require.Equal(t, gearman.JobStatus{Known: true}, st)
	badRequireQueues(t, srv, map[string]int{"echo": 0, "parked": 1})
}

// Item: negative and zero timeouts. As in PHP, -1 means wait forever, and a
// timeout below -1 is refused with InvalidArgument, leaving the timeout as
// it was. 0 means "do not wait": libgearman itself would wedge on it (every
// later call answers NO_ACTIVE_FDS), the binding never passes it on, so a
// call that would have to wait gives up with Timeout at once and the object
// stays usable. A function's job timeout (AddFunction, Register) is 0 for
// none or a positive number of ms. See also TestSetTimeoutZeroDoesNotWedge
// (0 set before the first connection) and TestWorkTimeout.
func TestBadInputTimeouts(t *testing.T) {
	srv := gearmantest.NewServer(t)
	log := &badLog{}

	t.Run("client", func(t *testing.T) {
		c := newClient(t, srv)
		require.Equal(t, -1, c.Timeout(), "PHP: forever by default")
		require.NoError(t, c.SetTimeout(1234))
		for _, ms := range []int{-2, -1000, math.MinInt} {
			requireBad(t, fmt.Sprintf("SetTimeout(%d)", ms), c.SetTimeout(ms), gearman.InvalidArgument, c)
			require.Equal(t, 1234, c.Timeout(), "a refused timeout changed the timeout")
		}
		require.NoError(t, c.SetTimeout(-1))
		require.Equal(t, -1, c.Timeout())

		// 0 after the client has connected (the other test sets it before).
		require.NoError(t, c.Ping([]byte("connect")))
		require.NoError(t, c.SetTimeout(0))
		require.Equal(t, 0, c.Timeout())
		start := time.Now()
		_, err := c.DoNormal("nobody", []byte("x"), "")
		requireBad(t, "DoNormal with timeout 0", err, gearman.Timeout, c)
		require.Less(t, time.Since(start), time.Second, "0 gives up at once")
		// A task keeps its place after RunTasks timed out, as in PHP.
		task, err := c.AddTask("late", []byte("kept"), nil, "")
		require.NoError(t, err)
		start = time.Now()
		requireBad(t, "RunTasks with timeout 0", c.RunTasks(), gearman.Timeout, c)
		require.Less(t, time.Since(start), time.Second, "0 gives up at once")

		// Not wedged: with a worker and a real timeout, the client runs
		// the kept task and new jobs, and the DoNormal job it abandoned
		// never runs.
		w := newWorker(t, srv)
		require.NoError(t, w.AddFunction("late", log.echo, nil, 0))
		require.NoError(t, w.AddFunction("echo", log.echo, nil, 0))
		serve(t, srv, w, "late", "echo")
		require.NoError(t, c.SetTimeout(10000))
		require.NoError(t, c.RunTasks())
		require.Equal(t, gearman.Success, task.ReturnCode())
		require.Equal(t, "kept", string(task.Data()))
		require.Len(t, log.take(), 1, "the kept task ran exactly once")
		log.requireOnly(t, c, "echo")
		// The client keeps two connections: one for its blocking jobs
		// (the driver's), one for its tasks.
		badRequireDropped(t, srv, "nobody", map[string]int{"late": 0, "echo": 0, "nobody": 0}, 2)
	})

	t.Run("worker", func(t *testing.T) {
		w := newWorker(t, srv)
		require.Equal(t, -1, w.Timeout())
		require.NoError(t, w.SetTimeout(1234))
		for _, ms := range []int{-2, -1000, math.MinInt} {
			requireBad(t, fmt.Sprintf("SetTimeout(%d)", ms), w.SetTimeout(ms), gearman.InvalidArgument, w)
			require.Equal(t, 1234, w.Timeout(), "a refused timeout changed the timeout")
		}
		require.NoError(t, w.SetTimeout(-1))
		require.Equal(t, -1, w.Timeout())

		// The job timeout of a function: 0 is none, negative or beyond 32
		// bits is refused.
		for _, ms := range []int{-1, math.MinInt, math.MaxUint32 + 1, math.MaxInt} {
			requireBad(t, fmt.Sprintf("AddFunction(timeout %d)", ms), w.AddFunction("zero", log.echo, nil, ms), gearman.InvalidArgument, w)
			requireBad(t, fmt.Sprintf("Register(timeout %d)", ms), w.Register("zero", ms), gearman.InvalidArgument, w)
		}
		require.NoError(t, w.AddFunction("zero", log.echo, nil, 0))

		// Work with timeout 0 and nothing queued: Timeout at once.
		require.NoError(t, w.SetTimeout(0))
		require.NotZero(t, w.Options()&gearman.WorkerTimeoutReturn)
		start := time.Now()
		requireBad(t, "Work with timeout 0, idle", w.Work(), gearman.Timeout, w)
		require.Less(t, time.Since(start), time.Second, "0 gives up at once")

		// With a job queued, Work with timeout 0 serves it within a few
		// calls (a call may end before gearmand's answer to GRAB_JOB
		// arrives), exactly once, and the queue is left empty.
		c := newClient(t, srv)
		_, err := c.DoBackground("zero", []byte("queued"), "")
		require.NoError(t, err)
		calls := 0
		for deadline := time.Now().Add(5 * time.Second); log.count() == 0 && time.Now().Before(deadline); calls++ {
			if err := w.Work(); err != nil {
				requireBad(t, "Work with timeout 0", err, gearman.Timeout, w)
			}
		}
		t.Logf("Work with timeout 0 served the queued job in %d calls", calls)
		jobs := log.take()
		require.Len(t, jobs, 1)
		require.Equal(t, "queued", string(jobs[0].workload))
		badRequireQueues(t, srv, map[string]int{"late": 0, "echo": 0, "nobody": 0, "zero": 0})
	})

	// A Go deadline of zero or less: the call must fail with the context's
	// error and do nothing.
	t.Run("expired context", func(t *testing.T) {
		c := newClient(t, srv)
		w := newWorker(t, srv)
		require.NoError(t, w.AddFunction("expired", log.echo, nil, 0))
		for _, d := range []time.Duration{0, -time.Second} {
			ctx, cancel := context.WithTimeout(context.Background(), d)
			defer cancel()
			<-ctx.Done()
			for i := 0; i < 20; i++ {
				_, err := c.DoBackgroundContext(ctx, "parked", []byte("x"), "")
				require.ErrorIs(t, err, context.DeadlineExceeded, "DoBackgroundContext")
				_, err = c.DoNormalContext(ctx, "parked", []byte("x"), "")
				require.ErrorIs(t, err, context.DeadlineExceeded, "DoNormalContext")
				_, err = c.JobStatusContext(ctx, "H:x:1")
				require.ErrorIs(t, err, context.DeadlineExceeded, "JobStatusContext")
				require.ErrorIs(t, c.PingContext(ctx, []byte("x")), context.DeadlineExceeded, "Client.PingContext")
				task, err := c.AddTaskBackground("parked", []byte("x"), nil, "")
				require.NoError(t, err)
				require.ErrorIs(t, c.RunTasksContext(ctx), context.DeadlineExceeded, "RunTasksContext")
				require.Equal(t, gearman.Timeout, task.ReturnCode())
				require.ErrorIs(t, w.PingContext(ctx, []byte("x")), context.DeadlineExceeded, "Worker.PingContext")
			}
			// A job is queued for the worker; an expired WorkContext
			// must not take it.
			_, err := c.DoBackground("expired", []byte("x"), "")
			require.NoError(t, err)
			for i := 0; i < 20; i++ {
				require.ErrorIs(t, w.WorkContext(ctx), context.DeadlineExceeded, "WorkContext")
			}
			require.Empty(t, log.take())
			require.NoError(t, w.Work())
			require.Len(t, log.take(), 1)
		}
		badRequireQueues(t, srv, map[string]int{"late": 0, "echo": 0, "nobody": 0, "zero": 0, "expired": 0, "parked": 0})
	})
}

// Item: empty, 1-byte and 64 MiB workloads.
//
// An empty workload, nil or []byte{}, is sent and reaches the worker as zero
// bytes, on every path. PHP's doNormal("f", "") fails with
// GEARMAN_INVALID_ARGUMENT "invalid workload" only because PHP passes "" as
// a pointer with a length of zero, which libgearman's add_task refuses; given
// NULL it sends an empty workload. Ping alone refuses empty data, as
// libgearman's echo does. A result can be empty too, and it arrives as such.
// One byte, NUL and 0xff included, round-trips through every path.
//
// 64 MiB round-trips through DoNormal and reaches a worker whole as a
// background job. gearmand 1.1.20 has no packet size limit of its own below
// the protocol's 32-bit length field (libgearman-server/packet.cc refuses a
// length of UINT32_MAX or more), so nothing in between cuts it; its log
// stays free of errors.
func TestBadInputWorkloadSizes(t *testing.T) {
	srv, c, w, log := badServer(t, "echo")

	t.Run("empty", func(t *testing.T) {
		for _, empty := range [][]byte{nil, {}} {
			desc := fmt.Sprintf("%#v workload", empty)
			for _, s := range badSubmitters() {
				what := fmt.Sprintf("%s(%s)", s.name, desc)
				res, err := s.submit(c, "echo", empty, "")
				require.NoError(t, err, what)
				require.NoError(t, c.RunTasks(), what)
				switch r := res.(type) {
				case []byte:
					require.Empty(t, r, what)
				case string:
					require.Regexp(t, `^H:`, r, what)
				case *gearman.Task:
					require.Equal(t, gearman.Success, r.ReturnCode(), what)
					require.Zero(t, r.DataSize(), what)
				}
				jobs := log.waitTake(t, 1)
				require.Empty(t, jobs[0].workload, "%s: what the worker saw", what)
			}
			requireBad(t, "Client.Ping("+desc+")", c.Ping(empty), gearman.InvalidArgument, c)
			requireBad(t, "Worker.Ping("+desc+")", w.Ping(empty), gearman.InvalidArgument, w)
		}
		log.requireOnly(t, c, "echo")
		badRequireQueues(t, srv, map[string]int{"echo": 0})

		// An empty result: from a function returning nil, and one
		// returning an empty slice.
		ew := newWorker(t, srv)
		require.NoError(t, ew.AddFunction("nothing", func(*gearman.Job, any) ([]byte, error) { return nil, nil }, nil, 0))
		require.NoError(t, ew.AddFunction("emptyslice", func(*gearman.Job, any) ([]byte, error) { return []byte{}, nil }, nil, 0))
		serve(t, srv, ew, "nothing", "emptyslice")
		for _, fn := range []string{"nothing", "emptyslice"} {
			res, err := c.DoNormal(fn, []byte("x"), "")
			require.NoError(t, err, fn)
			require.Empty(t, res, fn)
			task, err := c.AddTask(fn, []byte("x"), nil, "")
			require.NoError(t, err)
			require.NoError(t, c.RunTasks())
			require.Equal(t, gearman.Success, task.ReturnCode(), fn)
			require.Zero(t, task.DataSize(), fn)
		}
	})

	t.Run("1 byte", func(t *testing.T) {
		// w waits for jobs in Run, and a Ping would wait for it to be
		// done: an idle worker pings.
		idle := newWorker(t, srv)
		for _, b := range []byte{0x00, 'x', 0xff} {
			one := []byte{b}
			for _, s := range badSubmitters() {
				what := fmt.Sprintf("%s(%q)", s.name, one)
				res, err := s.submit(c, "echo", one, "")
				require.NoError(t, err, what)
				require.NoError(t, c.RunTasks(), what)
				switch r := res.(type) {
				case []byte:
					require.Equal(t, one, r, what)
				case *gearman.Task:
					require.Equal(t, gearman.Success, r.ReturnCode(), what)
					if !s.background {
						require.Equal(t, one, r.Data(), what)
					}
				}
				jobs := log.waitTake(t, 1)
				require.Equal(t, one, jobs[0].workload, "%s: what the worker saw", what)
			}
			require.NoError(t, c.Ping(one))
			require.NoError(t, idle.Ping(one))
		}
	})

	t.Run("64 MiB", func(t *testing.T) {
		const size = 64 << 20
		big := make([]byte, size)
		for i := range big {
			big[i] = byte(i*7 + i>>16) // no period short of 16 MiB
		}
		// The background job's worker compares in place instead of
		// copying 64 MiB more.
		got := make(chan string, 1)
		bw := newWorker(t, srv)
		require.NoError(t, bw.AddFunction("sink", func(job *gearman.Job, _ any) ([]byte, error) {
			wl := job.Workload()
			if bytes.Equal(wl, big) {
				got <- "equal"
			} else {
				got <- fmt.Sprintf("%d bytes, different", len(wl))
			}
			return nil, nil
		}, nil, 0))
		serve(t, srv, bw, "sink")
		selfBefore, srvBefore := badPeakRSS(t, os.Getpid()), badPeakRSS(t, srv.Pid())

		start := time.Now()
		res, err := c.DoNormal("echo", big, "")
		t.Logf("64 MiB DoNormal round trip: %v", time.Since(start))
		require.NoError(t, err)
		require.Equal(t, size, len(res))
		require.True(t, bytes.Equal(big, res), "the 64 MiB result differs from the workload")
		res = nil
		jobs := log.take()
		require.Len(t, jobs, 1)
		require.True(t, bytes.Equal(big, jobs[0].workload), "the echo worker saw another workload")
		jobs = nil

		start = time.Now()
		handle, err := c.DoBackground("sink", big, "")
		require.NoError(t, err)
		require.NotEmpty(t, handle)
		t.Logf("64 MiB DoBackground queued: %v", time.Since(start))
		select {
		case verdict := <-got:
			require.Equal(t, "equal", verdict, "the worker's 64 MiB workload")
		case <-time.After(30 * time.Second):
			t.Fatal("the 64 MiB background job never reached the worker")
		}
		t.Logf("64 MiB DoBackground queued and received by the worker: %v", time.Since(start))

		// The data is copied a few times (Go to C, C to Go, in gearmand),
		// and -race adds shadow memory; a leak or a quadratic buffer
		// would show as many times more.
		selfAfter, srvAfter := badPeakRSS(t, os.Getpid()), badPeakRSS(t, srv.Pid())
		t.Logf("peak RSS: test process %d -> %d MiB, gearmand %d -> %d MiB",
			selfBefore>>20, selfAfter>>20, srvBefore>>20, srvAfter>>20)
		require.Less(t, selfAfter-selfBefore, int64(16*size), "test process peak RSS grew by more than 16x the payload")
		require.Less(t, srvAfter-srvBefore, int64(8*size), "gearmand's peak RSS grew by more than 8x the payload")

		logText, err := os.ReadFile(srv.LogPath())
		require.NoError(t, err)
		require.NotContains(t, strings.ToUpper(string(logText)), "ERROR", "gearmand's log")
		badRequireQueues(t, srv, map[string]int{"echo": 0, "sink": 0, "nothing": 0, "emptyslice": 0})
	})
}

// badPeakRSS returns the peak resident set size (VmHWM) of process pid.
func badPeakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// Item: use after Close, and a double Close. Close is idempotent, also from
// several goroutines at once; every later call that can fail fails with an
// error wrapping ErrClosed (code InvalidArgument); accessors answer without
// crashing. Nothing is lost: a task added but never run ends with
// LostConnection instead of silently, a job a worker grabbed and never
// completed goes back to gearmand's queue and the next worker runs it. See
// also TestClosedClient, TestClosedWorker, TestGrabbedJobAfterWorkerClose.
func TestBadInputUseAfterClose(t *testing.T) {
	srv := gearmantest.NewServer(t)
	ctx := context.Background()
	cb := func(*gearman.Task, any) error { return nil }

	t.Run("client", func(t *testing.T) {
		c, err := gearman.NewClient()
		require.NoError(t, err)
		require.NoError(t, c.AddServer(srv.Host(), srv.Port()))
		pending, err := c.AddTask("pending", []byte("x"), nil, "")
		require.NoError(t, err)
		badCloseTwice(t, c.Close)
		require.Equal(t, gearman.LostConnection, pending.ReturnCode(), "a task never run says why it ended")

		calls := map[string]error{
			"AddServer":              c.AddServer(srv.Host(), srv.Port()),
			"AddServers":             c.AddServers(srv.Addr()),
			"Ping":                   c.Ping([]byte("x")),
			"PingContext":            c.PingContext(ctx, []byte("x")),
			"Echo":                   c.Echo([]byte("x")),
			"Wait":                   c.Wait(),
			"WaitContext":            c.WaitContext(ctx),
			"RunTasks":               c.RunTasks(),
			"RunTasksContext":        c.RunTasksContext(ctx),
			"EnableExceptionHandler": c.EnableExceptionHandler(),
			"ClearCallbacks":         c.ClearCallbacks(),
			"SetWorkloadCallback":    c.SetWorkloadCallback(cb),
			"SetCreatedCallback":     c.SetCreatedCallback(cb),
			"SetDataCallback":        c.SetDataCallback(cb),
			"SetWarningCallback":     c.SetWarningCallback(cb),
			"SetStatusCallback":      c.SetStatusCallback(cb),
			"SetCompleteCallback":    c.SetCompleteCallback(cb),
			"SetExceptionCallback":   c.SetExceptionCallback(cb),
			"SetFailCallback":        c.SetFailCallback(cb),
			"SetClientCallback":      c.SetClientCallback(cb),
			"SetCompleteCallback(nil)": func() error {
				var nilCb gearman.TaskCallback
				return c.SetCompleteCallback(nilCb)
			}(),
		}
		for _, s := range badSubmitters() {
			res, err := s.submit(c, "f", []byte("x"), "")
			require.Zero(t, res, s.name)
			calls[s.name] = err
		}
		var st gearman.JobStatus
		st, calls["JobStatus"] = c.JobStatus("H:x:1")
		require.Zero(t, st)
		st, calls["JobStatusByUniqueKey"] = c.JobStatusByUniqueKey("u")
		require.Zero(t, st)
		var res []byte
		res, calls["DoNormalContext"] = c.DoNormalContext(ctx, "f", []byte("x"), "")
		require.Nil(t, res)
		res, calls["Do"] = c.Do("f", []byte("x"), "")
		require.Nil(t, res)
		var h string
		h, calls["DoBackgroundContext"] = c.DoBackgroundContext(ctx, "f", []byte("x"), "")
		require.Empty(t, h)
		var task *gearman.Task
		task, calls["AddTaskStatus"] = c.AddTaskStatus("H:x:1", nil)
		require.Nil(t, task)
		var clone *gearman.Client
		clone, calls["Clone"] = c.Clone()
		require.Nil(t, clone)
		for name, err := range calls {
			requireBadClosed(t, name, err)
		}

		// Accessors answer; none crashes.
		_ = c.ReturnCode()
		_ = c.LastError()
		_ = c.GetErrno()
		_ = c.Options()
		require.Equal(t, -1, c.Timeout())
		require.Nil(t, c.Context())
		require.Empty(t, c.DoJobHandle())
		n, d := c.DoStatus()
		require.Zero(t, n+d)
		// The task's Task methods still answer too.
		require.Empty(t, pending.JobHandle())
		_, err = pending.SendWorkload([]byte("x"))
		requireBad(t, "SendWorkload on a closed client's task", err, gearman.InvalidArgument, nil)

		t.Run("setters", func(t *testing.T) {
			for name, err := range map[string]error{
				"SetTimeout":    c.SetTimeout(5),
				"SetContext":    c.SetContext("x"),
				"SetData":       c.SetData("x"),
				"SetOptions":    c.SetOptions(gearman.ClientNonBlocking),
				"AddOptions":    c.AddOptions(gearman.ClientNonBlocking),
				"RemoveOptions": c.RemoveOptions(gearman.ClientNonBlocking),
			} {
				requireBadClosed(t, name, err)
			}
		})

		// Nothing reached gearmand: the pending task was never sent.
		badRequireQueues(t, srv, map[string]int{})
	})

	t.Run("worker", func(t *testing.T) {
		log := &badLog{}
		c := newClient(t, srv)
		handle, err := c.DoBackground("grab", []byte("grabbed, not completed"), "")
		require.NoError(t, err)

		w, err := gearman.NewWorker()
		require.NoError(t, err)
		require.NoError(t, w.AddServer(srv.Host(), srv.Port()))
		require.NoError(t, w.Register("grab", 0))
		job, err := w.GrabJob()
		require.NoError(t, err)
		require.Equal(t, handle, job.Handle())
		badCloseTwice(t, w.Close)

		calls := map[string]error{
			"AddServer":              w.AddServer(srv.Host(), srv.Port()),
			"AddServers":             w.AddServers(srv.Addr()),
			"AddFunction":            w.AddFunction("f", echo, nil, 0),
			"Register":               w.Register("f", 0),
			"Unregister":             w.Unregister("grab"),
			"UnregisterAll":          w.UnregisterAll(),
			"Work":                   w.Work(),
			"WorkContext":            w.WorkContext(ctx),
			"Run":                    w.Run(ctx),
			"Wait":                   w.Wait(),
			"WaitContext":            w.WaitContext(ctx),
			"Ping":                   w.Ping([]byte("x")),
			"PingContext":            w.PingContext(ctx, []byte("x")),
			"Echo":                   w.Echo([]byte("x")),
			"SetId":                  w.SetId("x"),
			"SetOptions":             w.SetOptions(0),
			"AddOptions":             w.AddOptions(gearman.WorkerGrabUniq),
			"RemoveOptions":          w.RemoveOptions(gearman.WorkerGrabUniq),
			"EnableExceptionHandler": w.EnableExceptionHandler(),
			// The grabbed job's libgearman worker is gone.
			"Job.SendComplete": job.SendComplete([]byte("too late")),
			"Job.SendData":     job.SendData([]byte("too late")),
			"Job.SendFail":     job.SendFail(),
		}
		var grabbed *gearman.Job
		grabbed, calls["GrabJob"] = w.GrabJob()
		require.Nil(t, grabbed)
		var clone *gearman.Worker
		clone, calls["Clone"] = w.Clone()
		require.Nil(t, clone)
		for name, err := range calls {
			requireBadClosed(t, name, err)
		}
		_ = w.ReturnCode()
		_ = w.LastError()
		_ = w.GetErrno()
		_ = w.Options()
		require.Equal(t, -1, w.Timeout())

		t.Run("setters", func(t *testing.T) {
			requireBadClosed(t, "SetTimeout", w.SetTimeout(5))
		})

		// The grabbed job was not lost: gearmand gives it to the next
		// worker.
		next := newWorker(t, srv)
		require.NoError(t, next.AddFunction("grab", log.echo, nil, 0))
		serve(t, srv, next, "grab")
		jobs := log.waitTake(t, 1)
		require.Equal(t, "grabbed, not completed", string(jobs[0].workload))
		badRequireQueues(t, srv, map[string]int{"grab": 0})
	})
}

// badCloseTwice closes twice in a row, then from several goroutines at once:
// every Close returns nil.
func badCloseTwice(t *testing.T, closeFn func() error) {
	t.Helper()
	require.NoError(t, closeFn())
	require.NoError(t, closeFn(), "a second Close")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- closeFn() }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "a concurrent Close")
	}
}

// Item: a Job used after its function returned. libgearman has freed the
// job then (PHP's extension reads freed memory here): every Send fails with
// ErrJobDone (code InvalidArgument), the same once a function completed its
// own job, or a grabbed job was completed; what was read while the job lived
// stays readable. A goroutine still sending while the function returns never
// touches freed memory, and nothing it sends late reaches any client. See
// also TestJobKeptAfterItsFunctionReturned and TestGrabJob.
func TestBadInputJobAfterReturn(t *testing.T) {
	srv := gearmantest.NewServer(t)
	escaped := make(chan *gearman.Job, 1)
	w := newWorker(t, srv)
	require.NoError(t, w.AddFunction("escape", func(job *gearman.Job, _ any) ([]byte, error) {
		_ = job.Handle()
		_ = job.Workload()
		escaped <- job
		return []byte("result"), nil
	}, nil, 0))
	// The function completes the job itself, then tries to go on.
	require.NoError(t, w.AddFunction("completes", func(job *gearman.Job, _ any) ([]byte, error) {
		if err := job.SendComplete([]byte("sent by SendComplete")); err != nil {
			return nil, err
		}
		for name, err := range map[string]error{
			"SendData":     job.SendData([]byte("x")),
			"SendComplete": job.SendComplete([]byte("again")),
			"SendFail":     job.SendFail(),
			"SetReturn":    job.SetReturn(gearman.WorkFail),
		} {
			if !errors.Is(err, gearman.ErrJobDone) || !errors.Is(err, gearman.InvalidArgument) {
				return nil, fmt.Errorf("%s after SendComplete: %v", name, err)
			}
		}
		return []byte("ignored: the job was completed"), nil
	}, nil, 0))
	// A goroutine sends data until the job ends under it, and reports how
	// many chunks SendData accepted.
	type raced struct {
		sent int
		err  error
	}
	late := make(chan raced, 1)
	require.NoError(t, w.AddFunction("racing", func(job *gearman.Job, _ any) ([]byte, error) {
		started := make(chan struct{})
		go func() {
			close(started)
			for sent := 0; ; sent++ {
				if err := job.SendData([]byte("d")); err != nil {
					late <- raced{sent, err}
					return
				}
				if sent == 100000 {
					late <- raced{sent, errors.New("SendData still succeeds after 100000 chunks")}
					return
				}
			}
		}()
		<-started
		return []byte("final"), nil
	}, nil, 0))
	serve(t, srv, w, "escape", "completes", "racing")
	c := newClient(t, srv)

	res, err := c.DoNormal("escape", []byte("payload"), "escape-unique")
	require.NoError(t, err)
	require.Equal(t, "result", string(res))
	job := <-escaped
	for name, err := range map[string]error{
		"SendData":      job.SendData([]byte("late")),
		"SendWarning":   job.SendWarning([]byte("late")),
		"SendStatus":    job.SendStatus(1, 2),
		"SendComplete":  job.SendComplete([]byte("late")),
		"SendException": job.SendException([]byte("late")),
		"SendFail":      job.SendFail(),
		"SetReturn":     job.SetReturn(gearman.WorkFail),
		"Complete":      job.Complete([]byte("late")),
		"Data":          job.Data([]byte("late")),
		"Warning":       job.Warning([]byte("late")),
		"Status":        job.Status(1, 2),
		"Exception":     job.Exception([]byte("late")),
		"Fail":          job.Fail(),
	} {
		requireBad(t, "Job."+name+" after return", err, gearman.InvalidArgument, nil)
		require.ErrorIs(t, err, gearman.ErrJobDone, name)
	}
	require.Regexp(t, `^H:`, job.Handle(), "read while the job lived")
	require.Equal(t, "payload", string(job.Workload()))
	require.Equal(t, 7, job.WorkloadSize())
	require.Empty(t, job.Unique(), "never read while the job lived: a zero value, not freed memory")
	require.Empty(t, job.FunctionName())

	res, err = c.DoNormal("completes", []byte("x"), "")
	require.NoError(t, err)
	require.Equal(t, "sent by SendComplete", string(res))

	// The result is every chunk SendData accepted, then "final": a chunk
	// is either delivered or refused with ErrJobDone, never accepted and
	// dropped. Repeated, as the goroutine races the return differently
	// each time.
	t.Run("racing the return", func(t *testing.T) {
		for i := 0; i < 50; i++ {
			res, err := c.DoNormal("racing", []byte("x"), "")
			require.NoError(t, err)
			r := <-late
			requireBad(t, "SendData racing the function's return", r.err, gearman.InvalidArgument, nil)
			require.ErrorIs(t, r.err, gearman.ErrJobDone)
			require.Equal(t, r.sent, strings.Count(string(res), "d"),
				"job %d: SendData accepted %d chunks, the client got %d", i, r.sent, strings.Count(string(res), "d"))
			require.Equal(t, strings.Repeat("d", r.sent)+"final", string(res))
		}
	})

	// The late sends reached no client: the next job's result is its own.
	res, err = c.DoNormal("escape", []byte("next"), "")
	require.NoError(t, err)
	require.Equal(t, "result", string(res))
	<-escaped

	// A grabbed job after it was completed.
	g := newWorker(t, srv)
	require.NoError(t, g.Register("grab", 0))
	_, err = c.DoBackground("grab", []byte("x"), "")
	require.NoError(t, err)
	grabbed, err := g.GrabJob()
	require.NoError(t, err)
	require.NoError(t, grabbed.SendComplete([]byte("done")))
	for name, err := range map[string]error{
		"SendData":     grabbed.SendData([]byte("late")),
		"SendComplete": grabbed.SendComplete([]byte("late")),
		"SendFail":     grabbed.SendFail(),
	} {
		requireBad(t, "grabbed Job."+name+" after SendComplete", err, gearman.InvalidArgument, nil)
		require.ErrorIs(t, err, gearman.ErrJobDone, name)
	}
	badRequireQueues(t, srv, map[string]int{"escape": 0, "completes": 0, "racing": 0, "grab": 0})
}

// Item: a Task used after libgearman freed it. libgearman frees a task when
// it finishes (ClientFreeTasks, PHP's default), when RunTasks abandons it,
// and when the client is closed; PHP's getters then return false. Here the
// Task keeps its final handle, data, status and ReturnCode, readable from
// any goroutine, and SendWorkload and RecvData fail with InvalidArgument.
func TestBadInputTaskAfterFree(t *testing.T) {
	srv, c, _, log := badServer(t, "echo")
	fw := newWorker(t, srv)
	require.NoError(t, fw.AddFunction("fail", func(*gearman.Job, any) ([]byte, error) { return nil, gearman.WorkFail }, nil, 0))
	serve(t, srv, fw, "fail")

	var inCallback *gearman.Task
	require.NoError(t, c.SetCompleteCallback(func(task *gearman.Task, _ any) error {
		if string(task.Data()) == "kept from a callback" {
			inCallback = task
		}
		return nil
	}))
	done, err := c.AddTask("echo", []byte("finished"), "ctx", "done-unique")
	require.NoError(t, err)
	_, err = c.AddTask("echo", []byte("kept from a callback"), nil, "")
	require.NoError(t, err)
	failed, err := c.AddTask("fail", []byte("x"), nil, "")
	require.NoError(t, err)
	bg, err := c.AddTaskBackground("echo", []byte("background"), nil, "")
	require.NoError(t, err)
	require.NoError(t, c.RunTasks())
	log.waitTake(t, 3)
	require.NotNil(t, inCallback)

	type final struct {
		rc      gearman.ReturnCode
		data    string
		handle  bool
		fn, uid string
	}
	want := map[*gearman.Task]final{
		done:       {gearman.Success, "finished", true, "echo", "done-unique"},
		inCallback: {gearman.Success, "kept from a callback", true, "echo", inCallback.Unique()},
		failed:     {gearman.WorkFail, "", true, "fail", failed.Unique()},
		bg:         {gearman.Success, "", true, "echo", bg.Unique()},
	}
	// Read every freed task from several goroutines while the client runs
	// another task: the race detector checks the locking.
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for task := range want {
				_, _ = task.JobHandle(), task.Data()
				_, _, _ = task.IsKnown(), task.IsRunning(), task.TaskNumerator()
				_, _ = task.SendWorkload([]byte("x"))
				_, _ = task.RecvData(8)
			}
		}()
	}
	_, err = c.AddTask("echo", []byte("meanwhile"), nil, "")
	require.NoError(t, err)
	require.NoError(t, c.RunTasks())
	wg.Wait()
	log.take()

	for task, f := range want {
		what := fmt.Sprintf("freed task %q", f.data)
		require.Equal(t, f.rc, task.ReturnCode(), what)
		require.Equal(t, f.data, string(task.Data()), what)
		require.Equal(t, len(f.data), task.DataSize(), what)
		require.Equal(t, f.fn, task.FunctionName(), what)
		require.Equal(t, f.uid, task.Unique(), what)
		require.Regexp(t, `^H:`, task.JobHandle(), what)
		_, err := task.SendWorkload([]byte("x"))
		requireBad(t, what+": SendWorkload", err, gearman.InvalidArgument, nil)
		_, err = task.SendData([]byte("x"))
		requireBad(t, what+": SendData", err, gearman.InvalidArgument, nil)
		data, err := task.RecvData(8)
		requireBad(t, what+": RecvData", err, gearman.InvalidArgument, nil)
		require.Nil(t, data)
	}
	require.False(t, done.IsKnown(), "PHP: a finished job is no longer known")

	// Freed because RunTasks gave up on it (its context ended): it says
	// why, and gearmand drops the abandoned job.
	abandoned, err := c.AddTask("nobody", []byte("x"), nil, "")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, c.RunTasksContext(ctx), context.DeadlineExceeded)
	require.Equal(t, gearman.Timeout, abandoned.ReturnCode())
	_, err = abandoned.SendWorkload([]byte("x"))
	requireBad(t, "abandoned task: SendWorkload", err, gearman.InvalidArgument, nil)

	// Freed by Close while the server had it: LostConnection.
	c2 := newClient(t, srv)
	require.NoError(t, c2.SetTimeout(200))
	inflight, err := c2.AddTask("nobody", []byte("x"), nil, "")
	require.NoError(t, err)
	requireBad(t, "RunTasks without a worker", c2.RunTasks(), gearman.Timeout, c2)
	require.NoError(t, c2.Close())
	require.Equal(t, gearman.LostConnection, inflight.ReturnCode())
	_, err = inflight.RecvData(1)
	requireBad(t, "closed client's task: RecvData", err, gearman.InvalidArgument, nil)

	// Neither abandoned job ever runs, and the client carries on.
	// c was rebuilt after its abandoned job and has not connected since;
	// c2 is closed.
	badRequireDropped(t, srv, "nobody", map[string]int{"echo": 0, "fail": 0, "nobody": 0}, 0)
	log.requireOnly(t, c, "echo")
}

// Item: SendWorkload and RecvData on a task not yet sent. PHP's extension
// segfaults there; here every kind of task refuses them with
// InvalidArgument, also on a client with no server, and the refusal costs
// the task nothing: it then runs as if they had never been called. See also
// TestTaskInvalidArguments.
func TestBadInputTaskNotYetSent(t *testing.T) {
	requireUnsent := func(t *testing.T, task *gearman.Task, what string) {
		t.Helper()
		for _, data := range [][]byte{[]byte("x"), nil, make([]byte, 1<<20)} {
			n, err := task.SendWorkload(data)
			requireBad(t, fmt.Sprintf("%s: SendWorkload(%d bytes)", what, len(data)), err, gearman.InvalidArgument, nil)
			require.Zero(t, n)
			n, err = task.SendData(data)
			requireBad(t, fmt.Sprintf("%s: SendData(%d bytes)", what, len(data)), err, gearman.InvalidArgument, nil)
			require.Zero(t, n)
		}
		for _, n := range []int{1, 1 << 20, 0, -1, math.MinInt} {
			data, err := task.RecvData(n)
			requireBad(t, fmt.Sprintf("%s: RecvData(%d)", what, n), err, gearman.InvalidArgument, nil)
			require.Nil(t, data)
		}
		require.Empty(t, task.JobHandle(), what)
		require.Nil(t, task.Data(), what)
	}

	t.Run("no server", func(t *testing.T) {
		c, err := gearman.NewClient()
		require.NoError(t, err)
		defer c.Close()
		// The mode RecvData is meant for.
		require.NoError(t, c.AddOptions(gearman.ClientUnbufferedResult))
		for _, s := range badSubmitters()[6:] { // AddTask*
			res, err := s.submit(c, "f", []byte("x"), "")
			require.NoError(t, err)
			requireUnsent(t, res.(*gearman.Task), s.name)
		}
		status, err := c.AddTaskStatus("H:x:1", nil)
		require.NoError(t, err)
		requireUnsent(t, status, "AddTaskStatus")
	})

	t.Run("then run", func(t *testing.T) {
		srv, c, _, log := badServer(t, "echo")
		var statuses []*gearman.Task
		require.NoError(t, c.SetStatusCallback(func(task *gearman.Task, _ any) error {
			statuses = append(statuses, task)
			return nil
		}))
		type added struct {
			task       *gearman.Task
			name       string
			background bool
		}
		var tasks []added
		for _, s := range badSubmitters()[6:] {
			res, err := s.submit(c, "echo", []byte(s.name), "")
			require.NoError(t, err)
			task := res.(*gearman.Task)
			requireUnsent(t, task, s.name)
			tasks = append(tasks, added{task, s.name, s.background})
		}
		status, err := c.AddTaskStatus("H:nowhere:1", "status-ctx")
		require.NoError(t, err)
		requireUnsent(t, status, "AddTaskStatus")

		require.NoError(t, c.RunTasks())
		for _, a := range tasks {
			require.Equal(t, gearman.Success, a.task.ReturnCode(), a.name)
			require.Regexp(t, `^H:`, a.task.JobHandle(), a.name)
			if !a.background {
				require.Equal(t, a.name, string(a.task.Data()), a.name)
			}
		}
		require.Equal(t, []*gearman.Task{status}, statuses, "the status task ran")
		require.False(t, status.IsKnown())
		// The worker saw each workload once, unchanged.
		var seen []string
		for _, j := range log.waitTake(t, len(tasks)) {
			seen = append(seen, string(j.workload))
		}
		var names []string
		for _, a := range tasks {
			names = append(names, a.name)
		}
		require.ElementsMatch(t, names, seen)
		badRequireQueues(t, srv, map[string]int{"echo": 0})
	})

	// Once sent, inside its callbacks, a task's SendWorkload still cannot
	// send anything: libgearman only streams a workload it asked for
	// (NEED_WORKLOAD), and the binding always gives the workload.
	t.Run("inside a callback", func(t *testing.T) {
		srv, c, _, log := badServer(t, "echo")
		type result struct {
			n   int
			err error
		}
		var results []result
		require.NoError(t, c.SetCreatedCallback(func(task *gearman.Task, _ any) error {
			n, err := task.SendWorkload([]byte("not a packet"))
			results = append(results, result{n, err})
			return nil
		}))
		task, err := c.AddTask("echo", []byte("intact"), nil, "")
		require.NoError(t, err)
		require.NoError(t, c.RunTasks())
		require.Equal(t, "intact", string(task.Data()))
		jobs := log.take()
		require.Len(t, jobs, 1)
		require.Equal(t, "intact", string(jobs[0].workload), "the worker's workload")
		require.Len(t, results, 1)
		require.Zero(t, results[0].n, "bytes SendWorkload says it sent")
		requireBad(t, "SendWorkload in the created callback", results[0].err, gearman.NotFlushing, nil)
		log.requireOnly(t, c, "echo")
		badRequireQueues(t, srv, map[string]int{"echo": 0})
	})
}
