package gearman_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// withProcs runs f with GOMAXPROCS set to n, and waits following it.
func withProcs(n int, f func()) {
	old := runtime.GOMAXPROCS(n)
	gearman.RefreshWaitsOnP()
	defer func() {
		runtime.GOMAXPROCS(old)
		gearman.RefreshWaitsOnP()
	}()
	f()
}

// With one P, the waits of a sequential caller and of a lone worker begin
// on the P (sched.go); with two, they block in C from the start.
func TestWaitsOnPFollowGOMAXPROCS(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo})
	c := newClient(t, srv)
	do := func(n int) {
		for i := range n {
			payload := []byte(strconv.Itoa(i))
			out, err := c.DoNormal("echo", payload, "")
			require.NoError(t, err)
			require.Equal(t, payload, out)
		}
	}
	jobs := func() int64 {
		do(3) // a wait that began before the change ends as it began
		before := gearman.WaitsEndedOnP()
		do(100)
		return gearman.WaitsEndedOnP() - before
	}
	withProcs(1, func() { require.Positive(t, jobs(), "waits ended on the P with one P") })
	withProcs(2, func() { require.Zero(t, jobs(), "waits ended on the P with two Ps") })
}

// A wait on the only P must not keep the rest of the program from running:
// timers fire, the garbage collector stops the world, and a context or Close
// ends the wait of a caller and of a worker. The waits stay on the P for an
// hour here, so that only the runtime's preemption, a stop of the world or
// the wake-up fds in the raw poll can let any of that happen.
func TestWaitOnPLetsProgramRun(t *testing.T) {
	defer gearman.LengthenWaitsOnPForTest(time.Hour)()
	withProcs(1, func() {
		srv := gearmantest.NewServer(t)
		w := newWorker(t, srv)
		require.NoError(t, w.AddFunction("idle", echo, nil, 0))
		ran := make(chan error, 1)
		go func() { ran <- w.Run(context.Background()) }()
		waitForWorker(t, srv, "idle")

		for range 20 { // the worker waits for a job meanwhile
			time.Sleep(time.Millisecond)
		}
		runtime.GC()

		c := newClient(t, srv)
		ctx, cancel := context.WithCancel(context.Background())
		called := make(chan error, 1)
		go func() {
			_, err := c.DoNormalContext(ctx, "nobody-serves-this", []byte("x"), "")
			called <- err
		}()
		require.Eventually(t, func() bool {
			out, err := gearmantest.AdminCommand(srv.Addr(), "status", time.Second)
			total, _, _, ok := functionStatus(out, "nobody-serves-this")
			return err == nil && ok && total == 1
		}, 10*time.Second, 10*time.Millisecond)
		cancel()
		select {
		case err := <-called:
			require.ErrorIs(t, err, context.Canceled)
		case <-time.After(10 * time.Second):
			t.Fatal("a cancelled context did not end the caller's wait")
		}

		require.NoError(t, w.Close())
		select {
		case err := <-ran:
			if err != nil && !errors.Is(err, gearman.ErrClosed) {
				t.Fatalf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not end the worker's wait")
		}
	})
}
