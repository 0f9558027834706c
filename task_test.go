package gearman_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// chatty is the worker of PHP's experiment d_task_callbacks.php.
func chatty(job *gearman.Job, _ any) ([]byte, error) {
	steps := []func() error{
		func() error { return job.SendStatus(1, 4) },
		func() error { return job.SendData([]byte("chunk-1")) },
		func() error { return job.SendStatus(2, 4) },
		func() error { return job.SendWarning([]byte("warn-1")) },
		func() error { return job.SendData([]byte("chunk-2")) },
		func() error { return job.SendStatus(4, 4) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return append([]byte("final:"), job.Workload()...), nil
}

// event is what a callback saw of its task.
type event struct {
	name           string
	context        any
	known, running bool
	num, den       int
	data           string
}

func (e event) String() string {
	return fmt.Sprintf("%s ctx=%v known=%v running=%v %d/%d data=%q", e.name, e.context, e.known, e.running, e.num, e.den, e.data)
}

// recordAll sets all eight callbacks to append what they see to *log.
func recordAll(t *testing.T, c *gearman.Client, log *[]event) {
	t.Helper()
	rec := func(name string) gearman.TaskCallback {
		return func(task *gearman.Task, ctx any) error {
			*log = append(*log, event{name, ctx, task.IsKnown(), task.IsRunning(), task.TaskNumerator(), task.TaskDenominator(), string(task.Data())})
			require.Equal(t, task.DataSize(), len(task.Data()))
			return nil
		}
	}
	require.NoError(t, c.SetWorkloadCallback(rec("workload")))
	require.NoError(t, c.SetCreatedCallback(rec("created")))
	require.NoError(t, c.SetDataCallback(rec("data")))
	require.NoError(t, c.SetWarningCallback(rec("warning")))
	require.NoError(t, c.SetStatusCallback(rec("status")))
	require.NoError(t, c.SetCompleteCallback(rec("complete")))
	require.NoError(t, c.SetExceptionCallback(rec("exception")))
	require.NoError(t, c.SetFailCallback(rec("fail")))
}

func TestCallbacksFireInPacketOrderWithPHPValues(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"chatty": chatty})
	c := newClient(t, srv)
	var log []event
	recordAll(t, c, &log)
	task, err := c.AddTask("chatty", []byte("w1"), "CTX-1", "")
	require.NoError(t, err)
	require.Empty(t, task.JobHandle(), "PHP: jobHandle() is '' before runTasks")
	require.Regexp(t, `^[0-9a-f-]{36}$`, task.Unique(), "PHP: the UUID is visible before runTasks")
	require.Equal(t, "chatty", task.FunctionName())
	require.NoError(t, c.RunTasks())

	// What PHP's own client printed for the same worker (experiment d).
	want := []event{
		{"created", "CTX-1", true, false, 0, 0, ""},
		{"status", "CTX-1", true, false, 1, 4, ""},
		{"data", "CTX-1", true, true, 1, 4, "chunk-1"},
		{"status", "CTX-1", true, true, 2, 4, ""},
		{"warning", "CTX-1", true, true, 2, 4, "warn-1"},
		{"data", "CTX-1", true, true, 2, 4, "chunk-2"},
		{"status", "CTX-1", true, true, 4, 4, ""},
		{"complete", "CTX-1", false, false, 4, 4, "final:w1"},
	}
	require.Equal(t, fmt.Sprint(want), fmt.Sprint(log))

	// Beyond PHP: the finished task stays readable.
	require.Regexp(t, `^H:`, task.JobHandle())
	require.Equal(t, "final:w1", string(task.Data()))
	require.Equal(t, 4, task.TaskNumerator())
	require.Equal(t, gearman.Success, task.ReturnCode())
	require.Equal(t, gearman.Success, c.ReturnCode())
}

// TestCallbackLookedUpWhenEventArrives: the callback that runs is the one set
// on the client when the event arrives, as in PHP, which looks it up then.
func TestCallbackLookedUpWhenEventArrives(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo, "chatty": chatty})
	c := newClient(t, srv)
	var got []string
	record := func(tag string) gearman.TaskCallback {
		return func(task *gearman.Task, _ any) error {
			got = append(got, tag+":"+string(task.Data()))
			return nil
		}
	}

	// Replaced after AddTask, before RunTasks: the new one fires for both.
	require.NoError(t, c.SetCompleteCallback(record("A")))
	_, err := c.AddTask("echo", []byte("1"), nil, "")
	require.NoError(t, err)
	require.NoError(t, c.SetCompleteCallback(record("B")))
	_, err = c.AddTask("echo", []byte("2"), nil, "")
	require.NoError(t, err)
	require.NoError(t, c.RunTasks())
	require.ElementsMatch(t, []string{"B:1", "B:2"}, got)

	// Replaced by a callback, between two events of the same job.
	got = nil
	require.NoError(t, c.SetDataCallback(func(task *gearman.Task, _ any) error {
		got = append(got, "first:"+string(task.Data()))
		return c.SetDataCallback(record("second"))
	}))
	_, err = c.AddTask("chatty", []byte("x"), nil, "")
	require.NoError(t, err)
	require.NoError(t, c.RunTasks())
	require.Equal(t, []string{"first:chunk-1", "second:chunk-2", "B:final:x"}, got)

	// Cleared after AddTask: nothing is called, and the task still finishes.
	got = nil
	task, err := c.AddTask("echo", []byte("3"), nil, "")
	require.NoError(t, err)
	require.NoError(t, c.ClearCallbacks())
	require.NoError(t, c.RunTasks())
	require.Empty(t, got)
	require.Equal(t, "3", string(task.Data()))

	// Set after AddTask for an event that had none then (PHP would skip it).
	task, err = c.AddTask("echo", []byte("4"), nil, "")
	require.NoError(t, err)
	require.NoError(t, c.SetCreatedCallback(record("created")))
	require.NoError(t, c.SetCompleteCallback(record("C")))
	require.NoError(t, c.RunTasks())
	require.Equal(t, []string{"created:", "C:4"}, got)
	require.Equal(t, "4", string(task.Data()))
}

// TestHashKeyIsLibgearmans: for the key "#", Task.Unique returns at once the
// key libgearman makes up (a hash of the workload), the one a blocking
// DoNormal with "#" sends, and the worker sees it.
func TestHashKeyIsLibgearmans(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{
		"unique": func(job *gearman.Job, _ any) ([]byte, error) { return []byte(job.Unique()), nil },
	})
	c := newClient(t, srv)
	workloads := [][]byte{nil, allBytes(), bytes.Repeat([]byte("0123456789abcdef"), 4096)}
	for n := 1; n <= 9; n++ { // every tail length of the hash's 4-byte blocks
		workloads = append(workloads, []byte("abcdefghi"[:n]))
	}
	for _, workload := range workloads {
		libKey, err := c.DoNormal("unique", workload, "#")
		require.NoError(t, err)
		require.Regexp(t, `^[0-9]{1,10}$`, string(libKey))

		task, err := c.AddTask("unique", workload, nil, "#")
		require.NoError(t, err)
		require.Equal(t, string(libKey), task.Unique(), "before RunTasks, %d bytes", len(workload))
		require.NoError(t, c.RunTasks())
		require.Equal(t, string(libKey), string(task.Data()), "the key the worker saw")
		require.Equal(t, string(libKey), task.Unique())
	}
}

func TestPauseRedeliversTheSamePacket(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"chatty": chatty})
	c := newClient(t, srv)
	var data []string
	paused := false
	require.NoError(t, c.SetDataCallback(func(task *gearman.Task, _ any) error {
		data = append(data, string(task.Data()))
		if !paused {
			paused = true
			return gearman.Pause
		}
		return nil
	}))
	done := false
	require.NoError(t, c.SetCompleteCallback(func(*gearman.Task, any) error { done = true; return nil }))
	_, err := c.AddTask("chatty", []byte("p"), nil, "")
	require.NoError(t, err)

	require.NoError(t, c.RunTasks(), "PHP: runTasks() is true when paused")
	require.Equal(t, gearman.Pause, c.ReturnCode())
	require.Equal(t, []string{"chunk-1"}, data)
	require.False(t, done)

	require.NoError(t, c.RunTasks())
	require.Equal(t, []string{"chunk-1", "chunk-1", "chunk-2"}, data, "the same packet, then the rest")
	require.True(t, done)
	require.Equal(t, gearman.Success, c.ReturnCode())
}

func TestCallbackErrorStopsRunTasks(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"chatty": chatty})
	c := newClient(t, srv)
	stop := errors.New("stop right there")
	calls := 0
	require.NoError(t, c.SetStatusCallback(func(*gearman.Task, any) error {
		calls++
		if calls == 1 {
			return stop
		}
		return nil
	}))
	var completed bool
	require.NoError(t, c.SetCompleteCallback(func(*gearman.Task, any) error { completed = true; return nil }))
	_, err := c.AddTask("chatty", []byte("x"), nil, "")
	require.NoError(t, err)
	err = c.RunTasks()
	require.True(t, err == stop, "RunTasks returns the callback's own error value, got %v", err)
	require.False(t, completed)
	require.NoError(t, c.RunTasks(), "the next RunTasks carries on")
	require.True(t, completed)
}

func TestCallbackPanicIsRecovered(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo})
	c := newClient(t, srv)
	panicked := false
	require.NoError(t, c.SetCreatedCallback(func(*gearman.Task, any) error {
		if !panicked {
			panicked = true
			panic("callback bug")
		}
		return nil
	}))
	_, err := c.AddTask("echo", []byte("x"), nil, "")
	require.NoError(t, err)
	err = c.RunTasks()
	require.ErrorContains(t, err, "panic: callback bug")
	require.NoError(t, c.RunTasks(), "the next RunTasks delivers the packet again and carries on")
	res, err := c.DoNormal("echo", []byte("alive"), "")
	require.NoError(t, err)
	require.Equal(t, "alive", string(res))
}

func TestBackgroundTasksFireOnlyCreated(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	var log []event
	recordAll(t, c, &log)
	adders := []func(string, []byte, any, string) (*gearman.Task, error){
		c.AddTaskBackground, c.AddTaskHighBackground, c.AddTaskLowBackground,
	}
	var tasks []*gearman.Task
	for i, add := range adders {
		task, err := add("bg", []byte("x"), i, "")
		require.NoError(t, err)
		tasks = append(tasks, task)
	}
	require.NoError(t, c.RunTasks())
	require.Len(t, log, 3)
	for _, e := range log {
		require.Equal(t, "created", e.name)
	}
	for _, task := range tasks {
		require.Regexp(t, `^H:`, task.JobHandle())
		require.Equal(t, gearman.Success, task.ReturnCode())
	}

	// AddTaskStatus asks about one of them.
	var st []event
	require.NoError(t, c.SetStatusCallback(func(task *gearman.Task, ctx any) error {
		st = append(st, event{"status", ctx, task.IsKnown(), task.IsRunning(), task.TaskNumerator(), task.TaskDenominator(), ""})
		return nil
	}))
	_, err := c.AddTaskStatus(tasks[0].JobHandle(), "status-ctx")
	require.NoError(t, err)
	_, err = c.AddTaskStatus("H:nowhere:1", "unknown-ctx")
	require.NoError(t, err)
	require.NoError(t, c.RunTasks())
	require.ElementsMatch(t, []string{
		event{"status", "status-ctx", true, false, 0, 0, ""}.String(),
		event{"status", "unknown-ctx", false, false, 0, 0, ""}.String(),
	}, []string{st[0].String(), st[1].String()})
}

func TestTaskOutcomes(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{
		"fail":  func(*gearman.Job, any) ([]byte, error) { return nil, gearman.WorkFail },
		"boom":  func(*gearman.Job, any) ([]byte, error) { return nil, errors.New("exception text") },
		"echo":  echo,
		"other": echo,
	})
	c := newClient(t, srv)
	var log []string
	for name, set := range map[string]func(gearman.TaskCallback) error{
		"fail": c.SetFailCallback, "exception": c.SetExceptionCallback, "complete": c.SetCompleteCallback,
	} {
		name := name
		require.NoError(t, set(func(task *gearman.Task, _ any) error {
			log = append(log, name+":"+task.FunctionName()+":"+string(task.Data()))
			return nil
		}))
	}
	fail, err := c.AddTask("fail", []byte("x"), nil, "")
	require.NoError(t, err)
	boom, err := c.AddTaskHigh("boom", []byte("x"), nil, "")
	require.NoError(t, err)
	ok, err := c.AddTaskLow("echo", []byte("fine"), nil, "my-unique")
	require.NoError(t, err)
	require.NoError(t, c.RunTasks())
	require.ElementsMatch(t, []string{"fail:fail:", "exception:boom:exception text", "complete:echo:fine"}, log)
	require.Equal(t, gearman.WorkFail, fail.ReturnCode())
	require.Equal(t, gearman.WorkException, boom.ReturnCode())
	require.Equal(t, "exception text", string(boom.Data()))
	require.Equal(t, gearman.Success, ok.ReturnCode())
	require.Equal(t, "my-unique", ok.Unique())
	require.Equal(t, "my-unique", ok.Uuid())
	require.Equal(t, "echo", ok.Function())
}

func TestAddTaskFromInsideACallback(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo})
	c := newClient(t, srv)
	var results []string
	var followUps []*gearman.Task
	require.NoError(t, c.SetCompleteCallback(func(task *gearman.Task, ctx any) error {
		results = append(results, string(task.Data()))
		// Task methods and the client work from inside a callback.
		require.Equal(t, "echo", task.FunctionName())
		require.Regexp(t, `^H:`, task.JobHandle())
		require.NotNil(t, c.Context())
		if depth := ctx.(int); depth < 3 {
			next, err := c.AddTask("echo", []byte(fmt.Sprintf("depth-%d", depth+1)), depth+1, "")
			require.NoError(t, err)
			followUps = append(followUps, next)
		}
		return nil
	}))
	require.NoError(t, c.SetContext("client-ctx"))
	_, err := c.AddTask("echo", []byte("depth-0"), 0, "")
	require.NoError(t, err)
	require.NoError(t, c.RunTasks())
	require.Equal(t, []string{"depth-0", "depth-1", "depth-2", "depth-3"}, results, "follow-ups run in the same RunTasks")
	require.Len(t, followUps, 3)
}

func TestRunTasksContextCancel(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	var tasks []*gearman.Task
	for i := 0; i < 300; i++ { // more than one window; nobody serves them
		task, err := c.AddTask("nobody", []byte("x"), nil, "")
		require.NoError(t, err)
		tasks = append(tasks, task)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	start := time.Now()
	err := c.RunTasksContext(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(start), 1200*time.Millisecond)
	for _, task := range tasks {
		require.Equal(t, gearman.ShutdownGraceful, task.ReturnCode(), "abandoned tasks say why")
	}

	// Usable afterwards, and the abandoned jobs are gone from the server.
	require.NoError(t, c.RunTasks())
	startWorker(t, srv, map[string]gearman.WorkerFunc{"nobody": func(job *gearman.Job, _ any) ([]byte, error) {
		return []byte("served"), nil
	}})
	res, err := c.DoNormal("nobody", []byte("y"), "")
	require.NoError(t, err)
	require.Equal(t, "served", string(res))
	require.Eventually(t, func() bool {
		out, err := gearmantest.AdminCommand(srv.Addr(), "status", time.Second)
		return err == nil && !containsQueued(out, "nobody")
	}, 5*time.Second, 20*time.Millisecond)
}

// RunTasks waits in C without slices: only its context or Close ends the
// wait, so each must, at once. Close returns once RunTasks has.
func TestRunTasksEndsAtClose(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c, err := gearman.NewClient()
	require.NoError(t, err)
	require.NoError(t, c.AddServer(srv.Host(), srv.Port()))
	task, err := c.AddTask("nobody-at-close", []byte("x"), nil, "")
	require.NoError(t, err)
	ran := make(chan error, 1)
	go func() { ran <- c.RunTasks() }()
	require.Eventually(t, func() bool {
		out, err := gearmantest.AdminCommand(srv.Addr(), "status", time.Second)
		return err == nil && containsQueued(out, "nobody-at-close")
	}, 10*time.Second, 10*time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-ran:
		require.ErrorIs(t, err, gearman.ErrClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end RunTasks' wait")
	}
	require.NoError(t, <-closed)
	require.NotEqual(t, gearman.Success, task.ReturnCode())
}

func containsQueued(status, function string) bool {
	total, _, _, ok := functionStatus(status, function)
	return ok && total > 0
}

func TestRunTasksWithNothingAdded(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	require.NoError(t, c.RunTasks())
	require.Equal(t, gearman.Success, c.ReturnCode())
}

func TestTaskInvalidArguments(t *testing.T) {
	c, err := gearman.NewClient()
	require.NoError(t, err)
	defer c.Close()
	_, err = c.AddTask("", []byte("x"), nil, "")
	require.ErrorIs(t, err, gearman.InvalidArgument)
	_, err = c.AddTaskBackground("f", []byte("x"), nil, "u\x00")
	require.ErrorIs(t, err, gearman.InvalidArgument)
	_, err = c.AddTaskStatus("", nil)
	require.ErrorIs(t, err, gearman.InvalidArgument)
	require.ErrorIs(t, c.SetCompleteCallback(nil), gearman.InvalidArgument)

	task, err := c.AddTask("f", []byte("x"), nil, "")
	require.NoError(t, err)
	_, err = task.SendWorkload([]byte("x"))
	require.ErrorIs(t, err, gearman.InvalidArgument, "PHP's extension segfaults here")
	_, err = task.SendData([]byte("x"))
	require.ErrorIs(t, err, gearman.InvalidArgument)
	_, err = task.RecvData(10)
	require.ErrorIs(t, err, gearman.InvalidArgument)
	same, err := task.Create()
	require.NoError(t, err)
	require.Same(t, task, same)

	require.NoError(t, c.Close())
	_, err = c.AddTask("f", []byte("x"), nil, "")
	require.ErrorIs(t, err, gearman.ErrClosed)
	require.ErrorIs(t, c.RunTasks(), gearman.ErrClosed)
	require.ErrorIs(t, c.SetDataCallback(func(*gearman.Task, any) error { return nil }), gearman.ErrClosed)
}

func TestNonBlockingRunTasksAndWait(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo})
	c := newClient(t, srv)
	require.NoError(t, c.AddOptions(gearman.ClientNonBlocking))
	var done sync.WaitGroup
	done.Add(1)
	require.NoError(t, c.SetCompleteCallback(func(*gearman.Task, any) error { done.Done(); return nil }))
	task, err := c.AddTask("echo", []byte("nb"), nil, "")
	require.NoError(t, err)
	// PHP's loop: while (runTasks() && returnCode() == IO_WAIT) wait();
	for i := 0; ; i++ {
		require.Less(t, i, 1000)
		require.NoError(t, c.RunTasks())
		if c.ReturnCode() != gearman.IOWait {
			break
		}
		if err := c.Wait(); err != nil {
			require.ErrorIs(t, err, gearman.Timeout)
		}
	}
	done.Wait()
	require.Equal(t, "nb", string(task.Data()))
}

// Wait blocks in poll() until its context ends or Close is called, with no
// slice to end it otherwise (the Client's eventfd, tasks.go watchRun).
func TestWaitEndsAtContextAndClose(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c, err := gearman.NewClient()
	require.NoError(t, err)
	require.NoError(t, c.AddServer(srv.Host(), srv.Port()))
	require.NoError(t, c.AddOptions(gearman.ClientNonBlocking))
	_, err = c.AddTask("nobody-waits", []byte("x"), nil, "")
	require.NoError(t, err)
	// PHP's loop until a Wait finds nothing more coming: gearmand has
	// acknowledged the job, and nobody will run it.
	for i := 0; ; i++ {
		require.Less(t, i, 1000)
		require.NoError(t, c.RunTasks())
		require.Equal(t, gearman.IOWait, c.ReturnCode())
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.WaitContext(ctx)
		cancel()
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			break
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() { waited <- c.WaitContext(ctx) }()
	time.Sleep(20 * time.Millisecond) // most likely inside the wait by now; either way it must end
	cancel()
	require.ErrorIs(t, endedWithin(t, 10*time.Second, "Wait, at its context's end,", waited), context.Canceled)

	go func() { waited <- c.Wait() }()
	time.Sleep(20 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	require.ErrorIs(t, endedWithin(t, 10*time.Second, "Wait, at Close,", waited), gearman.ErrClosed)
	require.NoError(t, <-closed)
}

// RunTasks hands gearmand at most taskWindow (256) tasks, and refills the
// window only once half of it has finished, all at once: gearmand then reads
// the new submissions in bursts, which costs it less CPU per job than a
// refill per finished task (bench/notes.md).
func TestRunTasksRefillsHalfTheWindowAtOnce(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	var completed atomic.Int32
	require.NoError(t, c.SetCompleteCallback(func(*gearman.Task, any) error {
		completed.Add(1)
		return nil
	}))
	const n = 600
	for i := range n {
		_, err := c.AddTask("window", []byte(strconv.Itoa(i)), nil, "")
		require.NoError(t, err)
	}
	ran := make(chan error, 1)
	go func() { ran <- c.RunTasks() }()

	queued := func(want int) {
		t.Helper()
		var total int
		ok := eventually(10*time.Second, func() bool {
			var answered bool
			total, _, _, answered = fltStatus(srv.Addr(), "window")
			return answered && total == want
		})
		require.True(t, ok, "gearmand holds %d jobs of the function, want %d", total, want)
	}
	queued(256) // no worker yet: the first window

	allow := make(chan struct{}, n)
	defer close(allow) // before the worker's clean-up: a job in hand returns
	startWorker(t, srv, map[string]gearman.WorkerFunc{"window": func(job *gearman.Job, _ any) ([]byte, error) {
		<-allow
		return job.Workload(), nil
	}})
	let := func(jobs, seen int) {
		t.Helper()
		for range jobs {
			allow <- struct{}{}
		}
		require.True(t, eventually(10*time.Second, func() bool { return int(completed.Load()) == seen }),
			"%d tasks completed, want %d", completed.Load(), seen)
	}
	let(100, 100)
	queued(156) // 156 in flight, more than half the window: no refill yet
	let(28, 128)
	queued(256) // down to half: refilled at once
	let(n-128, n)
	select {
	case err := <-ran:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("RunTasks did not return after every task completed")
	}
}
