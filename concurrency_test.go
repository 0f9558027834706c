package gearman_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// concurrencyLimit bounds every wait of these tests; they assert counts, not
// times.
const concurrencyLimit = 60 * time.Second

// runningCounter counts the jobs running at once, and its peak.
type runningCounter struct {
	now, peak atomic.Int32
}

func (r *runningCounter) enter() {
	n := r.now.Add(1)
	for {
		p := r.peak.Load()
		if n <= p || r.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (r *runningCounter) leave() { r.now.Add(-1) }

// TestSetConcurrencyServesJobsAtOnce: with SetConcurrency(8), Run has 8 jobs
// running at once and never more; 32 jobs from 32 clients all complete.
func TestSetConcurrencyServesJobsAtOnce(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.Equal(t, 1, w.Concurrency(), "PHP's behaviour by default")
	require.NoError(t, w.SetConcurrency(8))
	require.Equal(t, 8, w.Concurrency())
	var running runningCounter
	allEight := make(chan struct{})
	var once sync.Once
	require.NoError(t, w.AddFunction("slow", func(job *gearman.Job, _ any) ([]byte, error) {
		running.enter()
		defer running.leave()
		if running.peak.Load() >= 8 {
			once.Do(func() { close(allEight) })
		}
		select { // hold the slot until 8 run at once, so the peak is seen
		case <-allEight:
		case <-time.After(concurrencyLimit):
		}
		return append([]byte("done:"), job.Workload()...), nil
	}, nil, 0))
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- w.Run(ctx) }()

	results := make(chan string, 32)
	for i := range 32 {
		go func() {
			c, err := gearman.NewClient()
			if err != nil {
				results <- err.Error()
				return
			}
			defer c.Close()
			c.AddServer(srv.Host(), srv.Port())
			c.SetTimeout(int(concurrencyLimit / time.Millisecond))
			res, err := c.DoNormal("slow", []byte(fmt.Sprint(i)), "")
			if err != nil {
				results <- err.Error()
				return
			}
			results <- string(res)
		}()
	}
	seen := map[string]bool{}
	for range 32 {
		seen[<-results] = true
	}
	for i := range 32 {
		require.True(t, seen[fmt.Sprintf("done:%d", i)], "job %d: %v", i, seen)
	}
	require.EqualValues(t, 8, running.peak.Load(), "jobs running at once")
	cancel()
	require.NoError(t, <-ran)
}

// TestConcurrentRunStopsGracefully: when Run's context ends, every job in
// hand finishes and its result reaches its client; their contexts are not
// ended by that stop; Run then returns nil.
func TestConcurrentRunStopsGracefully(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.SetConcurrency(4))
	var running runningCounter
	release := make(chan struct{})
	ctxErrs := make(chan error, 4)
	require.NoError(t, w.AddFunction("held", func(job *gearman.Job, _ any) ([]byte, error) {
		running.enter()
		<-release
		ctxErrs <- job.Context().Err()
		return job.Workload(), nil
	}, nil, 0))
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- w.Run(ctx) }()

	c := newClient(t, srv)
	for i := range 4 {
		_, err := c.AddTask("held", []byte(fmt.Sprint(i)), nil, "")
		require.NoError(t, err)
	}
	var done atomic.Int32
	require.NoError(t, c.SetCompleteCallback(func(*gearman.Task, any) error { done.Add(1); return nil }))
	tasks := make(chan error, 1)
	go func() { tasks <- c.RunTasks() }()
	require.True(t, eventually(concurrencyLimit, func() bool { return running.now.Load() == 4 }), "4 jobs in hand")
	cancel()
	time.Sleep(50 * time.Millisecond) // let the stop reach every slot before the jobs end
	close(release)
	require.NoError(t, <-tasks)
	require.EqualValues(t, 4, done.Load(), "every result was sent")
	for range 4 {
		require.NoError(t, <-ctxErrs, "Run's stop does not end a job's context")
	}
	select {
	case err := <-ran:
		require.NoError(t, err)
	case <-time.After(concurrencyLimit):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestJobContextTimeout: a job's context ends when its function's timeout
// from AddFunction has passed.
func TestJobContextTimeout(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	got := make(chan error, 1)
	require.NoError(t, w.AddFunction("bounded", func(job *gearman.Job, _ any) ([]byte, error) {
		dl, ok := job.Context().Deadline()
		if !ok || time.Until(dl) > 1500*time.Millisecond {
			got <- fmt.Errorf("deadline %v, %v", dl, ok)
			return nil, nil
		}
		select {
		case <-job.Context().Done():
			got <- job.Context().Err()
		case <-time.After(concurrencyLimit):
			got <- errors.New("not done")
		}
		return nil, nil
	}, nil, 1000))
	c := newClient(t, srv)
	_, err := c.DoBackground("bounded", []byte("x"), "")
	require.NoError(t, err)
	require.NoError(t, w.Work())
	require.ErrorIs(t, <-got, context.DeadlineExceeded)
}

// TestJobContextWorkerClosed: Close ends the context of the jobs in hand,
// with several slots too, and a job without a timeout has no deadline.
func TestJobContextWorkerClosed(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.SetConcurrency(3))
	var running runningCounter
	got := make(chan error, 3)
	require.NoError(t, w.AddFunction("long", func(job *gearman.Job, _ any) ([]byte, error) {
		if _, ok := job.Context().Deadline(); ok {
			got <- errors.New("a deadline without a timeout")
			return nil, nil
		}
		running.enter()
		select {
		case <-job.Context().Done():
			got <- job.Context().Err()
		case <-time.After(concurrencyLimit):
			got <- errors.New("not done")
		}
		return nil, nil
	}, nil, 0))
	ran := make(chan error, 1)
	go func() { ran <- w.Run(context.Background()) }()
	c := newClient(t, srv)
	for range 3 {
		_, err := c.DoBackground("long", []byte("x"), "")
		require.NoError(t, err)
	}
	require.True(t, eventually(concurrencyLimit, func() bool { return running.now.Load() == 3 }), "3 jobs in hand")
	require.NoError(t, w.Close())
	for range 3 {
		require.ErrorIs(t, <-got, context.Canceled)
	}
	require.ErrorIs(t, <-ran, gearman.ErrClosed)
}

// TestSetConcurrencyArguments: out-of-range values are refused; Work runs
// one job whatever the concurrency.
func TestSetConcurrencyArguments(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.ErrorIs(t, w.SetConcurrency(0), gearman.InvalidArgument)
	require.ErrorIs(t, w.SetConcurrency(-1), gearman.InvalidArgument)
	require.ErrorIs(t, w.SetConcurrency(1025), gearman.InvalidArgument)
	require.Equal(t, 1, w.Concurrency())
	require.NoError(t, w.SetConcurrency(4))
	var jobs atomic.Int32
	require.NoError(t, w.AddFunction("count", func(*gearman.Job, any) ([]byte, error) { jobs.Add(1); return nil, nil }, nil, 0))
	c := newClient(t, srv)
	for range 3 {
		_, err := c.DoBackground("count", []byte("x"), "")
		require.NoError(t, err)
	}
	require.NoError(t, w.Work())
	require.EqualValues(t, 1, jobs.Load(), "Work runs exactly one job")
	require.NoError(t, w.Close())
	require.ErrorIs(t, w.SetConcurrency(2), gearman.ErrClosed)
}
