package gearman_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// A job that outlives its function's timeout gets its result refused:
// gearmand answers the late WORK_COMPLETE with ERROR, which reaches the
// worker's next GRAB_JOB as UNEXPECTED_PACKET. libgearman 1.1.20 in
// non-blocking mode then keeps a state without a job, and its next call
// dereferences NULL. The worker must replace its libgearman worker and go on
// serving, both in Run and in a Work loop.
func TestWorkerSurvivesLateResult(t *testing.T) {
	for _, mode := range []string{"Run", "Work"} {
		t.Run(mode, func(t *testing.T) {
			// With one try, gearmand fails the job at its timeout instead
			// of handing it out again.
			srv := gearmantest.NewServer(t, gearmantest.WithJobRetries(1))
			w := newWorker(t, srv)
			var lateDone atomic.Int32
			require.NoError(t, w.AddFunction("late", func(job *gearman.Job, _ any) ([]byte, error) {
				time.Sleep(1500 * time.Millisecond) // gearmand's timeout is 1 s
				lateDone.Add(1)
				return []byte("too late"), nil
			}, nil, 1000))
			require.NoError(t, w.AddFunction("echo", echo, nil, 0))

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			served := make(chan error, 1)
			var workErrs atomic.Int32
			go func() {
				if mode == "Run" {
					served <- w.Run(ctx)
					return
				}
				for ctx.Err() == nil {
					if err := w.WorkContext(ctx); err != nil && ctx.Err() == nil {
						workErrs.Add(1)
						if errors.Is(err, gearman.ErrClosed) {
							served <- err
							return
						}
					}
				}
				served <- nil
			}()
			waitForWorker(t, srv, "late", "echo")

			c := newClient(t, srv)
			_, err := c.DoNormal("late", []byte("x"), "")
			require.Error(t, err, "gearmand ends the job at its timeout")
			require.True(t, eventually(10*time.Second, func() bool { return lateDone.Load() == 1 }), "the late function never returned")

			// The next jobs: the worker has met the ERROR answer by then.
			for i := range 3 {
				out, err := callWithin(t, 20*time.Second, func() ([]byte, error) { return c.DoNormal("echo", []byte("after"), "") })
				require.NoError(t, err, "job %d after the late result", i)
				require.Equal(t, "after", string(out))
			}
			cancel()
			select {
			case err := <-served:
				require.NoError(t, err)
			case <-time.After(20 * time.Second):
				t.Fatal("the worker did not stop")
			}
			t.Logf("%s: Work errors on the way: %d", mode, workErrs.Load())
		})
	}
}

// callWithin runs call on a goroutine and fails the test if it takes longer
// than limit.
func callWithin(t *testing.T, limit time.Duration, call func() ([]byte, error)) ([]byte, error) {
	t.Helper()
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := call()
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		return r.out, r.err
	case <-time.After(limit):
		t.Fatalf("the call took more than %v", limit)
		return nil, nil
	}
}

// A Worker waiting for jobs holds no OS thread: 200 slots of Run, each
// waiting for a job on its own connection, park in Go's netpoller, and the
// process gains far fewer threads than slots.
func TestIdleSlotsHoldNoThreads(t *testing.T) {
	const slots = 200
	srv := gearmantest.NewServer(t)
	before := osThreads(t)
	w := newWorker(t, srv)
	require.NoError(t, w.AddFunction("idle", echo, nil, 0))
	require.NoError(t, w.SetConcurrency(slots))
	serve(t, srv, w, "idle")
	require.True(t, eventually(20*time.Second, func() bool {
		_, _, n, _ := fltStatus(srv.Addr(), "idle")
		return n >= slots
	}), "gearmand never listed %d workers", slots)
	time.Sleep(200 * time.Millisecond) // every slot asleep in its wait
	during := osThreads(t)
	t.Logf("threads: %d before, %d with %d idle slots (GOMAXPROCS %d)", before, during, slots, runtime.GOMAXPROCS(0))
	require.Less(t, during-before, slots/4, "idle slots hold OS threads")
}
