package gearman_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// TestGrabJobLoop takes jobs with GrabJob across empty queues. libgearman
// 1.1.20 dereferences NULL on its third grab after a job and an empty answer
// (PHP's grabJob crashes there).
func TestGrabJobLoop(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	w := newWorker(t, srv)
	require.NoError(t, w.Register("grab", 0))
	require.NoError(t, w.SetTimeout(200))

	grabAll := func(n int) []string {
		t.Helper()
		var got []string
		for range n {
			job, err := w.GrabJob()
			require.NoError(t, err)
			got = append(got, string(job.Workload()))
			require.NoError(t, job.SendComplete(nil))
		}
		return got
	}
	queue := func(names ...string) {
		t.Helper()
		for _, n := range names {
			_, err := c.DoBackground("grab", []byte(n), "")
			require.NoError(t, err)
		}
	}

	queue("first")
	require.Equal(t, []string{"first"}, grabAll(1))
	for i := range 4 {
		_, err := w.GrabJob()
		require.ErrorIs(t, err, gearman.Timeout, "empty queue, GrabJob %d", i+1)
	}
	queue("a", "b", "c", "d", "e")
	require.ElementsMatch(t, []string{"a", "b", "c", "d", "e"}, grabAll(5))
	_, err := w.GrabJob()
	require.ErrorIs(t, err, gearman.Timeout)

	// Jobs held at once, completed in the other order.
	queue("x", "y")
	first, err := w.GrabJob()
	require.NoError(t, err)
	second, err := w.GrabJob()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"x", "y"}, []string{string(first.Workload()), string(second.Workload())})
	require.NoError(t, second.SendComplete(nil))
	require.NoError(t, first.SendComplete(nil))
	badRequireQueues(t, srv, map[string]int{"grab": 0})
}

// TestGrabbedJobCompletesWhileGrabJobWaits completes a grabbed job while
// another GrabJob on the same Worker waits for a job.
func TestGrabbedJobCompletesWhileGrabJobWaits(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	w := newWorker(t, srv)
	require.NoError(t, w.Register("grab", 0))

	result := make(chan string, 1)
	go func() {
		out, err := c.DoNormal("grab", []byte("in"), "")
		if err != nil {
			result <- "error: " + err.Error()
			return
		}
		result <- string(out)
	}()
	job, err := w.GrabJob()
	require.NoError(t, err)

	waiting := make(chan error, 1)
	go func() { _, err := w.GrabJob(); waiting <- err }()
	// The waiting GrabJob has its own connection to gearmand, registered
	// for "grab" beside the grabbed job's.
	require.True(t, eventually(10*time.Second, func() bool { return grabConnections(srv) >= 2 }),
		"the second GrabJob never connected")

	sent := make(chan error, 1)
	go func() { sent <- job.SendComplete([]byte("out")) }()
	select {
	case err := <-sent:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("SendComplete waited behind the GrabJob")
	}
	require.Equal(t, "out", <-result)
	select {
	case err := <-waiting:
		t.Fatalf("GrabJob returned without a job: %v", err)
	default:
	}
	require.NoError(t, w.Close())
	require.ErrorIs(t, <-waiting, gearman.ErrClosed)
}

// grabConnections counts the worker connections gearmand lists for "grab".
func grabConnections(srv *gearmantest.Server) int {
	out, err := gearmantest.AdminCommand(srv.Addr(), "workers", time.Second)
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(strings.TrimSpace(line), ": grab") || strings.Contains(line, ": grab ") {
			n++
		}
	}
	return n
}

// TestGrabJobNonBlocking runs PHP's non-blocking loop: GrabJob, and Wait
// while it answers IOWait or NoJobs. libgearman 1.1.20 crashes on the grab
// after an empty answer that followed IO_WAIT.
func TestGrabJobNonBlocking(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	w := newWorker(t, srv)
	require.NoError(t, w.Register("grab", 0))
	require.NoError(t, w.AddOptions(gearman.WorkerNonBlocking))
	require.NoError(t, w.SetTimeout(100))

	var got []string
	empty := 0
	for i := 0; len(got) < 3; i++ {
		require.Less(t, i, 5000, "no progress: %d jobs after %d GrabJob calls", len(got), i)
		if empty == 10 { // the worker has asked on an empty queue: queue the next job
			_, err := c.DoBackground("grab", []byte(fmt.Sprint(len(got))), "")
			require.NoError(t, err)
			empty++
		}
		job, err := w.GrabJob()
		if err == nil {
			got = append(got, string(job.Workload()))
			require.NoError(t, job.SendComplete(nil))
			empty = 0
			continue
		}
		switch {
		case errors.Is(err, gearman.NoJobs):
			empty++
		case errors.Is(err, gearman.IOWait):
			if err := w.Wait(); err != nil {
				require.ErrorIs(t, err, gearman.Timeout)
			}
		default:
			require.NoError(t, err)
		}
	}
	require.Equal(t, []string{"0", "1", "2"}, got)
}
