package gearman_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// Run serves the jobs of a few milliseconds in one call of its loop (a batch,
// worknet.go). These tests hold a batch to what Run did job by job: it stops
// where Run would have stopped, Work stays one job, and the idle slice still
// bounds the waits a batch goes on to. They lengthen
// the batches, so that on a slow machine too the queued jobs and the wait
// after them fall into one.

// queueJobs submits n background jobs of function, to be found waiting by a
// worker that starts afterwards.
func queueJobs(t *testing.T, addr, function string, n int) {
	t.Helper()
	c := fltClient(t, addr)
	for range n {
		_, err := c.DoBackground(function, []byte("queued"), "")
		require.NoError(t, err)
	}
	total, _, _, ok := fltStatus(addr, function)
	require.True(t, ok)
	require.GreaterOrEqual(t, total, n, "jobs queued")
}

// A job that ends Run's context is the last one Run runs, even with more
// waiting. The context's watcher interrupts the batch from its own
// goroutine, which with one P cannot run before the job's goroutine has gone
// back into C and taken the next job: so the test runs with one P, and the
// batch itself must look at the context after each job.
func TestRunStopsAtTheJobThatEndsItsContext(t *testing.T) {
	srv := gearmantest.NewServer(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	t.Cleanup(gearman.LengthenBatchesForTest(time.Minute))
	for round := range 3 {
		queueJobs(t, srv.Addr(), "batch-stop", 3)
		w := fltWorker(t, srv.Addr())
		ctx, cancel := context.WithCancel(context.Background())
		var ran atomic.Int32
		require.NoError(t, w.AddFunction("batch-stop", func(job *gearman.Job, _ any) ([]byte, error) {
			ran.Add(1)
			cancel()
			return nil, nil
		}, nil, 0))
		_, err := fltCallErr(t, 10*time.Second, "Run", func() error { return w.Run(ctx) })
		require.NoError(t, err)
		require.Equal(t, int32(1), ran.Load(), "round %d: jobs run, the first of which ended the context", round)
		require.NoError(t, w.Close())
	}
}

// Work runs one job, as in PHP, however many are waiting.
func TestWorkRunsOneJobWithMoreWaiting(t *testing.T) {
	srv := gearmantest.NewServer(t)
	queueJobs(t, srv.Addr(), "batch-one", 3)
	w := fltWorker(t, srv.Addr())
	var ran atomic.Int32
	require.NoError(t, w.AddFunction("batch-one", func(job *gearman.Job, _ any) ([]byte, error) {
		ran.Add(1)
		return nil, nil
	}, nil, 0))
	for i := 1; i <= 3; i++ {
		_, err := fltCallErr(t, 10*time.Second, "Work", w.Work)
		require.NoError(t, err)
		require.Equal(t, int32(i), ran.Load(), "jobs run by %d Work calls", i)
	}
}

// The idle slice bounds a wait that a batch went on to after its jobs: the
// worker, idle on one server after the jobs it found queued there, registers
// with another that comes up meanwhile.
func TestIdleSliceBoundsWaitAfterBatch(t *testing.T) {
	t.Cleanup(gearman.LengthenBatchesForTest(time.Minute)) // first in, last out: after Run's end
	s0, s1 := gearmantest.NewServer(t), gearmantest.NewServer(t)
	s1.Stop()
	queueJobs(t, s0.Addr(), "batch-up", 3)
	w := fltWorker(t, s0.Addr()+","+s1.Addr())
	ran := make(chan string, 8)
	require.NoError(t, w.AddFunction("batch-up", func(job *gearman.Job, _ any) ([]byte, error) {
		ran <- string(job.Workload())
		return job.Workload(), nil
	}, nil, 0))
	fltRun(t, w)
	for i := range 3 {
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of 3 queued jobs ran", i)
		}
	}
	time.Sleep(300 * time.Millisecond) // asleep on s0
	requireServedOnceUp(t, s1, "batch-up")
}
