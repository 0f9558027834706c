package gearman_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
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
// dereferences NULL. The worker must go on serving: in Run, in a Work loop,
// and in Run's slots, which wait in non-blocking mode.
func TestWorkerSurvivesLateResult(t *testing.T) {
	for _, mode := range []string{"Run", "Work", "Slots"} {
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
			if mode == "Slots" {
				require.NoError(t, w.SetConcurrency(2))
			}
			go func() {
				if mode != "Work" {
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

// Run's slots waiting for jobs hold no OS thread in C: with 200 idle slots,
// no thread of the process sits in poll(), where each slot's wait used to
// block one (the threads the slots' start-up made stay, idle, in Go's own
// pool, so the thread count alone would not tell).
func TestIdleSlotsHoldNoThreads(t *testing.T) {
	const slots = 200
	srv := gearmantest.NewServer(t)
	w := newWorker(t, srv)
	require.NoError(t, w.AddFunction("idle", echo, nil, 0))
	require.NoError(t, w.SetConcurrency(slots))
	serve(t, srv, w, "idle")
	require.True(t, eventually(20*time.Second, func() bool {
		_, _, n, _ := fltStatus(srv.Addr(), "idle")
		return n >= slots
	}), "gearmand never listed %d workers", slots)
	time.Sleep(200 * time.Millisecond) // every slot asleep in its wait
	inPoll := threadsInSyscall(t, syscall.SYS_POLL)
	t.Logf("threads: %d, of which in poll(): %d, with %d idle slots (GOMAXPROCS %d)",
		osThreads(t), inPoll, slots, runtime.GOMAXPROCS(0))
	require.Less(t, inPoll, slots/10, "idle slots block threads in poll()")
}

// threadsInSyscall counts this process's threads blocked in system call nr,
// from /proc/self/task/*/syscall.
func threadsInSyscall(t *testing.T, nr int) int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	require.NoError(t, err)
	n := 0
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/syscall")
		if err != nil {
			continue // the thread ended meanwhile
		}
		if f := strings.Fields(string(b)); len(f) > 0 && f[0] == strconv.Itoa(nr) {
			n++
		}
	}
	return n
}

// A slot receives a large job across many netpoller waits, and Run's
// context ending while it arrives neither cuts it nor loses it: the job runs
// once and its result comes back whole.
func TestSlotsServeLargeJobAcrossWaits(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	runs := &runCounter{seen: map[uint64]int{}}
	w := newWorker(t, srv)
	require.NoError(t, w.AddFunction("xfer", runs.echo, nil, 0))
	require.NoError(t, w.SetConcurrency(2))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- w.Run(ctx) }()
	waitForWorker(t, srv, "xfer")

	workload := patterned(3, 64<<20)
	result := doNormalHandedOut(t, c, srv, "xfer", workload)
	cancel()
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not stop")
	}
	got := <-result
	require.True(t, bytes.Equal(workload, got), "the result differs at byte %d", firstDifference(workload, got))
	require.Equal(t, 1, runs.count(3), "runs of the job")
}
