package gearman_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// TestLargeJobsCrossSliceEndsUnderLoad sends large jobs to fresh workers on
// a loaded machine, timed so that their transfer is under way when the slice
// watchdog ends the worker's idle wait. Every interrupt that lands in the
// middle of a transfer must wait for the transfer: each job runs once, and
// its result comes back byte for byte (libgearman 1.1.20 reads the rest of
// an interrupted job into freed memory).
func TestLargeJobsCrossSliceEndsUnderLoad(t *testing.T) {
	const (
		trials = 40
		slice  = 300 * time.Millisecond
	)
	defer gearman.ShortenWatchdogSliceForTest(slice)()
	startBusyLoops(t, 2)
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	runs := &runCounter{seen: map[uint64]int{}}

	heldBefore := gearman.WireHeldWaits()
	for trial := range uint64(trials) {
		size := 16 << 20
		if trial%2 == 0 {
			size = 64 << 20
		}
		workload := patterned(trial, size)
		w := newWorker(t, srv)
		require.NoError(t, w.AddFunction("xfer", runs.echo, nil, 0))
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		waitForWorker(t, srv, "xfer")
		// The worker's wait began about now: start the transfer somewhere
		// in its first slice, so that the slice ends while bytes flow.
		time.Sleep(time.Duration(rand.Int64N(int64(slice))))
		got, err := c.DoNormal("xfer", workload, "")
		require.NoError(t, err, "trial %d (%d MiB)", trial, size>>20)
		require.True(t, bytes.Equal(workload, got), "trial %d (%d MiB): the result differs from the workload at byte %d",
			trial, size>>20, firstDifference(workload, got))
		require.Equal(t, 1, runs.count(trial), "trial %d: runs of the job", trial)
		stop()
		require.NoError(t, <-done)
		require.NoError(t, w.Close())
	}
	// A job handed back by a dropped connection would run again later.
	badRequireQueues(t, srv, map[string]int{"xfer": 0})
	for trial := range uint64(trials) {
		require.Equal(t, 1, runs.count(trial), "trial %d: runs of the job at the end", trial)
	}
	t.Logf("waits held past an interrupt or a timeout mid-transfer: %d", gearman.WireHeldWaits()-heldBefore)
	require.Positive(t, gearman.WireHeldWaits()-heldBefore,
		"no slice ended during a transfer: the test did not test what it is for")
}

// runCounter counts the runs of each job, keyed by the number its workload
// starts with.
type runCounter struct {
	mu   sync.Mutex
	seen map[uint64]int
}

func (r *runCounter) echo(job *gearman.Job, _ any) ([]byte, error) {
	in := job.Workload()
	if len(in) >= 8 {
		r.mu.Lock()
		r.seen[binary.BigEndian.Uint64(in)]++
		r.mu.Unlock()
	}
	return in, nil
}

func (r *runCounter) count(id uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id]
}

// patterned returns size bytes that start with id and hold no zero run and
// no period short of 16 MiB, so that a lost or zeroed stretch shows.
func patterned(id uint64, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7+i>>16) | 1
	}
	binary.BigEndian.PutUint64(b, id)
	return b
}

func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// startBusyLoops keeps n processes spinning on the CPUs until the test ends:
// the load under which the bugs these tests guard against were found.
func startBusyLoops(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		cmd := exec.Command("sh", "-c", "while :; do :; done")
		require.NoError(t, cmd.Start(), "busy loop %d", i)
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Errorf("busy loop: %v", err)
			}
		})
	}
}
