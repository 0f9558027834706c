package gearman_test

import (
	"bytes"
	"context"
	"fmt"
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

// osThreads reads the process's OS thread count.
func osThreads(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

// TestSharedClientRunsCallsAtOnce: 16 goroutines sharing one Client have 16
// jobs at the workers at the same time, counted where they run.
func TestSharedClientRunsCallsAtOnce(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.SetConcurrency(16))
	var running runningCounter
	all := make(chan struct{})
	var once sync.Once
	require.NoError(t, w.AddFunction("gate", func(job *gearman.Job, _ any) ([]byte, error) {
		running.enter()
		defer running.leave()
		if running.peak.Load() >= 16 {
			once.Do(func() { close(all) })
		}
		select {
		case <-all:
		case <-time.After(concurrencyLimit):
		}
		return job.Workload(), nil
	}, nil, 0))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)

	c := newClient(t, srv)
	errs := make(chan error, 64)
	for g := range 16 {
		go func() {
			for i := range 4 {
				want := fmt.Sprintf("%d-%d", g, i)
				got, err := c.DoNormal("gate", []byte(want), "")
				if err == nil && string(got) != want {
					err = fmt.Errorf("got %q, want %q", got, want)
				}
				errs <- err
			}
		}()
	}
	for range 64 {
		require.NoError(t, <-errs)
	}
	require.EqualValues(t, 16, running.peak.Load(), "jobs from one Client at the workers at once")
}

// TestSharedClientThousandCallsQueued: 1 000 DoNormal calls waiting at once
// on one Client are all queued at gearmand at the same moment, while the
// process holds at most 64 more OS threads than before; a worker then
// answers each correctly.
func TestSharedClientThousandCallsQueued(t *testing.T) {
	const calls = 1000
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	require.NoError(t, c.Ping([]byte("warm up")))
	before := osThreads(t)

	type answer struct {
		i   int
		got []byte
		err error
	}
	answers := make(chan answer, calls)
	for i := range calls {
		go func() {
			got, err := c.DoNormal("echo", []byte(strconv.Itoa(i)), "")
			answers <- answer{i, got, err}
		}()
	}
	requireQueuedWithFewThreads(t, srv, calls, before)

	startEchoWorkerProcess(t, srv)
	for range calls {
		a := <-answers
		require.NoError(t, a.err)
		require.True(t, bytes.Equal([]byte(strconv.Itoa(a.i)), a.got), "call %d got %q", a.i, a.got)
	}
}

// TestManyClientsOneCallEach: 300 Clients, each with one DoNormal waiting,
// have all 300 jobs queued at gearmand while the process holds at most 64
// more OS threads than before (each call once held a thread inside C); a
// worker then answers each.
func TestManyClientsOneCallEach(t *testing.T) {
	const clients = 300
	srv := gearmantest.NewServer(t)
	cs := make([]*gearman.Client, clients)
	for i := range cs {
		cs[i] = newClient(t, srv)
	}
	before := osThreads(t)
	errs := make(chan error, clients)
	for i, c := range cs {
		go func() {
			got, err := c.DoNormal("echo", []byte(strconv.Itoa(i)), "")
			if err == nil && string(got) != strconv.Itoa(i) {
				err = fmt.Errorf("call %d got %q", i, got)
			}
			errs <- err
		}()
	}
	requireQueuedWithFewThreads(t, srv, clients, before)

	startEchoWorkerProcess(t, srv)
	for range clients {
		require.NoError(t, <-errs)
	}
}

// TestSharedClientCloseEndsEveryCall: Close ends every call waiting on a
// shared Client with ErrClosed, and a later call fails the same way.
func TestSharedClientCloseEndsEveryCall(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c, err := gearman.NewClient()
	require.NoError(t, err)
	require.NoError(t, c.AddServer(srv.Host(), srv.Port()))
	const calls = 50
	errs := make(chan error, calls)
	for range calls {
		go func() {
			_, err := c.DoNormal("nobody", []byte("x"), "")
			errs <- err
		}()
	}
	require.True(t, eventually(concurrencyLimit, func() bool {
		total, _, _, _ := fltStatus(srv.Addr(), "nobody")
		return total == calls
	}), "all calls queued at gearmand")
	require.NoError(t, c.Close())
	for range calls {
		select {
		case err := <-errs:
			require.ErrorIs(t, err, gearman.ErrClosed)
		case <-time.After(concurrencyLimit):
			t.Fatal("a call outlived Close")
		}
	}
	_, err = c.DoNormal("nobody", []byte("x"), "")
	require.ErrorIs(t, err, gearman.ErrClosed)
}

// TestSharedClientCancelOneCall: one call's context ending returns that call
// at once; the other calls in flight on the same connection complete.
func TestSharedClientCancelOneCall(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	release := runHeldWorker(t, srv, 4)

	results := make(chan string, 3)
	for i := range 3 {
		go func() {
			got, err := c.DoNormal("held", []byte(strconv.Itoa(i)), "")
			if err != nil {
				got = []byte(err.Error())
			}
			results <- string(got)
		}()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan error, 1)
	go func() {
		_, err := c.DoNormalContext(ctx, "nobody", []byte("x"), "")
		cancelled <- err
	}()
	require.True(t, eventually(concurrencyLimit, func() bool {
		held, _, _, _ := fltStatus(srv.Addr(), "held")
		nobody, _, _, _ := fltStatus(srv.Addr(), "nobody")
		return held == 3 && nobody == 1
	}), "all four jobs at gearmand")
	cancel()
	select {
	case err := <-cancelled:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(concurrencyLimit):
		t.Fatal("the cancelled call did not return")
	}
	close(release)
	got := map[string]bool{}
	for range 3 {
		got[<-results] = true
	}
	require.Equal(t, map[string]bool{"0": true, "1": true, "2": true}, got)
}

// TestSharedClientSecondCallReachesServer: a call that arrives while the
// first caller drives the Client alone, waiting in libgearman's poll(), is
// sent at once (it once waited, unsent, until the first call's next packet).
func TestSharedClientSecondCallReachesServer(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	errs := make(chan error, 2)
	for i, function := range []string{"first", "second"} {
		go func() {
			_, err := c.DoNormal(function, []byte("x"), "")
			errs <- err
		}()
		require.True(t, eventually(concurrencyLimit, func() bool {
			total, _, _, _ := fltStatus(srv.Addr(), function)
			return total == 1
		}), "call %d (%s) queued at gearmand", i+1, function)
	}
	require.NoError(t, c.Close())
	for range 2 {
		require.ErrorIs(t, <-errs, gearman.ErrClosed)
	}
}

// TestSharedClientFirstCallReturnsWhileOthersWait: the call that began
// driving the Client returns once its own job is answered, although another
// call on the same connection has no answer yet (it once stayed to wait for
// that one).
func TestSharedClientFirstCallReturnsWhileOthersWait(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	release := runHeldWorker(t, srv, 1)

	first := make(chan error, 1)
	go func() {
		_, err := c.DoNormal("held", []byte("first"), "")
		first <- err
	}()
	require.True(t, eventually(concurrencyLimit, func() bool {
		_, running, _, _ := fltStatus(srv.Addr(), "held")
		return running == 1
	}), "the first call's job runs")
	second := make(chan error, 1)
	go func() {
		_, err := c.DoNormal("nobody", []byte("x"), "")
		second <- err
	}()
	require.True(t, eventually(concurrencyLimit, func() bool {
		total, _, _, _ := fltStatus(srv.Addr(), "nobody")
		return total == 1
	}), "the second call's job queued at gearmand")
	close(release)
	select {
	case err := <-first:
		require.NoError(t, err)
	case <-time.After(concurrencyLimit):
		t.Fatal("the first call did not return")
	}
	require.NoError(t, c.Close())
	require.ErrorIs(t, <-second, gearman.ErrClosed)
}

// runHeldWorker runs a Worker with slots slots of a function "held" that
// echoes each job once release is closed.
func runHeldWorker(t *testing.T, srv *gearmantest.Server, slots int) (release chan struct{}) {
	release = make(chan struct{})
	w := newWorker(t, srv)
	require.NoError(t, w.SetConcurrency(slots))
	require.NoError(t, w.AddFunction("held", func(job *gearman.Job, _ any) ([]byte, error) {
		<-release
		return job.Workload(), nil
	}, nil, 0))
	runCtx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go w.Run(runCtx)
	return release
}

// requireQueuedWithFewThreads waits until gearmand holds n "echo" jobs at
// once, and requires that the process meanwhile held at most 64 OS threads
// more than before.
func requireQueuedWithFewThreads(t *testing.T, srv *gearmantest.Server, n, before int) {
	t.Helper()
	peakThreads := 0
	require.True(t, eventually(concurrencyLimit, func() bool {
		peakThreads = max(peakThreads, osThreads(t))
		total, _, _, _ := fltStatus(srv.Addr(), "echo")
		return total == n
	}), "all %d jobs queued at gearmand at once", n)
	peakThreads = max(peakThreads, osThreads(t))
	t.Logf("OS threads: %d before, at most %d with %d calls waiting", before, peakThreads, n)
	require.LessOrEqual(t, peakThreads-before, 64, "OS threads added by %d waiting calls", n)
}
