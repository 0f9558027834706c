package gearman_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

func newWorker(t *testing.T, srv *gearmantest.Server) *gearman.Worker {
	t.Helper()
	w, err := gearman.NewWorker()
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	require.NoError(t, w.AddServer(srv.Host(), srv.Port()))
	return w
}

func TestPHPStyleWorkLoop(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	var seenContext any
	require.NoError(t, w.AddFunction("reverse", func(job *gearman.Job, ctx any) ([]byte, error) {
		seenContext = ctx
		return reverse(job, ctx)
	}, "my-worker-context", 0))

	c := newClient(t, srv)
	results := make(chan string, 3)
	go func() {
		for _, in := range []string{"one", "two", "three"} {
			res, err := c.DoNormal("reverse", []byte(in), "")
			if err != nil {
				results <- err.Error()
				continue
			}
			results <- string(res)
		}
	}()
	// while ($worker->work()) { ... }
	for i := 0; i < 3; i++ {
		require.NoError(t, w.Work())
		require.Equal(t, gearman.Success, w.ReturnCode())
	}
	require.Equal(t, []string{"eno", "owt", "eerht"}, []string{<-results, <-results, <-results})
	require.Equal(t, "my-worker-context", seenContext)
}

func TestJobKeptAfterItsFunctionReturned(t *testing.T) {
	srv := gearmantest.NewServer(t)
	kept := make(chan *gearman.Job, 1)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"keep": func(job *gearman.Job, _ any) ([]byte, error) {
		// Read while valid.
		require.Equal(t, "payload", string(job.Workload()))
		require.Equal(t, "keep", job.FunctionName())
		require.Equal(t, "kept-unique", job.Unique())
		require.Regexp(t, `^H:`, job.Handle())
		kept <- job
		return []byte("ok"), nil
	}})
	c := newClient(t, srv)
	_, err := c.DoNormal("keep", []byte("payload"), "kept-unique")
	require.NoError(t, err)

	job := <-kept
	// PHP's extension reads freed memory and dies with SIGSEGV here.
	for name, err := range map[string]error{
		"SendData":      job.SendData([]byte("late")),
		"SendWarning":   job.SendWarning([]byte("late")),
		"SendStatus":    job.SendStatus(1, 2),
		"SendComplete":  job.SendComplete([]byte("late")),
		"SendException": job.SendException([]byte("late")),
		"SendFail":      job.SendFail(),
		"SetReturn":     job.SetReturn(gearman.WorkFail),
		"Complete":      job.Complete(nil),
	} {
		require.ErrorIs(t, err, gearman.ErrJobDone, name)
		require.ErrorIs(t, err, gearman.InvalidArgument, name)
	}
	// What was read while the job lived stays readable.
	require.Equal(t, "payload", string(job.Workload()))
	require.Equal(t, "keep", job.FunctionName())
	require.Equal(t, "kept-unique", job.Unique())
	require.Regexp(t, `^H:`, job.Handle())
}

func TestJobAccessorsNeverReadBeforeItReturned(t *testing.T) {
	srv := gearmantest.NewServer(t)
	kept := make(chan *gearman.Job, 1)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"keep": func(job *gearman.Job, _ any) ([]byte, error) {
		kept <- job
		return nil, nil
	}})
	c := newClient(t, srv)
	_, err := c.DoNormal("keep", []byte("x"), "")
	require.NoError(t, err)
	job := <-kept
	require.Empty(t, job.Handle(), "zero values, not freed memory")
	require.Empty(t, job.Workload())
	require.Zero(t, job.WorkloadSize())
}

func TestJobSendsAndReturnCode(t *testing.T) {
	srv := gearmantest.NewServer(t)
	codes := make(chan []gearman.ReturnCode, 1)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"send": func(job *gearman.Job, _ any) ([]byte, error) {
		var seen []gearman.ReturnCode
		seen = append(seen, job.ReturnCode())
		require.NoError(t, job.SetReturn(gearman.WorkFail))
		seen = append(seen, job.ReturnCode())
		require.NoError(t, job.SendData([]byte("d"))) // PHP: a send resets the code
		seen = append(seen, job.ReturnCode())
		require.NoError(t, job.Warning([]byte("w")))
		require.NoError(t, job.Status(1, 1))
		require.NoError(t, job.Data([]byte("e")))
		require.ErrorIs(t, job.SetReturn(gearman.ReturnCode(999)), gearman.InvalidArgument)
		codes <- seen
		return []byte("r"), nil
	}})
	c := newClient(t, srv)
	res, err := c.DoNormal("send", []byte("x"), "")
	require.NoError(t, err, "the send after SetReturn(WorkFail) makes the job complete, as in PHP")
	require.Equal(t, "der", string(res))
	require.Equal(t, []gearman.ReturnCode{gearman.Success, gearman.WorkFail, gearman.Success}, <-codes)
}

func TestRunStopsWhenIdle(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.AddFunction("echo", echo, nil, 0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	waitForWorker(t, srv, "echo")
	cancel()
	start := time.Now()
	select {
	case err := <-done:
		require.NoError(t, err)
		require.Less(t, time.Since(start), time.Second)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	// The worker is still usable after Run returned.
	require.NoError(t, w.Ping([]byte("x")))
}

func TestRunFinishesTheJobInHandWhenCancelled(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	require.NoError(t, w.AddFunction("slow", func(job *gearman.Job, _ any) ([]byte, error) {
		close(started)
		time.Sleep(500 * time.Millisecond) // cancel arrives mid-job
		return append([]byte("finished:"), job.Workload()...), nil
	}, nil, 0))
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	c := newClient(t, srv)
	result := make(chan string, 1)
	go func() {
		res, err := c.DoNormal("slow", []byte("x"), "")
		if err != nil {
			result <- err.Error()
			return
		}
		result <- string(res)
	}()
	<-started
	cancel()
	require.Equal(t, "finished:x", <-result)
	require.NoError(t, <-done)
}

// Run's context ends only Run's own waits: another goroutine's GrabJob on
// the same Worker, waiting while Run waits for its turn, goes on and gets
// its job.
func TestRunContextLeavesOtherCallsAlone(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.AddFunction("grab", echo, nil, 0))
	grabbed := make(chan error, 1)
	go func() {
		job, err := w.GrabJob()
		if err == nil {
			err = job.SendComplete([]byte("grabbed"))
		}
		grabbed <- err
	}()
	waitForWorker(t, srv, "grab") // GrabJob holds the worker, waiting

	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- w.Run(ctx) }()
	// Let Run start watching ctx and queue behind GrabJob. Too short a pause
	// would only let the test pass without proving anything.
	time.Sleep(100 * time.Millisecond)
	cancel()
	require.NoError(t, <-ran)

	c := newClient(t, srv)
	require.NoError(t, c.SetTimeout(5000)) // a GrabJob that failed leaves no worker
	res, err := c.DoNormal("grab", []byte("x"), "")
	require.NoError(t, err)
	require.Equal(t, "grabbed", string(res))
	require.NoError(t, <-grabbed)
}

func TestWorkTimeout(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.AddFunction("idle", echo, nil, 0))
	require.NoError(t, w.SetTimeout(300))
	require.Equal(t, 300, w.Timeout())
	err := w.Work()
	require.ErrorIs(t, err, gearman.Timeout)
	require.Equal(t, gearman.Timeout, w.ReturnCode())

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	require.NoError(t, w.SetTimeout(-1))
	err = w.WorkContext(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestGrabJob(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.Register("grab", 0))
	c := newClient(t, srv)
	result := make(chan string, 1)
	go func() {
		res, err := c.DoNormal("grab", []byte("grabbed"), "grab-unique")
		if err != nil {
			result <- err.Error()
			return
		}
		result <- string(res)
	}()
	job, err := w.GrabJob()
	require.NoError(t, err)
	require.Equal(t, "grab", job.FunctionName())
	require.Equal(t, "grab-unique", job.Unique())
	require.Equal(t, "grabbed", string(job.Workload()))
	require.NoError(t, job.SendData([]byte("data+")))
	require.NoError(t, job.SendComplete([]byte("done")))
	require.Equal(t, "data+done", <-result)
	require.ErrorIs(t, job.SendData([]byte("late")), gearman.ErrJobDone)
	require.Equal(t, "grabbed", string(job.Workload()), "read before completion, still readable")
}

func TestGrabbedJobAfterWorkerClose(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.Register("grab", 0))
	c := newClient(t, srv)
	_, err := c.DoBackground("grab", []byte("x"), "")
	require.NoError(t, err)
	job, err := w.GrabJob()
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.ErrorIs(t, job.SendComplete([]byte("x")), gearman.ErrClosed)
	require.Empty(t, job.Handle())
}

func TestWorkerIdentifierAndOptions(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.Equal(t, gearman.WorkerOptions(644), w.Options(), "PHP: options() is 644")
	require.Equal(t, -1, w.Timeout())
	require.NoError(t, w.SetId("worker-007"))
	require.NotZero(t, w.Options()&gearman.WorkerIdentifier)
	require.NoError(t, w.AddFunction("idle", echo, nil, 0))
	require.ErrorIs(t, w.SetId(""), gearman.InvalidArgument)

	require.NoError(t, w.SetTimeout(100))
	require.ErrorIs(t, w.Work(), gearman.Timeout) // connects and registers
	out, err := gearmantest.AdminCommand(srv.Addr(), "workers", time.Second)
	require.NoError(t, err)
	require.Contains(t, out, "worker-007 : idle")

	require.NoError(t, w.AddOptions(gearman.WorkerNonBlocking))
	require.NotZero(t, w.Options()&gearman.WorkerNonBlocking)
	err = w.Work()
	require.Error(t, err)
	require.True(t, errors.Is(err, gearman.IOWait) || errors.Is(err, gearman.NoJobs), "%v", err)
	require.NoError(t, w.RemoveOptions(gearman.WorkerNonBlocking))
	require.Zero(t, w.Options()&gearman.WorkerNonBlocking)
	require.NoError(t, w.SetOptions(gearman.WorkerGrabUniq))
}

func TestRegisterAndUnregister(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.Register("r1", 0))
	require.NoError(t, w.AddFunction("f1", echo, nil, 2000))
	require.NoError(t, w.AddFunction("f2", echo, nil, 0))
	require.NoError(t, w.Unregister("f1"))
	require.ErrorIs(t, w.Unregister("f1"), gearman.NoRegisteredFunction)
	require.NoError(t, w.UnregisterAll())
	require.ErrorIs(t, w.UnregisterAll(), gearman.NoRegisteredFunctions)

	for name, err := range map[string]error{
		"nil function":   w.AddFunction("f", nil, nil, 0),
		"empty name":     w.AddFunction("", echo, nil, 0),
		"long name":      w.AddFunction(strings.Repeat("f", 513), echo, nil, 0),
		"NUL name":       w.AddFunction("a\x00b", echo, nil, 0),
		"negative":       w.AddFunction("f", echo, nil, -1),
		"register empty": w.Register("", 0),
	} {
		require.ErrorIs(t, err, gearman.InvalidArgument, name)
	}
}

func TestAddFunctionAgainReplaces(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.AddFunction("f", func(*gearman.Job, any) ([]byte, error) { return []byte("old"), nil }, nil, 0))
	require.NoError(t, w.AddFunction("f", func(_ *gearman.Job, ctx any) ([]byte, error) { return []byte(ctx.(string)), nil }, "new", 0))
	c := newClient(t, srv)
	res := make(chan []byte, 1)
	go func() { r, _ := c.DoNormal("f", []byte("x"), ""); res <- r }()
	require.NoError(t, w.Work())
	require.Equal(t, "new", string(<-res))
}

// TestRegisterThenAddFunction gives a name registered without a function a
// function afterwards, in both timeouts' cases: the job runs it, as in PHP.
func TestRegisterThenAddFunction(t *testing.T) {
	for _, timeouts := range [][2]int{{0, 0}, {0, 5000}, {3000, 0}} {
		srv := gearmantest.NewServer(t)
		w := newWorker(t, srv)
		require.NoError(t, w.Register("f", timeouts[0]))
		require.NoError(t, w.AddFunction("f", func(job *gearman.Job, ctx any) ([]byte, error) {
			return append([]byte(ctx.(string)), job.Workload()...), nil
		}, "ran:", timeouts[1]))
		c := newClient(t, srv)
		require.NoError(t, c.SetTimeout(20000))
		res := make(chan string, 1)
		go func() {
			r, err := c.DoNormal("f", []byte("x"), "")
			if err != nil {
				res <- err.Error()
				return
			}
			res <- string(r)
		}()
		require.NoError(t, w.Work(), "timeouts %v", timeouts)
		require.Equal(t, "ran:x", <-res, "timeouts %v", timeouts)
	}
}

// TestRunErrorsNameRun: an error Run returns says Run, not Work.
func TestRunErrorsNameRun(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	err := w.Run(context.Background())
	require.ErrorIs(t, err, gearman.NoRegisteredFunctions)
	require.True(t, strings.HasPrefix(err.Error(), "gearman: Run: "), err.Error())
	var e *gearman.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, "Run", e.Op)
}

func TestClosedWorker(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "Close is idempotent")
	calls := map[string]error{
		"AddServer":   w.AddServer(srv.Host(), srv.Port()),
		"AddFunction": w.AddFunction("f", echo, nil, 0),
		"Register":    w.Register("f", 0),
		"Unregister":  w.Unregister("f"),
		"Work":        w.Work(),
		"Run":         w.Run(context.Background()),
		"Ping":        w.Ping([]byte("x")),
		"SetId":       w.SetId("x"),
		"Wait":        w.Wait(),
		"Options":     w.SetOptions(0),
	}
	_, calls["GrabJob"] = w.GrabJob()
	_, calls["Clone"] = w.Clone()
	for name, err := range calls {
		require.ErrorIs(t, err, gearman.ErrClosed, name)
	}
}

func TestCloseWhileWorking(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.AddFunction("idle", echo, nil, 0))
	done := make(chan error, 1)
	go func() { done <- w.Work() }()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, w.Close())
	select {
	case err := <-done:
		require.ErrorIs(t, err, gearman.ErrClosed)
	case <-time.After(2 * time.Second):
		t.Fatal("Work still blocked after Close")
	}
}

func TestWorkerClone(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.AddFunction("echo", echo, nil, 0))
	require.NoError(t, w.SetId("original"))
	clone, err := w.Clone()
	require.NoError(t, err)
	require.NoError(t, w.Close())
	defer clone.Close()
	c := newClient(t, srv)
	res := make(chan []byte, 1)
	go func() { r, _ := c.DoNormal("echo", []byte("via clone"), ""); res <- r }()
	require.NoError(t, clone.Work())
	require.Equal(t, "via clone", string(<-res))
}

func TestWorkerPingAndNoServers(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.Ping([]byte("x")))
	require.NoError(t, w.Echo([]byte("x")))
	require.NoError(t, w.EnableExceptionHandler())

	lonely, err := gearman.NewWorker()
	require.NoError(t, err)
	defer lonely.Close()
	require.NoError(t, lonely.AddFunction("f", echo, nil, 0), "addFunction before addServer works, as in PHP")
	require.ErrorIs(t, lonely.Work(), gearman.NoServers)
	require.ErrorIs(t, lonely.Run(context.Background()), gearman.NoServers, "Run gives up on what retrying cannot fix")
}

func TestManyWorkersOneClient(t *testing.T) {
	srv := gearmantest.NewServer(t)
	var mu sync.Mutex
	served := map[int]int{}
	for i := 0; i < 3; i++ {
		i := i
		startWorker(t, srv, map[string]gearman.WorkerFunc{"who": func(job *gearman.Job, _ any) ([]byte, error) {
			mu.Lock()
			served[i]++
			mu.Unlock()
			return job.Workload(), nil
		}})
	}
	c := newClient(t, srv)
	for i := 0; i < 30; i++ {
		_, err := c.DoNormal("who", []byte("x"), "")
		require.NoError(t, err)
	}
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, n := range served {
		total += n
	}
	require.Equal(t, 30, total)
}
