package gearman_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// allBytes holds every byte value, NULs at both ends and in the middle.
func allBytes() []byte {
	b := []byte{0, 'a', 0, 0, 'b'}
	for i := 0; i < 256; i++ {
		b = append(b, byte(i))
	}
	return append(b, 0)
}

// within runs f and fails the test if it has not returned after limit: a
// guard against hangs, not a performance assertion.
func within(t *testing.T, limit time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("still blocked after %v", limit)
	}
}

func TestRoundTripsAtEveryPriority(t *testing.T) {
	srv := gearmantest.NewServer(t)
	type seen struct{ function, unique, workload string }
	got := make(chan seen, 16)
	record := func(job *gearman.Job, _ any) ([]byte, error) {
		got <- seen{job.FunctionName(), job.Unique(), string(job.Workload())}
		return append([]byte("done:"), job.Workload()...), nil
	}
	startWorker(t, srv, map[string]gearman.WorkerFunc{"record": record})
	c := newClient(t, srv)

	foreground := map[string]func(string, []byte, string) ([]byte, error){
		"normal": c.DoNormal, "high": c.DoHigh, "low": c.DoLow, "do": c.Do,
	}
	for name, do := range foreground {
		unique := "u-" + name
		res, err := do("record", []byte(name), unique)
		require.NoError(t, err, name)
		require.Equal(t, "done:"+name, string(res))
		require.Equal(t, seen{"record", unique, name}, <-got)
		require.Empty(t, c.DoJobHandle(), "PHP: doJobHandle is empty after a foreground job")
	}

	background := map[string]func(string, []byte, string) (string, error){
		"bg-normal": c.DoBackground, "bg-high": c.DoHighBackground, "bg-low": c.DoLowBackground,
	}
	for name, do := range background {
		unique := "u-" + name
		handle, err := do("record", []byte(name), unique)
		require.NoError(t, err, name)
		require.Regexp(t, `^H:.+:\d+$`, handle)
		require.Equal(t, handle, c.DoJobHandle())
		require.Equal(t, seen{"record", unique, name}, <-got)
	}
}

const uuidPattern = `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`

func TestGeneratedUniqueReachesWorker(t *testing.T) {
	srv := gearmantest.NewServer(t)
	uniques := make(chan string, 3)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"u": func(job *gearman.Job, _ any) ([]byte, error) {
		uniques <- job.Unique()
		return []byte("ok"), nil
	}})
	c := newClient(t, srv)
	_, err := c.DoNormal("u", []byte("x"), "")
	require.NoError(t, err)
	_, err = c.DoNormal("u", []byte("x"), "")
	require.NoError(t, err)
	_, err = c.DoHigh("u", []byte("x"), "mine")
	require.NoError(t, err)
	first, second := <-uniques, <-uniques
	require.Regexp(t, uuidPattern, first, "a job without a unique key gets a UUID, as in PHP")
	require.Regexp(t, uuidPattern, second)
	require.NotEqual(t, first, second, "each job gets its own")
	require.Equal(t, "mine", <-uniques, "a unique key given is passed on as it is")
}

// gearmand answers a background job whose unique key is already queued for
// the same function with the queued job's handle. Jobs submitted without a
// key must never meet that way.
func TestBackgroundJobsWithoutUniqueStaySeparate(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	h1, err := c.DoBackground("nobody", []byte("x"), "")
	require.NoError(t, err)
	h2, err := c.DoBackground("nobody", []byte("x"), "")
	require.NoError(t, err)
	require.NotEqual(t, h1, h2, "two jobs without a key")

	k1, err := c.DoBackground("nobody", []byte("x"), "same")
	require.NoError(t, err)
	k2, err := c.DoBackground("nobody", []byte("x"), "same")
	require.NoError(t, err)
	require.Equal(t, k1, k2, "the same key coalesces (the check above can fail)")
}

func TestWorkloadWithEveryByteSurvives(t *testing.T) {
	srv := gearmantest.NewServer(t)
	seen := make(chan []byte, 1)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": func(job *gearman.Job, _ any) ([]byte, error) {
		seen <- bytes.Clone(job.Workload())
		require.Equal(t, len(job.Workload()), job.WorkloadSize())
		return job.Workload(), nil
	}})
	c := newClient(t, srv)
	payload := allBytes()
	res, err := c.DoNormal("echo", payload, "")
	require.NoError(t, err)
	require.Equal(t, payload, <-seen, "worker side")
	require.Equal(t, payload, res, "client side")
}

func TestDoNormalPrependsDataChunks(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"chunky": func(job *gearman.Job, _ any) ([]byte, error) {
		if err := job.SendData([]byte("D\x00A")); err != nil {
			return nil, err
		}
		if err := job.SendStatus(1, 2); err != nil {
			return nil, err
		}
		if err := job.SendData([]byte("T\x00A")); err != nil {
			return nil, err
		}
		if err := job.SendStatus(2, 2); err != nil {
			return nil, err
		}
		return append([]byte("R\x00"), job.Workload()...), nil
	}})
	c := newClient(t, srv)
	res, err := c.DoNormal("chunky", []byte("w"), "")
	require.NoError(t, err)
	require.Equal(t, "D\x00AT\x00AR\x00w", string(res), "PHP: data chunks, then the result")
	n, d := c.DoStatus()
	require.Equal(t, []int{2, 2}, []int{n, d}, "the last status the worker sent")
}

func TestWorkerExceptionReachesClientWithDefaultSettings(t *testing.T) {
	srv := gearmantest.NewServer(t) // no --exceptions: the client must opt in by itself
	startWorker(t, srv, map[string]gearman.WorkerFunc{"boom": func(*gearman.Job, any) ([]byte, error) {
		return nil, errors.New("disk \x00 on fire")
	}})
	c := newClient(t, srv)
	within(t, 10*time.Second, func() {
		_, err := c.DoNormal("boom", []byte("x"), "")
		require.ErrorIs(t, err, gearman.WorkException)
		var e *gearman.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, "disk \x00 on fire", e.Msg)
		require.Equal(t, gearman.WorkException, c.ReturnCode())
	})
}

func TestWorkerFuncEndings(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{
		"fail": func(*gearman.Job, any) ([]byte, error) { return nil, gearman.WorkFail },
		"wrappedfail": func(*gearman.Job, any) ([]byte, error) {
			return nil, fmt.Errorf("gave up: %w", gearman.WorkFail)
		},
		"error": func(*gearman.Job, any) ([]byte, error) { return nil, errors.New("plain error") },
		"panic": func(*gearman.Job, any) ([]byte, error) { panic("worker bug") },
		"setreturn": func(job *gearman.Job, _ any) ([]byte, error) {
			require.NoError(t, job.SetReturn(gearman.WorkFail))
			return []byte("ignored"), nil
		},
		"sendfail": func(job *gearman.Job, _ any) ([]byte, error) {
			require.NoError(t, job.SendFail())
			return []byte("ignored"), nil
		},
		"sendcomplete": func(job *gearman.Job, _ any) ([]byte, error) {
			require.NoError(t, job.SendComplete([]byte("explicit")))
			return []byte("ignored"), nil
		},
		"sendexception": func(job *gearman.Job, _ any) ([]byte, error) {
			require.NoError(t, job.SendException([]byte("my exception text")))
			return nil, nil
		},
		"echo": echo,
	})
	c := newClient(t, srv)
	within(t, 20*time.Second, func() {
		for _, fn := range []string{"fail", "wrappedfail", "setreturn", "sendfail"} {
			_, err := c.DoNormal(fn, []byte("x"), "")
			require.ErrorIs(t, err, gearman.WorkFail, fn)
			require.NotErrorIs(t, err, gearman.WorkException, fn)
		}
		_, err := c.DoNormal("error", []byte("x"), "")
		require.ErrorIs(t, err, gearman.WorkException)
		require.Contains(t, err.Error(), "plain error")

		_, err = c.DoNormal("panic", []byte("x"), "")
		require.ErrorIs(t, err, gearman.WorkException)
		require.Contains(t, err.Error(), "panic: worker bug")

		res, err := c.DoNormal("sendcomplete", []byte("x"), "")
		require.NoError(t, err)
		require.Equal(t, "explicit", string(res))

		_, err = c.DoNormal("sendexception", []byte("x"), "")
		require.ErrorIs(t, err, gearman.WorkException)
		require.Contains(t, err.Error(), "my exception text")

		res, err = c.DoNormal("echo", []byte("still serving"), "")
		require.NoError(t, err, "the worker serves the next job after a panic")
		require.Equal(t, "still serving", string(res))
	})
}

func TestSetTimeoutZeroDoesNotWedge(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo})
	c, err := gearman.NewClient()
	require.NoError(t, err)
	defer c.Close()
	// libgearman wedges when timeout 0 is in force while it connects: set it
	// before the first connection.
	require.NoError(t, c.SetTimeout(0))
	require.Equal(t, 0, c.Timeout())
	require.NoError(t, c.AddServer(srv.Host(), srv.Port()))
	_, err = c.DoNormal("nobody", []byte("x"), "")
	require.ErrorIs(t, err, gearman.Timeout, "0 gives up as soon as it would have to wait")

	require.NoError(t, c.SetTimeout(5000))
	res, err := c.DoNormal("echo", []byte("after"), "")
	require.NoError(t, err)
	require.Equal(t, "after", string(res))
	require.NoError(t, c.Ping([]byte("ping")))
}

func TestTimeoutWithoutWorker(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	require.NoError(t, c.SetTimeout(300))
	_, err := c.DoNormal("nobody", []byte("x"), "")
	require.ErrorIs(t, err, gearman.Timeout)
	require.Equal(t, gearman.Timeout, c.ReturnCode())
	require.NotEmpty(t, c.LastError())
}

func TestDoNormalContextDeadline(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.DoNormalContext(ctx, "nobody-yet", []byte("x"), "")
	elapsed := time.Since(start)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, gearman.Timeout)
	require.Less(t, elapsed, time.Second)

	// The client stays usable, and the abandoned job was dropped: the worker
	// that arrives now sees only the new one. gearmand marks the job ignored
	// when it sees the client's old connection close, on another of its
	// threads: wait for that before a worker can ask for it.
	require.Eventually(t, func() bool {
		out, err := gearmantest.AdminCommand(srv.Addr(), "show jobs", time.Second)
		return err == nil && allJobsIgnored(out)
	}, 5*time.Second, 10*time.Millisecond)
	seen := make(chan string, 4)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"nobody-yet": func(job *gearman.Job, _ any) ([]byte, error) {
		seen <- string(job.Workload())
		return job.Workload(), nil
	}})
	res, err := c.DoNormal("nobody-yet", []byte("second"), "")
	require.NoError(t, err)
	require.Equal(t, "second", string(res))
	require.Equal(t, "second", <-seen)
}

func TestDoContextCancel(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(150 * time.Millisecond); cancel() }()
	_, err := c.DoBackgroundContext(ctx, "x", []byte("x"), "") // background jobs need no worker
	require.NoError(t, err)
	_, err = c.DoHighContext(ctx, "nobody", []byte("x"), "")
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, c.Ping([]byte("usable")))
}

func TestConcurrentDoNormalOnOneClient(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"reverse": reverse})
	c := newClient(t, srv)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				in := fmt.Sprintf("job-%02d-%d", i, j)
				res, err := c.DoNormal("reverse", []byte(in), "")
				if err == nil && string(res) != reverseString(in) {
					err = fmt.Errorf("%s: got %q", in, res)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func reverseString(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func TestInvalidArguments(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	cases := map[string]func() error{
		"empty function": func() error { _, err := c.DoNormal("", []byte("x"), ""); return err },
		"65-byte unique": func() error { _, err := c.DoNormal("f", []byte("x"), strings.Repeat("u", 65)); return err },
		"NUL in name":    func() error { _, err := c.DoBackground("a\x00b", []byte("x"), ""); return err },
		"513-byte name":  func() error { _, err := c.DoLow(strings.Repeat("f", 513), []byte("x"), ""); return err },
		"NUL in unique":  func() error { _, err := c.DoHigh("f", []byte("x"), "u\x00v"); return err },
		"empty handle":   func() error { _, err := c.JobStatus(""); return err },
		"64-byte status unique": func() error {
			_, err := c.JobStatusByUniqueKey(strings.Repeat("u", 64))
			return err
		},
		"bad port":   func() error { return c.AddServer("127.0.0.1", 70000) },
		"timeout -2": func() error { return c.SetTimeout(-2) },
		"empty ping": func() error { return c.Ping(nil) },
	}
	for name, call := range cases {
		err := call()
		require.ErrorIs(t, err, gearman.InvalidArgument, name)
		require.Equal(t, gearman.InvalidArgument, c.ReturnCode(), name)
	}
	// GEARMAN_UNIQUE_SIZE counts the NUL: libgearman cuts a 64-byte key to 63
	// bytes on its way to the worker, so 63 is the limit.
	_, err := c.DoBackground("f", []byte("x"), strings.Repeat("u", 64))
	require.ErrorIs(t, err, gearman.InvalidArgument)
	_, err = c.DoBackground("f", []byte("x"), strings.Repeat("u", 63))
	require.NoError(t, err)
}

func TestBackgroundJobStatus(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	handle, err := c.DoBackground("queued-only", []byte("x"), "my-bg-unique")
	require.NoError(t, err)

	st, err := c.JobStatus(handle)
	require.NoError(t, err)
	require.Equal(t, gearman.JobStatus{Known: true}, st)

	st, err = c.JobStatusByUniqueKey("my-bg-unique")
	require.NoError(t, err)
	require.True(t, st.Known)
	require.False(t, st.Running)

	st, err = c.JobStatus("H:nowhere:12345")
	require.NoError(t, err)
	require.Equal(t, gearman.JobStatus{}, st, "an unknown job is not known")

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err = c.JobStatusContext(ctx, handle)
	require.NoError(t, err)
	require.True(t, st.Known)
	_, err = c.JobStatusByUniqueKeyContext(ctx, "my-bg-unique")
	require.NoError(t, err)
}

func TestRunningJobStatus(t *testing.T) {
	srv := gearmantest.NewServer(t)
	started, finish := make(chan struct{}), make(chan struct{})
	startWorker(t, srv, map[string]gearman.WorkerFunc{"slow": func(job *gearman.Job, _ any) ([]byte, error) {
		require.NoError(t, job.SendStatus(3, 7))
		close(started)
		<-finish
		return nil, nil
	}})
	t.Cleanup(func() { close(finish) }) // runs before the worker's cleanup
	c := newClient(t, srv)
	handle, err := c.DoBackground("slow", []byte("x"), "")
	require.NoError(t, err)
	<-started
	probe := newClient(t, srv)
	// The status reaches gearmand on the worker's connection, the question on
	// the probe's: wait until gearmand has seen it.
	want := gearman.JobStatus{Known: true, Running: true, Numerator: 3, Denominator: 7}
	var st gearman.JobStatus
	require.Eventually(t, func() bool {
		st, err = probe.JobStatus(handle)
		return err == nil && st == want
	}, 5*time.Second, 10*time.Millisecond, "last: %+v %v", st, err)
}

func TestPingAndEcho(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	require.NoError(t, c.Ping(allBytes()))
	require.NoError(t, c.Echo([]byte("x")))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	require.NoError(t, c.PingContext(ctx, []byte("x")))
}

func TestNoServer(t *testing.T) {
	c, err := gearman.NewClient()
	require.NoError(t, err)
	defer c.Close()
	_, err = c.DoNormal("f", []byte("x"), "")
	require.ErrorIs(t, err, gearman.NoServers)
	require.ErrorIs(t, c.EnableExceptionHandler(), gearman.NoServers)

	srv := gearmantest.NewServer(t)
	srv.Stop()
	require.NoError(t, c.AddServer(srv.Host(), srv.Port()), "connecting is lazy")
	within(t, 5*time.Second, func() {
		_, err = c.DoNormal("f", []byte("x"), "")
		require.ErrorIs(t, err, gearman.CouldNotConnect)
		_, err = c.DoBackground("f", []byte("x"), "")
		require.ErrorIs(t, err, gearman.CouldNotConnect)
		require.ErrorIs(t, c.Ping([]byte("x")), gearman.CouldNotConnect)
		_, err = c.JobStatus("H:x:1")
		require.ErrorIs(t, err, gearman.CouldNotConnect)
		require.Error(t, c.EnableExceptionHandler())
	})
	require.Equal(t, gearman.CouldNotConnect, c.ReturnCode())
	require.Contains(t, c.LastError(), "GEARMAN_COULD_NOT_CONNECT")
}

// TestEnableExceptionHandlerNamesDeadServer: with a dead server anywhere in
// the list, EnableExceptionHandler fails and names it, as PHP throws; adding
// the servers stays lenient, and the live server still serves jobs.
func TestEnableExceptionHandlerNamesDeadServer(t *testing.T) {
	srv := gearmantest.NewServer(t)
	dead := gearmantest.NewServer(t)
	dead.Stop()
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo})
	for _, list := range []string{srv.Addr() + "," + dead.Addr(), dead.Addr() + "," + srv.Addr()} {
		c, err := gearman.NewClient()
		require.NoError(t, err)
		require.NoError(t, c.AddServers(list), "adding servers never connects")
		err = c.EnableExceptionHandler()
		require.ErrorIs(t, err, gearman.CouldNotConnect, list)
		require.Contains(t, err.Error(), dead.Addr(), list)
		require.NotContains(t, err.Error(), srv.Addr(), list)
		require.Contains(t, c.LastError(), dead.Addr())
		require.Equal(t, gearman.CouldNotConnect, c.ReturnCode())
		res, err := c.DoNormal("echo", []byte(list), "")
		require.NoError(t, err, "the live server still serves")
		require.Equal(t, list, string(res))
		require.NoError(t, c.Close())

		w, err := gearman.NewWorker()
		require.NoError(t, err)
		require.NoError(t, w.AddServers(list))
		err = w.EnableExceptionHandler()
		require.ErrorIs(t, err, gearman.CouldNotConnect, list)
		require.Contains(t, err.Error(), dead.Addr(), list)
		require.NoError(t, w.Close())
	}

	c, err := gearman.NewClient()
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.AddServers(srv.Addr()+","+srv.Addr()))
	require.NoError(t, c.EnableExceptionHandler(), "every server answers")
}

// TestGearmanServersEnvironment: libgearman adds the servers of
// GEARMAN_SERVERS to every Client and Worker it creates, so that neither
// needs AddServer; a value it cannot use fails the constructors, naming it.
func TestGearmanServersEnvironment(t *testing.T) {
	srv := gearmantest.NewServer(t)
	t.Setenv("GEARMAN_SERVERS", srv.Addr())
	w, err := gearman.NewWorker()
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, w.AddFunction("echo", echo, nil, 0))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	c, err := gearman.NewClient()
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetTimeout(20000))
	res, err := c.DoNormal("echo", []byte("from the environment"), "")
	require.NoError(t, err)
	require.Equal(t, "from the environment", string(res))

	t.Setenv("GEARMAN_SERVERS", "no-such-host.invalid:4730")
	_, err = gearman.NewClient()
	require.Error(t, err)
	require.Contains(t, err.Error(), `GEARMAN_SERVERS="no-such-host.invalid:4730"`)
	_, err = gearman.NewWorker()
	require.Error(t, err)
	require.Contains(t, err.Error(), "GEARMAN_SERVERS")
}

func TestClosedClient(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "Close is idempotent")

	calls := map[string]error{
		"AddServer":  c.AddServer(srv.Host(), srv.Port()),
		"AddServers": c.AddServers(srv.Addr()),
		"Ping":       c.Ping([]byte("x")),
		"Wait":       c.Wait(),
		"Enable":     c.EnableExceptionHandler(),
	}
	_, calls["DoNormal"] = c.DoNormal("f", []byte("x"), "")
	_, calls["DoBackground"] = c.DoBackground("f", []byte("x"), "")
	_, calls["JobStatus"] = c.JobStatus("H:x:1")
	_, calls["JobStatusByUniqueKey"] = c.JobStatusByUniqueKey("u")
	_, calls["Clone"] = c.Clone()
	for name, err := range calls {
		require.ErrorIs(t, err, gearman.ErrClosed, name)
		require.ErrorIs(t, err, gearman.InvalidArgument, name)
	}
	require.Empty(t, c.DoJobHandle())
}

func TestCloseWhileDoing(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	done := make(chan error, 1)
	go func() { _, err := c.DoNormal("nobody", []byte("x"), ""); done <- err }()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, c.Close())
	select {
	case err := <-done:
		require.ErrorIs(t, err, gearman.ErrClosed)
	case <-time.After(2 * time.Second):
		t.Fatal("DoNormal still blocked after Close")
	}
}

func TestClientStateAndOptions(t *testing.T) {
	c, err := gearman.NewClient()
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, gearman.ClientFreeTasks, c.Options(), "PHP: options() is 32 after construction")
	require.Equal(t, -1, c.Timeout())
	require.Equal(t, gearman.Success, c.ReturnCode())
	require.Empty(t, c.LastError())
	require.Equal(t, 0, c.GetErrno())

	require.NoError(t, c.SetOptions(gearman.ClientNonBlocking))
	require.Equal(t, gearman.ClientNonBlocking, c.Options(), "setOptions replaces")
	require.NoError(t, c.AddOptions(gearman.ClientFreeTasks))
	require.Equal(t, gearman.ClientNonBlocking|gearman.ClientFreeTasks, c.Options())
	require.NoError(t, c.RemoveOptions(gearman.ClientNonBlocking))
	require.Equal(t, gearman.ClientFreeTasks, c.Options())

	require.Nil(t, c.Context())
	require.NoError(t, c.SetContext("ctx\x00tail"))
	require.Equal(t, "ctx\x00tail", c.Context(), "binary-safe, unlike PHP")
	require.NoError(t, c.SetData(42))
	require.Equal(t, 42, c.Data())
	n, d := c.DoStatus()
	require.Zero(t, n+d)
	require.ErrorIs(t, c.Wait(), gearman.NoActiveFds, "PHP: wait() with nothing pending")
}

func TestClientClone(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo})
	c := newClient(t, srv)
	require.NoError(t, c.SetTimeout(4000))
	require.NoError(t, c.SetContext("shared"))
	clone, err := c.Clone()
	require.NoError(t, err)
	defer clone.Close()
	require.Equal(t, 4000, clone.Timeout())
	require.Equal(t, "shared", clone.Context())
	res, err := clone.DoNormal("echo", []byte("from clone"), "")
	require.NoError(t, err)
	require.Equal(t, "from clone", string(res))
	require.NoError(t, c.Close())
	_, err = clone.DoNormal("echo", []byte("after original closed"), "")
	require.NoError(t, err)
}

func TestAddServersList(t *testing.T) {
	a, b := gearmantest.NewServer(t), gearmantest.NewServer(t)
	startWorker(t, a, map[string]gearman.WorkerFunc{"echo": echo})
	startWorker(t, b, map[string]gearman.WorkerFunc{"echo": echo})
	c, err := gearman.NewClient()
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.AddServers(a.Addr()+","+b.Addr()))
	res, err := c.DoNormal("echo", []byte("listed"), "")
	require.NoError(t, err)
	require.Equal(t, "listed", string(res))
	require.ErrorIs(t, c.AddServers("bad host:notaport"), gearman.Getaddrinfo)
}

func TestVersionAndNames(t *testing.T) {
	// Linkage is checked against the process's mappings: a libgearman.so is
	// mapped unless built with -tags gearman_static.
	maps, readErr := os.ReadFile("/proc/self/maps")
	require.NoError(t, readErr)
	linkage := "static"
	if bytes.Contains(maps, []byte("/libgearman.so")) {
		linkage = "shared"
	}
	require.Equal(t, linkage, gearman.Linkage())
	require.Regexp(t, `^1\.1\.[0-9]+\S*$`, gearman.Version()) // Debian: 1.1.20+ds; TestPHPVersion compares it with PHP's
	require.NotEmpty(t, gearman.BugReport())
	require.Equal(t, "INFO", gearman.VerboseName(gearman.VerboseInfo))
	require.Empty(t, gearman.VerboseName(-1))
	require.Equal(t, "GEARMAN_WORK_FAIL", gearman.WorkFail.Error())

	err := &gearman.Error{Code: gearman.Timeout, Op: "DoNormal", Msg: "timeout reached"}
	require.Equal(t, "gearman: DoNormal: GEARMAN_TIMEOUT: timeout reached", err.Error())
	require.ErrorIs(t, fmt.Errorf("wrapped: %w", err), gearman.Timeout)
}

// libgearman 1.1.20 counts a GET_STATUS_UNIQUE request as a job submission
// (run.cc), so the JOB_CREATED of the next job on that connection is never
// matched and the call waits forever. The client rebuilds itself after a
// by-unique lookup; found by the PHP cross-language suite.
func TestJobAfterStatusByUniqueKey(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo})
	c := newClient(t, srv)
	_, err := c.DoBackground("queued", []byte("x"), "u1")
	require.NoError(t, err)
	st, err := c.JobStatusByUniqueKey("u1")
	require.NoError(t, err)
	require.True(t, st.Known)
	within(t, 10*time.Second, func() {
		handle, err := c.DoBackground("queued", []byte("x"), "u2")
		require.NoError(t, err)
		require.NotEmpty(t, handle)
		_, err = c.JobStatusByUniqueKey("u2")
		require.NoError(t, err)
		res, err := c.DoNormal("echo", []byte("after"), "")
		require.NoError(t, err)
		require.Equal(t, "after", string(res))
	})
}

// allJobsIgnored reads the admin "show jobs" list (handle, retries, ignore,
// queued) and reports whether every job in it is marked ignored.
func allJobsIgnored(showJobs string) bool {
	for _, line := range splitLines(showJobs) {
		fields := strings.Fields(line)
		if len(fields) == 4 && fields[2] != "1" {
			return false
		}
	}
	return true
}
