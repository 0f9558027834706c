package gearman_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// newClient returns a client on srv, closed when the test ends.
func newClient(t testing.TB, srv *gearmantest.Server) *gearman.Client {
	t.Helper()
	c, err := gearman.NewClient()
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.AddServer(srv.Host(), srv.Port()))
	return c
}

// startWorker runs a worker with funcs on srv until the test ends.
func startWorker(t testing.TB, srv *gearmantest.Server, funcs map[string]gearman.WorkerFunc) *gearman.Worker {
	t.Helper()
	w, err := gearman.NewWorker()
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() }) // after serve's clean-up: Run has returned
	require.NoError(t, w.AddServer(srv.Host(), srv.Port()))
	for name, fn := range funcs {
		require.NoError(t, w.AddFunction(name, fn, nil, 0))
	}
	serve(t, srv, w, slices.Collect(maps.Keys(funcs))...)
	return w
}

// serve runs w until the test ends, and waits until srv lists a worker for
// every function, so that a test's first job does not race the registration.
func serve(t testing.TB, srv *gearmantest.Server, w *gearman.Worker, functions ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := w.Run(ctx); err != nil && !errors.Is(err, gearman.ErrClosed) {
			t.Errorf("worker Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	waitForWorker(t, srv, functions...)
}

// waitForWorker waits until the server lists a worker for every function.
func waitForWorker(t testing.TB, srv *gearmantest.Server, functions ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		out, err := gearmantest.AdminCommand(srv.Addr(), "status", time.Second)
		if err != nil {
			return false
		}
		for _, name := range functions {
			if !statusHasWorker(out, name) {
				return false
			}
		}
		return true
	}, 5*time.Second, 10*time.Millisecond)
}

func statusHasWorker(status, function string) bool {
	_, _, workers, ok := functionStatus(status, function)
	return ok && workers > 0
}

// eventually polls cond every 10 ms and reports whether it held within limit:
// for waits whose failure the caller reports in its own words.
func eventually(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func echo(job *gearman.Job, _ any) ([]byte, error) { return job.Workload(), nil }

func reverse(job *gearman.Job, _ any) ([]byte, error) {
	in := job.Workload()
	out := make([]byte, len(in))
	for i, b := range in {
		out[len(in)-1-i] = b
	}
	return out, nil
}

// endedWithin returns what call sends on done, or fails the test when
// nothing comes within limit: a call that should end, and hangs.
func endedWithin(t testing.TB, limit time.Duration, call string, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Fatalf("%s did not end within %v", call, limit)
		return nil
	}
}
