package gearman_test

// Fault tests: real gearmand processes are killed, stopped and restarted
// underneath clients and workers. Every blocking call runs under a watchdog
// (fltCall), so a hang is a failure after a few seconds, never a stuck suite;
// every Close made in a cleanup is bounded too, and every job function that
// blocks also wakes when the test ends (t.Context) or its gate is closed.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// ---- helpers (prefixed flt so they cannot clash with the rest of the suite) ----

type fltResult[T any] struct {
	v   T
	err error
	d   time.Duration
}

// fltCall runs f under a watchdog: if f has not returned after limit, the test
// fails at once ("still blocked"); the goroutine is left to the cleanups
// (Close), which are bounded themselves.
func fltCall[T any](t *testing.T, limit time.Duration, what string, f func() (T, error)) (T, time.Duration, error) {
	t.Helper()
	ch := make(chan fltResult[T], 1)
	start := time.Now()
	go func() {
		v, err := f()
		ch <- fltResult[T]{v, err, time.Since(start)}
	}()
	select {
	case r := <-ch:
		return r.v, r.d, r.err
	case <-time.After(limit):
		t.Fatalf("%s: still blocked after %v (hang)", what, limit)
	}
	panic("unreachable")
}

// fltCallErr is fltCall for functions returning only an error.
func fltCallErr(t *testing.T, limit time.Duration, what string, f func() error) (time.Duration, error) {
	t.Helper()
	_, d, err := fltCall(t, limit, what, func() (struct{}, error) { return struct{}{}, f() })
	return d, err
}

// fltBoundedCleanup registers f as a cleanup that may take at most limit.
func fltBoundedCleanup(t *testing.T, what string, limit time.Duration, f func()) {
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() { defer close(done); f() }()
		select {
		case <-done:
		case <-time.After(limit):
			t.Errorf("cleanup: %s still blocked after %v", what, limit)
		}
	})
}

// fltGate returns a channel that release closes; the test's cleanup releases
// it too, so a job function waiting on it never outlives the test.
func fltGate(t *testing.T) (<-chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	return ch, release
}

// fltClient returns a client on servers ("host:port[,host:port]"), closed
// (bounded) when the test ends.
func fltClient(t *testing.T, servers string) *gearman.Client {
	t.Helper()
	c, err := gearman.NewClient()
	require.NoError(t, err)
	fltBoundedCleanup(t, "Client.Close", 5*time.Second, func() { c.Close() })
	require.NoError(t, c.AddServers(servers))
	return c
}

// fltWorker returns a worker on servers, closed (bounded) when the test ends.
func fltWorker(t *testing.T, servers string) *gearman.Worker {
	t.Helper()
	w, err := gearman.NewWorker()
	require.NoError(t, err)
	fltBoundedCleanup(t, "Worker.Close", 5*time.Second, func() { w.Close() })
	require.NoError(t, w.AddServers(servers))
	return w
}

// fltRunner is a Worker.Run loop on its own goroutine.
type fltRunner struct {
	w       *gearman.Worker
	cancel  context.CancelFunc
	stopped chan struct{}
	err     error // valid once stopped is closed
}

func fltRun(t *testing.T, w *gearman.Worker) *fltRunner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &fltRunner{w: w, cancel: cancel, stopped: make(chan struct{})}
	go func() {
		defer close(r.stopped)
		r.err = w.Run(ctx)
	}()
	// Registered after fltWorker's Close, so it runs before it.
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.stopped:
		case <-time.After(5 * time.Second):
			t.Errorf("cleanup: worker Run did not return within 5s of its context's end")
		}
	})
	return r
}

// stop ends the Run loop and closes the worker, bounded.
func (r *fltRunner) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case <-r.stopped:
	case <-time.After(5 * time.Second):
		t.Fatalf("worker Run did not return within 5s of cancel")
	}
	fltCallErr(t, 5*time.Second, "Worker.Close", r.w.Close)
}

// requireRunning fails if the Run loop has returned.
func (r *fltRunner) requireRunning(t *testing.T, when string) {
	t.Helper()
	select {
	case <-r.stopped:
		t.Fatalf("%s: worker Run returned (%v); it should keep going", when, r.err)
	default:
	}
}

// fltStatus reads the admin "status" line of function on addr.
func fltStatus(addr, function string) (total, running, workers int, ok bool) {
	out, err := gearmantest.AdminCommand(addr, "status", time.Second)
	if err != nil {
		return 0, 0, 0, false
	}
	total, running, workers, _ = functionStatus(out, function)
	return total, running, workers, true
}

// fltWaitWorkers waits until addr lists at least one worker for every function.
func fltWaitWorkers(t *testing.T, addr string, limit time.Duration, functions ...string) {
	t.Helper()
	ok := eventually(limit, func() bool {
		for _, f := range functions {
			if _, _, n, _ := fltStatus(addr, f); n < 1 {
				return false
			}
		}
		return true
	})
	if !ok {
		out, _ := gearmantest.AdminCommand(addr, "status", time.Second)
		t.Fatalf("%s: no worker registered for %v within %v; status:\n%s", addr, functions, limit, out)
	}
}

// fltCPU returns the CPU time (user + system) this process used so far.
func fltCPU(t testing.TB) time.Duration {
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fltIsConnErr(err error) bool {
	return errors.Is(err, gearman.CouldNotConnect) || errors.Is(err, gearman.LostConnection)
}

// ---- 1. client across a gearmand restart ----

// A DoNormal whose job a worker holds fails promptly when gearmand is killed;
// calls made while it is down fail promptly with CouldNotConnect; the first
// call after the restart succeeds (libgearman 1.1.20 loses that first job).
func TestFaultClientAcrossServerRestart(t *testing.T) {
	srv := gearmantest.NewServer(t)
	gate, release := fltGate(t)
	held := make(chan string, 1)
	hw := fltWorker(t, srv.Addr())
	require.NoError(t, hw.AddFunction("flt-hold1", func(job *gearman.Job, _ any) ([]byte, error) {
		select {
		case held <- job.Unique():
		default:
		}
		select {
		case <-gate:
		case <-t.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return job.Workload(), nil
	}, nil, 0))
	fltRun(t, hw)
	fltWaitWorkers(t, srv.Addr(), 5*time.Second, "flt-hold1")

	c := fltClient(t, srv.Addr())
	inflight := make(chan fltResult[[]byte], 1)
	go func() {
		res, err := c.DoNormal("flt-hold1", []byte("held"), "flt-held-1")
		inflight <- fltResult[[]byte]{v: res, err: err}
	}()
	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatal("the worker never received the held job")
	}

	srv.Kill()
	killed := time.Now()
	select {
	case r := <-inflight:
		require.Error(t, r.err, "DoNormal in flight must fail when gearmand dies, got result %q", r.v)
		t.Logf("in-flight DoNormal failed after %v: %v", time.Since(killed), r.err)
	case <-time.After(3 * time.Second):
		t.Fatalf("DoNormal in flight still blocked 3s after gearmand was killed (hang)")
	}
	release()

	// Down: every call fails promptly, with CouldNotConnect. DoNormal comes
	// last: a failed submission is what makes libgearman 1.1.20 lose the
	// first job after the reconnect (§9).
	d, err := fltCallErr(t, 3*time.Second, "Ping while down", func() error { return c.Ping([]byte("x")) })
	require.ErrorIs(t, err, gearman.CouldNotConnect, "Ping while down (%v)", d)
	require.Less(t, d, time.Second, "Ping while down must fail promptly")
	_, d, err = fltCall(t, 3*time.Second, "JobStatus while down", func() (gearman.JobStatus, error) {
		return c.JobStatus("H:flt:1")
	})
	require.ErrorIs(t, err, gearman.CouldNotConnect, "JobStatus while down (%v)", d)
	require.Less(t, d, time.Second, "JobStatus while down must fail promptly")
	_, d, err = fltCall(t, 3*time.Second, "DoBackground while down", func() (string, error) {
		return c.DoBackground("flt-echo1", []byte("x"), "")
	})
	require.ErrorIs(t, err, gearman.CouldNotConnect, "DoBackground while down (%v)", d)
	require.Less(t, d, time.Second, "DoBackground while down must fail promptly")
	_, d, err = fltCall(t, 3*time.Second, "DoNormal while down", func() ([]byte, error) {
		return c.DoNormal("flt-echo1", []byte("x"), "")
	})
	require.ErrorIs(t, err, gearman.CouldNotConnect, "DoNormal while down (%v)", d)
	require.Less(t, d, time.Second, "DoNormal while down must fail promptly")

	srv.Restart()
	// A fresh worker, so that only the client's recovery is under test.
	ew := fltWorker(t, srv.Addr())
	require.NoError(t, ew.AddFunction("flt-echo1", echo, nil, 0))
	fltRun(t, ew)
	fltWaitWorkers(t, srv.Addr(), 5*time.Second, "flt-echo1")

	res, d, err := fltCall(t, 5*time.Second, "first DoNormal after restart", func() ([]byte, error) {
		return c.DoNormal("flt-echo1", []byte("after restart"), "")
	})
	require.NoError(t, err)
	require.Equal(t, "after restart", string(res))
	t.Logf("first DoNormal after restart took %v", d)
	res, _, err = fltCall(t, 5*time.Second, "second DoNormal after restart", func() ([]byte, error) {
		return c.DoNormal("flt-echo1", []byte("again"), "")
	})
	require.NoError(t, err)
	require.Equal(t, "again", string(res))
}

// ---- 2. tasks in flight when the connection drops ----

// RunTasks returns promptly with an error naming the tasks it lost (unique
// key or job handle), and none of them reports Success.
func TestFaultTasksInFlightWhenConnectionDrops(t *testing.T) {
	srv := gearmantest.NewServer(t)
	gate, _ := fltGate(t)
	held := make(chan struct{}, 1)
	w := fltWorker(t, srv.Addr())
	require.NoError(t, w.AddFunction("flt-hold2", func(job *gearman.Job, _ any) ([]byte, error) {
		select {
		case held <- struct{}{}:
		default:
		}
		select {
		case <-gate:
		case <-t.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return nil, nil
	}, nil, 0))
	fltRun(t, w)
	fltWaitWorkers(t, srv.Addr(), 5*time.Second, "flt-hold2")

	c := fltClient(t, srv.Addr())
	var tasks []*gearman.Task
	for i := 0; i < 5; i++ {
		task, err := c.AddTask("flt-hold2", []byte("x"), nil, fmt.Sprintf("flt-lost-%d", i))
		require.NoError(t, err)
		tasks = append(tasks, task)
	}
	done := make(chan error, 1)
	go func() { done <- c.RunTasks() }()
	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatal("the worker never received a task")
	}
	if !eventually(3*time.Second, func() bool { n, _, _, _ := fltStatus(srv.Addr(), "flt-hold2"); return n == 5 }) {
		t.Fatal("gearmand never held all 5 tasks")
	}

	srv.Kill()
	killed := time.Now()
	var err error
	select {
	case err = <-done:
	case <-time.After(3 * time.Second):
		t.Fatalf("RunTasks still blocked 3s after gearmand was killed (hang)")
	}
	t.Logf("RunTasks returned after %v: %v", time.Since(killed), err)
	require.Error(t, err, "RunTasks must report the tasks it lost")
	for _, task := range tasks {
		named := strings.Contains(err.Error(), task.Unique()) ||
			(task.JobHandle() != "" && strings.Contains(err.Error(), task.JobHandle()))
		require.True(t, named, "the error %q names neither unique %q nor handle %q of a lost task", err, task.Unique(), task.JobHandle())
		require.NotEqual(t, gearman.Success, task.ReturnCode(), "lost task %s", task.Unique())
	}
}

// ---- 3. workers across a restart ----

// Run keeps going across a restart, re-registers its functions and its
// identifier, and serves a job within 2 s of the server's return.
func TestFaultWorkerRunAcrossRestart(t *testing.T) {
	const id = "flt-run-worker-id"
	srv := gearmantest.NewServer(t)
	w := fltWorker(t, srv.Addr())
	require.NoError(t, w.SetId(id))
	require.NoError(t, w.AddFunction("flt-echo3", echo, nil, 0))
	r := fltRun(t, w)
	fltWaitWorkers(t, srv.Addr(), 5*time.Second, "flt-echo3")
	workersLine := func() string {
		out, _ := gearmantest.AdminCommand(srv.Addr(), "workers", time.Second)
		for _, line := range splitLines(out) {
			if strings.Contains(line, "flt-echo3") {
				return line
			}
		}
		return ""
	}
	before := workersLine()
	require.Contains(t, before, " "+id+" ", "before the restart the id shows")

	c := fltClient(t, srv.Addr())
	res, _, err := fltCall(t, 5*time.Second, "DoNormal before restart", func() ([]byte, error) {
		return c.DoNormal("flt-echo3", []byte("one"), "")
	})
	require.NoError(t, err)
	require.Equal(t, "one", string(res))

	srv.Kill()
	time.Sleep(1500 * time.Millisecond) // long enough for Run's back-off to grow
	r.requireRunning(t, "while gearmand is down")
	srv.Restart()
	back := time.Now()

	// A fresh client: only the worker's recovery is under test.
	c2 := fltClient(t, srv.Addr())
	ctx, cancel := context.WithDeadline(context.Background(), back.Add(2*time.Second))
	defer cancel()
	res, _, err = fltCall(t, 4*time.Second, "DoNormal after restart", func() ([]byte, error) {
		return c2.DoNormalContext(ctx, "flt-echo3", []byte("two"), "")
	})
	require.NoError(t, err, "the worker must serve a job within 2s of gearmand's return")
	require.Equal(t, "two", string(res))
	t.Logf("job served %v after the restart", time.Since(back))
	r.requireRunning(t, "after the restart")

	after := workersLine()
	require.NotEmpty(t, after, "the worker re-registered flt-echo3")
	require.Contains(t, after, " "+id+" ", "the worker's SetId identifier after the restart (before: %q)", before)
}

// A plain Work loop gets CouldNotConnect or LostConnection while gearmand is
// down and works again once it is back.
func TestFaultWorkLoopAcrossRestart(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := fltWorker(t, srv.Addr())
	require.NoError(t, w.AddFunction("flt-echo3b", echo, nil, 0))
	results := make(chan error, 1024)
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for {
			err := w.Work()
			if errors.Is(err, gearman.ErrClosed) {
				return
			}
			select {
			case results <- err:
			default:
			}
			if err != nil { // as a PHP loop would: report, pause, carry on
				select {
				case <-time.After(100 * time.Millisecond):
				case <-t.Context().Done():
					return
				}
			}
		}
	}()
	t.Cleanup(func() {
		closed := make(chan struct{})
		go func() { w.Close(); close(closed) }()
		timeout := time.After(5 * time.Second)
		for _, ch := range []chan struct{}{loopDone, closed} {
			select {
			case <-ch:
			case <-timeout:
				t.Errorf("cleanup: Work loop or Close still running 5s after Close")
				return
			}
		}
	})
	fltWaitWorkers(t, srv.Addr(), 5*time.Second, "flt-echo3b")

	c := fltClient(t, srv.Addr())
	res, _, err := fltCall(t, 5*time.Second, "DoNormal before restart", func() ([]byte, error) {
		return c.DoNormal("flt-echo3b", []byte("one"), "")
	})
	require.NoError(t, err)
	require.Equal(t, "one", string(res))
	select {
	case err := <-results:
		require.NoError(t, err, "Work after serving a job")
	case <-time.After(3 * time.Second):
		t.Fatal("Work did not return after serving a job")
	}

	srv.Kill()
	var first error
	select {
	case first = <-results:
	case <-time.After(3 * time.Second):
		t.Fatal("Work still blocked 3s after gearmand was killed (hang)")
	}
	require.Error(t, first, "Work while gearmand is down")
	require.True(t, fltIsConnErr(first), "Work while down: want CouldNotConnect or LostConnection, got %v", first)
	// Later attempts while down say so clearly too.
	deadline := time.After(time.Second)
	var later []string
collect:
	for {
		select {
		case err := <-results:
			later = append(later, fmt.Sprint(err))
			require.True(t, fltIsConnErr(err), "Work while down: want CouldNotConnect or LostConnection, got %v", err)
		case <-deadline:
			break collect
		}
	}
	t.Logf("Work while down: first %v; then %d more errors", first, len(later))

	srv.Restart()
	for len(results) > 0 {
		<-results
	}
	c2 := fltClient(t, srv.Addr())
	res, d, err := fltCall(t, 5*time.Second, "DoNormal after restart", func() ([]byte, error) {
		return c2.DoNormal("flt-echo3b", []byte("two"), "")
	})
	require.NoError(t, err)
	require.Equal(t, "two", string(res))
	t.Logf("Work loop served a job %v after the restart", d)
}

// ---- 4. two job servers ----

func fltTwoServerCases(t *testing.T, run func(t *testing.T, downFirst bool)) {
	for _, tc := range []struct {
		name      string
		downFirst bool
	}{{"FirstListedDown", true}, {"LastListedDown", false}} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.downFirst) })
	}
}

// The client: with either server down, DoNormal, DoBackground and RunTasks
// complete on the other; a server that comes back is used again.
func TestFaultTwoServersClientFailover(t *testing.T) {
	fltTwoServerCases(t, func(t *testing.T, downFirst bool) {
		s0, s1 := gearmantest.NewServer(t), gearmantest.NewServer(t)
		list := s0.Addr() + "," + s1.Addr()
		down, up := s1, s0
		if downFirst {
			down, up = s0, s1
		}
		bgSeen := make(chan string, 256)
		bg := func(job *gearman.Job, _ any) ([]byte, error) {
			select {
			case bgSeen <- job.Unique():
			default:
			}
			return nil, nil
		}
		// One dedicated worker per server: only the client's failover is under test.
		for _, s := range []*gearmantest.Server{s0, s1} {
			w := fltWorker(t, s.Addr())
			require.NoError(t, w.AddFunction("flt-echo4", echo, nil, 0))
			require.NoError(t, w.AddFunction("flt-bg4", bg, nil, 0))
			fltRun(t, w)
			fltWaitWorkers(t, s.Addr(), 5*time.Second, "flt-echo4", "flt-bg4")
		}

		c := fltClient(t, list)
		res, _, err := fltCall(t, 5*time.Second, "DoNormal with both up", func() ([]byte, error) {
			return c.DoNormal("flt-echo4", []byte("both"), "")
		})
		require.NoError(t, err)
		require.Equal(t, "both", string(res))

		down.Stop()
		// A client made while one server is down.
		fresh := fltClient(t, list)
		fltClientOps(t, fresh, "down-fresh", bgSeen)
		// The client that was connected to both before one went down.
		fltClientOps(t, c, "down-stale", bgSeen)

		down.Restart()
		fltWaitWorkers(t, down.Addr(), 5*time.Second, "flt-echo4", "flt-bg4")
		up.Stop()
		fltClientOps(t, c, "back", bgSeen)
		fltClientOps(t, fresh, "back-fresh", bgSeen)
	})
}

// fltClientOps runs DoNormal, DoBackground (and waits for a worker to get the
// job) and RunTasks with 10 tasks; each must complete. A wrong answer is
// reported and the next operation still tried; a hang ends the test.
func fltClientOps(t *testing.T, c *gearman.Client, phase string, bgSeen chan string) {
	t.Helper()
	res, d, err := fltCall(t, 5*time.Second, phase+": DoNormal", func() ([]byte, error) {
		return c.DoNormal("flt-echo4", []byte(phase+"-normal"), "")
	})
	if err != nil || string(res) != phase+"-normal" {
		t.Errorf("%s: DoNormal = %q, %v (after %v)", phase, res, err, d)
	}

	unique := fmt.Sprintf("flt-bg-%s-%d", phase, time.Now().UnixNano())
	h, d, err := fltCall(t, 5*time.Second, phase+": DoBackground", func() (string, error) {
		return c.DoBackground("flt-bg4", []byte("x"), unique)
	})
	if err != nil || h == "" {
		t.Errorf("%s: DoBackground = %q, %v (after %v)", phase, h, err, d)
	} else {
		deadline := time.After(5 * time.Second)
	wait:
		for got := ""; got != unique; {
			select {
			case got = <-bgSeen:
			case <-deadline:
				t.Errorf("%s: background job %s (%s) never reached a worker", phase, h, unique)
				break wait
			}
		}
	}

	var tasks []*gearman.Task
	for i := 0; i < 10; i++ {
		task, err := c.AddTask("flt-echo4", []byte(fmt.Sprintf("%s-task-%d", phase, i)), nil, "")
		require.NoError(t, err)
		tasks = append(tasks, task)
	}
	d, err = fltCallErr(t, 5*time.Second, phase+": RunTasks (10 tasks)", c.RunTasks)
	var bad []string
	for i, task := range tasks {
		if task.ReturnCode() != gearman.Success || string(task.Data()) != fmt.Sprintf("%s-task-%d", phase, i) {
			bad = append(bad, fmt.Sprintf("#%d %s %q", i, task.ReturnCode(), task.Data()))
		}
	}
	if err != nil || len(bad) > 0 {
		t.Errorf("%s: RunTasks (10 tasks) = %v after %v; %d tasks not completed: %v", phase, err, d, len(bad), bad)
	}
}

// A worker added to both servers serves jobs from both, from the one left
// when the other is down, and from one that came back.
func TestFaultTwoServersWorkerFailover(t *testing.T) {
	fltTwoServerCases(t, func(t *testing.T, downFirst bool) {
		s0, s1 := gearmantest.NewServer(t), gearmantest.NewServer(t)
		list := s0.Addr() + "," + s1.Addr()
		down, up := s1, s0
		if downFirst {
			down, up = s0, s1
		}
		w := fltWorker(t, list)
		require.NoError(t, w.AddFunction("flt-both4", func(job *gearman.Job, _ any) ([]byte, error) {
			return append([]byte("both:"), job.Workload()...), nil
		}, nil, 0))
		r := fltRun(t, w)
		fltWaitWorkers(t, s0.Addr(), 5*time.Second, "flt-both4")
		fltWaitWorkers(t, s1.Addr(), 5*time.Second, "flt-both4")

		// Clients on a single server each: only the worker is under test.
		job := func(s *gearmantest.Server, what string) {
			t.Helper()
			c := fltClient(t, s.Addr())
			res, d, err := fltCall(t, 5*time.Second, what, func() ([]byte, error) {
				return c.DoNormal("flt-both4", []byte(what), "")
			})
			require.NoError(t, err, "%s (%v)", what, d)
			require.Equal(t, "both:"+what, string(res))
		}
		job(s0, "first listed, both up")
		job(s1, "last listed, both up")

		down.Stop()
		job(up, "the server left up")
		r.requireRunning(t, "one server down")

		down.Restart()
		up.Stop()
		job(down, "the server that came back")
		r.requireRunning(t, "after the failover")
	})
}

// ---- 5. persistent queue across SIGKILL ----

// fltPersistStall is how long TestFaultPersistentQueueSurvivesKill waits
// without progress (a job acknowledged, or received) before it gives up.
const fltPersistStall = 10 * time.Second

// fltUntilStalled waits until done is closed (true) or count, read every
// 200 ms, has not grown for stall (false): a deadline extended by progress.
func fltUntilStalled(done <-chan struct{}, count func() int, stall time.Duration) bool {
	seen, last := count(), time.Now()
	for {
		select {
		case <-done:
			return true
		case <-time.After(200 * time.Millisecond):
			if n := count(); n > seen {
				seen, last = n, time.Now()
			} else if time.Since(last) > stall {
				return false
			}
		}
	}
}

func TestFaultPersistentQueueSurvivesKill(t *testing.T) {
	const n = 1000
	db := filepath.Join(t.TempDir(), "queue.sqlite")
	srv := gearmantest.NewServer(t, gearmantest.WithSQLiteQueue(db))
	c := fltClient(t, srv.Addr())
	// gearmand writes each background job to SQLite before it answers
	// JOB_CREATED, a disk sync apiece: on a slow disk (overlay2 in a container)
	// 1 000 take longer than any fixed wait. So the submit phase, like the
	// drain phase below, waits while jobs keep being acknowledged (the created
	// callback counts them) and gives up after fltPersistStall without one.
	var acked atomic.Int64
	require.NoError(t, c.SetCreatedCallback(func(*gearman.Task, any) error {
		acked.Add(1)
		return nil
	}))
	want := make(map[string]bool, n)
	var tasks []*gearman.Task
	for i := 0; i < n; i++ {
		u := fmt.Sprintf("flt-persist-%04d", i)
		want[u] = true
		task, err := c.AddTaskBackground("flt-persist", []byte(u), nil, u)
		require.NoError(t, err)
		tasks = append(tasks, task)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	ran := make(chan struct{})
	var err error
	go func() {
		defer close(ran)
		err = c.RunTasksContext(ctx)
	}()
	if !fltUntilStalled(ran, func() int { return int(acked.Load()) }, fltPersistStall) {
		cancel() // RunTasksContext returns when its context ends
		select {
		case <-ran:
		case <-time.After(5 * time.Second):
		}
		t.Fatalf("RunTasks (%d background tasks): stalled, no job acknowledged for %v; %d acknowledged in %v",
			n, fltPersistStall, acked.Load(), time.Since(start))
	}
	d := time.Since(start)
	require.NoError(t, err)
	require.EqualValues(t, n, acked.Load(), "JOB_CREATED acknowledgements")
	for _, task := range tasks {
		require.Equal(t, gearman.Success, task.ReturnCode(), task.Unique())
		require.NotEmpty(t, task.JobHandle(), task.Unique())
	}
	queued, _, _, _ := fltStatus(srv.Addr(), "flt-persist")
	t.Logf("submitted %d background jobs in %v; gearmand reports %d queued", n, d, queued)

	srv.Kill()
	srv.Restart()

	var mu sync.Mutex
	got := make(map[string]bool, n)
	all := make(chan struct{})
	w := fltWorker(t, srv.Addr())
	require.NoError(t, w.AddFunction("flt-persist", func(job *gearman.Job, _ any) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		got[job.Unique()] = true
		if len(got) == n && want[job.Unique()] {
			select {
			case <-all:
			default:
				close(all)
			}
		}
		return nil, nil
	}, nil, 0))
	fltRun(t, w)
	// gearmand deletes each job from SQLite as it hands it out, a disk sync
	// apiece: on a slow disk 1 000 take longer than any fixed wait. The test
	// waits while jobs keep arriving, and gives up after fltPersistStall
	// without one (the assertion below then names the missing jobs).
	fltUntilStalled(all, func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}, fltPersistStall)
	mu.Lock()
	defer mu.Unlock()
	var missing []string
	for u := range want {
		if !got[u] {
			missing = append(missing, u)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		show := missing
		if len(show) > 10 {
			show = show[:10]
		}
		t.Fatalf("after SIGKILL and restart the worker received %d of %d jobs; %d missing, e.g. %v", n-len(missing), n, len(missing), show)
	}
}

// ---- 6. job timeouts ----

// fltStallingWorker registers flt-timeout6 with a 1000 ms timeout: its first
// job sleeps 3 s (signalling stalled and then stallDone), later jobs answer
// "tag:workload" at once.
func fltStallingWorker(t *testing.T, srv *gearmantest.Server, tag string, stalled, stallDone chan struct{}) *fltRunner {
	w := fltWorker(t, srv.Addr())
	var mu sync.Mutex
	first := true
	require.NoError(t, w.AddFunction("flt-timeout6", func(job *gearman.Job, _ any) ([]byte, error) {
		mu.Lock()
		stall := first && stalled != nil
		first = false
		mu.Unlock()
		if stall {
			close(stalled)
			select {
			case <-time.After(3 * time.Second):
			case <-t.Context().Done():
			}
			defer close(stallDone)
		}
		return append([]byte(tag+":"), job.Workload()...), nil
	}, nil, 1000))
	return fltRun(t, w)
}

// fltAfterStall checks that the stalled worker A carries on. job2 is queued
// while A is still stalled, the usual case on a busy server: A's late result
// and its next GRAB_JOB are then answered back to back, with ERROR (the job is
// gone: libgearman reports UNEXPECTED_PACKET) and JOB_ASSIGN for job2. job3 is
// submitted once A is idle again. A must serve both.
func fltAfterStall(t *testing.T, srv *gearmantest.Server, c *gearman.Client, a *fltRunner, stallDone chan struct{}) {
	t.Helper()
	out := make(chan fltResult[[]byte], 1)
	start := time.Now()
	go func() {
		res, err := c.DoNormal("flt-timeout6", []byte("job2"), "")
		out <- fltResult[[]byte]{v: res, err: err, d: time.Since(start)}
	}()
	if !eventually(2*time.Second, func() bool {
		total, running, _, _ := fltStatus(srv.Addr(), "flt-timeout6")
		return total == 1 && running == 0
	}) {
		t.Fatal("job2 never showed as queued")
	}
	select {
	case <-stallDone:
		t.Fatal("test too slow: worker A's stall ended before job2 was queued")
	default:
	}
	select {
	case r := <-out:
		if r.err != nil || string(r.v) != "A:job2" {
			t.Errorf("job2, queued while worker A was stalled: got %q, %v after %v (A's last error: %s)", r.v, r.err, r.d, a.w.LastError())
		} else {
			t.Logf("job2, queued while A was stalled, served by A %v after submission", r.d)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("job2 still blocked 6s after submission (hang)")
	}
	select {
	case <-stallDone:
	case <-time.After(5 * time.Second):
		t.Fatal("worker A's stalled job never ended")
	}
	time.Sleep(300 * time.Millisecond) // A has sent its late result and is idle
	res, d, err := fltCall(t, 5*time.Second, "job3, submitted once A is idle", func() ([]byte, error) {
		return c.DoNormal("flt-timeout6", []byte("job3"), "")
	})
	require.NoError(t, err, "job3, submitted once A is idle (after %v)", d)
	require.Equal(t, "A:job3", string(res))
	t.Logf("job3 served by A in %v; A's last error: %s", d, a.w.LastError())
	a.requireRunning(t, "after the timed-out job")
}

// A job that outlives its 1000 ms timeout on worker A is re-queued by gearmand
// and completed by worker B; A's Run carries on and serves the next jobs.
func TestFaultJobTimeoutRequeuesToSecondWorker(t *testing.T) {
	srv := gearmantest.NewServer(t)
	stalled, stallDone := make(chan struct{}), make(chan struct{})
	a := fltStallingWorker(t, srv, "A", stalled, stallDone)
	fltWaitWorkers(t, srv.Addr(), 5*time.Second, "flt-timeout6")

	c := fltClient(t, srv.Addr())
	out := make(chan fltResult[[]byte], 1)
	start := time.Now()
	go func() {
		res, err := c.DoNormal("flt-timeout6", []byte("job1"), "")
		out <- fltResult[[]byte]{v: res, err: err, d: time.Since(start)}
	}()
	select {
	case <-stalled:
	case <-time.After(5 * time.Second):
		t.Fatal("worker A never got the job")
	}
	b := fltStallingWorker(t, srv, "B", nil, nil)

	select {
	case r := <-out:
		require.NoError(t, r.err, "the timed-out job (after %v)", r.d)
		require.Equal(t, "B:job1", string(r.v), "worker B completes the re-queued job")
		t.Logf("re-queued job completed by B after %v", r.d)
	case <-time.After(6 * time.Second):
		t.Fatal("DoNormal still blocked 6s after submitting a job with a 1000 ms timeout (hang)")
	}

	b.stop(t) // from now on only A can serve
	fltAfterStall(t, srv, c, a, stallDone)
}

// With --job-retries=1 the timed-out job is dropped with WORK_FAIL: the client
// gets an error matching WorkFail, and the stalled worker carries on.
func TestFaultJobTimeoutWithRetriesFailsClient(t *testing.T) {
	srv := gearmantest.NewServer(t, gearmantest.WithJobRetries(1))
	stalled, stallDone := make(chan struct{}), make(chan struct{})
	a := fltStallingWorker(t, srv, "A", stalled, stallDone)
	fltWaitWorkers(t, srv.Addr(), 5*time.Second, "flt-timeout6")

	c := fltClient(t, srv.Addr())
	res, d, err := fltCall(t, 6*time.Second, "DoNormal of a job that times out", func() ([]byte, error) {
		return c.DoNormal("flt-timeout6", []byte("job1"), "")
	})
	require.ErrorIs(t, err, gearman.WorkFail, "result %q after %v", res, d)
	t.Logf("client got %v after %v", err, d)
	select {
	case <-stalled:
	default:
		t.Fatal("worker A never got job1")
	}

	fltAfterStall(t, srv, c, a, stallDone)
}

// ---- 7. JobStatus against an unreachable server, then no spinning ----

func TestFaultJobStatusUnreachableNoSpin(t *testing.T) {
	const maxCPU = 300 * time.Millisecond
	srv := gearmantest.NewServer(t)
	c := fltClient(t, srv.Addr())
	st, _, err := fltCall(t, 3*time.Second, "JobStatus with gearmand up", func() (gearman.JobStatus, error) {
		return c.JobStatus("H:flt:1")
	})
	require.NoError(t, err)
	require.False(t, st.Known)

	srv.Kill()
	// A client that never reached the server, next to one that lost it.
	never := fltClient(t, srv.Addr())
	_, d, err := fltCall(t, 2*time.Second, "JobStatus from a client that never connected", func() (gearman.JobStatus, error) {
		return never.JobStatus("H:flt:1")
	})
	require.Error(t, err)
	require.Less(t, d, time.Second, "JobStatus must fail promptly: %v", err)
	for i := 1; i <= 2; i++ {
		_, d, err := fltCall(t, 2*time.Second, fmt.Sprintf("JobStatus #%d with gearmand dead", i), func() (gearman.JobStatus, error) {
			return c.JobStatus("H:flt:1")
		})
		require.Error(t, err, "JobStatus #%d with gearmand dead", i)
		require.Less(t, d, time.Second, "JobStatus #%d must fail promptly: %v", i, err)
		t.Logf("JobStatus #%d with gearmand dead: %v after %v", i, err, d)
	}

	measure := func(what string, f func() error) (time.Duration, time.Duration, error) {
		t.Helper()
		cpu0 := fltCPU(t)
		d, err := fltCallErr(t, 4*time.Second, what, f)
		cpu := fltCPU(t) - cpu0
		t.Logf("%s: %v in %v wall, %v CPU", what, err, d, cpu)
		return d, cpu, err
	}
	// Still dead: a call with a 1 s deadline fails; the CPU it costs stays low.
	_, cpu, err := measure("DoNormalContext(1s) with gearmand dead", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := c.DoNormalContext(ctx, "flt-nobody7", []byte("x"), "")
		return err
	})
	require.Error(t, err)
	require.Less(t, cpu, maxCPU, "CPU used by one call against a dead server")

	// Back: a job nobody serves waits its full second, idly.
	srv.Restart()
	d, cpu, err = measure("DoNormalContext(1s) after restart, no worker", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := c.DoNormalContext(ctx, "flt-nobody7", []byte("x"), "")
		return err
	})
	require.ErrorIs(t, err, context.DeadlineExceeded, "the call should wait for its deadline (%v)", d)
	require.Less(t, cpu, maxCPU, "CPU used while waiting 1s for a job (spinning?)")
	d, cpu, err = measure("DoNormalContext(1s) after restart, no worker, client that never connected", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := never.DoNormalContext(ctx, "flt-nobody7", []byte("x"), "")
		return err
	})
	require.ErrorIs(t, err, context.DeadlineExceeded, "the call should wait for its deadline (%v)", d)
	require.Less(t, cpu, maxCPU, "CPU used while waiting 1s for a job (spinning?)")
	st, _, err = fltCall(t, 3*time.Second, "JobStatus after restart", func() (gearman.JobStatus, error) {
		return c.JobStatus("H:flt:1")
	})
	require.NoError(t, err)
	require.False(t, st.Known)
}

// ---- 8. Close from another goroutine ----

func TestFaultCloseUnblocks(t *testing.T) {
	// closeWhile starts block, lets it block, closes, and returns block's error.
	closeWhile := func(t *testing.T, what string, block func() error, closeFn func() error) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- block() }()
		select {
		case err := <-done:
			t.Fatalf("%s returned before Close: %v", what, err)
		case <-time.After(300 * time.Millisecond):
		}
		closed := time.Now()
		_, err := fltCallErr(t, time.Second, "Close while "+what+" is blocked", closeFn)
		require.NoError(t, err)
		select {
		case err := <-done:
			t.Logf("%s returned %v after Close (%v)", what, err, time.Since(closed))
			return err
		case <-time.After(time.Second):
			t.Fatalf("%s still blocked 1s after Close (hang)", what)
		}
		return nil
	}

	t.Run("Work", func(t *testing.T) {
		srv := gearmantest.NewServer(t)
		w := fltWorker(t, srv.Addr())
		require.NoError(t, w.AddFunction("flt-idle8", echo, nil, 0))
		err := closeWhile(t, "Work", w.Work, w.Close)
		require.ErrorIs(t, err, gearman.ErrClosed)
	})

	t.Run("Run", func(t *testing.T) {
		srv := gearmantest.NewServer(t)
		w := fltWorker(t, srv.Addr())
		require.NoError(t, w.AddFunction("flt-idle8", echo, nil, 0))
		err := closeWhile(t, "Run", func() error { return w.Run(context.Background()) }, w.Close)
		// Run's doc: it returns an error only for what retrying cannot fix,
		// Close among them.
		require.ErrorIs(t, err, gearman.ErrClosed)
	})

	t.Run("GrabJob", func(t *testing.T) {
		srv := gearmantest.NewServer(t)
		w := fltWorker(t, srv.Addr())
		require.NoError(t, w.Register("flt-idle8", 0))
		err := closeWhile(t, "GrabJob", func() error { _, err := w.GrabJob(); return err }, w.Close)
		require.ErrorIs(t, err, gearman.ErrClosed)
	})

	t.Run("RunTasks", func(t *testing.T) {
		srv := gearmantest.NewServer(t)
		c := fltClient(t, srv.Addr())
		var tasks []*gearman.Task
		for i := 0; i < 100; i++ {
			task, err := c.AddTask("flt-nobody8", []byte("x"), nil, fmt.Sprintf("flt-close-%03d", i))
			require.NoError(t, err)
			tasks = append(tasks, task)
		}
		done := make(chan error, 1)
		go func() { done <- c.RunTasks() }()
		if !eventually(3*time.Second, func() bool { n, _, _, _ := fltStatus(srv.Addr(), "flt-nobody8"); return n == 100 }) {
			t.Fatal("gearmand never held the 100 tasks")
		}
		closed := time.Now()
		_, err := fltCallErr(t, time.Second, "Close while RunTasks is blocked", c.Close)
		require.NoError(t, err)
		select {
		case err = <-done:
			t.Logf("RunTasks returned %v after Close (%v)", err, time.Since(closed))
		case <-time.After(time.Second):
			t.Fatal("RunTasks still blocked 1s after Close (hang)")
		}
		require.ErrorIs(t, err, gearman.ErrClosed)
		for _, task := range tasks {
			require.NotEqual(t, gearman.Success, task.ReturnCode(), "task %s after Close", task.Unique())
		}
	})
}

// ---- a gearmand that stalls ----

// procCPU returns the CPU time (user + system) process pid used so far.
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, err := strconv.ParseInt(f[11], 10, 64)
	require.NoError(t, err)
	stime, err := strconv.ParseInt(f[12], 10, 64)
	require.NoError(t, err)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// A gearmand that stops answering for a few hundred milliseconds (a slow
// disk, a paused VM) must not leave the worker and gearmand trading GRAB_JOB
// and NO_JOB. With libgearman's timeout cut into 200 ms slices, a slice that
// ended while the answer to GRAB_JOB was due made the next one send another:
// afterwards an idle gearmand burned 80 ms of CPU a second and W1 fell from
// about 2 200 to 420 jobs/s. The worker's slices are now longer than such a
// stall, and Close or a context interrupt them instead.
func TestFaultWorkerSurvivesStalledServer(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo})
	c := newClient(t, srv)
	_, err := c.DoNormal("echo", []byte("before"), "")
	require.NoError(t, err)

	proc, err := os.FindProcess(srv.Pid())
	require.NoError(t, err)
	for _, stall := range []time.Duration{300, 450, 600, 750, 500} {
		require.NoError(t, proc.Signal(syscall.SIGSTOP))
		time.Sleep(stall * time.Millisecond)
		require.NoError(t, proc.Signal(syscall.SIGCONT))
		time.Sleep(50 * time.Millisecond)
	}

	cpu0 := procCPU(t, srv.Pid())
	time.Sleep(2 * time.Second) // idle: nobody has anything to say
	idle := procCPU(t, srv.Pid()) - cpu0
	t.Logf("gearmand used %v of CPU in 2 s of idling after the stalls", idle)
	require.Less(t, idle, 40*time.Millisecond, "gearmand busy while idle: the worker keeps asking for jobs")

	for i := range 50 {
		out, err := c.DoNormal("echo", []byte(strconv.Itoa(i)), "")
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(i), string(out))
	}
}
