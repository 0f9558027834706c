//go:build cgo && linux

package gearman

import (
	"io"
	"log/slog"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman/gearmantest"
)

// TestNoCMemoryOutlivesJobs runs rounds of a foreground job, a background
// job and a batch of tasks with callbacks through an in-process client and
// worker, and checks with malloc's own count that C memory in use does not
// grow with the number of jobs: libgearman's, the binding's task records and
// names, and the worker's jobs are all given back.
func TestNoCMemoryOutlivesJobs(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := connectedWorker(t, srv)
	require.NoError(t, w.AddFunction("echo", func(j *Job, _ any) ([]byte, error) {
		assert.NoError(t, j.SendStatus(1, 2)) // on Work's goroutine: no FailNow
		return j.Workload(), nil
	}, nil, 0))
	c := connectedClient(t, srv)
	completed := 0
	require.NoError(t, c.SetCompleteCallback(func(*Task, any) error { completed++; return nil }))
	require.NoError(t, c.SetStatusCallback(func(*Task, any) error { return nil }))

	payload := make([]byte, 100)
	round := func() {
		require.NoError(t, w.Work()) // the DoBackground's job, or a task's
		for range 4 {
			_, err := c.AddTask("echo", payload, nil, "")
			require.NoError(t, err)
		}
		done := make(chan error, 1)
		go func() {
			for range 4 {
				if err := w.Work(); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		require.NoError(t, c.RunTasks())
		require.NoError(t, <-done)
		go func() { done <- w.Work() }()
		res, err := c.DoNormal("echo", payload, "")
		require.NoError(t, err)
		require.Len(t, res, len(payload))
		require.NoError(t, <-done)
		_, err = c.DoBackground("echo", payload, "")
		require.NoError(t, err)
	}
	_, err := c.DoBackground("echo", payload, "")
	require.NoError(t, err)
	for range 200 { // warm up: connections, buffers, malloc's caches
		round()
	}
	before := cHeapInUse()
	const rounds = 1500 // 9 000 jobs
	for range rounds {
		round()
	}
	grown := cHeapInUse() - before
	t.Logf("C memory in use grew by %d bytes over %d jobs", grown, 6*rounds)
	require.Equal(t, 4*(200+rounds), completed, "tasks completed")
	// A leak of 8 bytes a job would show as 72 000; malloc's per-thread
	// caches move the count by a few KiB.
	require.Less(t, grown, 32<<10, "C memory in use after %d more jobs", 6*rounds)
}

// TestGrabbedJobRecordsFreed checks that the C record of a grabbed job is
// freed both when the job is completed and when its worker is closed first
// (libgearman then frees the job itself, the binding only its record).
func TestGrabbedJobRecordsFreed(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := connectedClient(t, srv)
	before := grabbedJobsLive()
	grab := func() (*Worker, *Job) {
		w := connectedWorker(t, srv)
		require.NoError(t, w.Register("grab", 0))
		_, err := c.DoBackground("grab", []byte("x"), "")
		require.NoError(t, err)
		job, err := w.GrabJob()
		require.NoError(t, err)
		require.Equal(t, before+1, grabbedJobsLive())
		return w, job
	}

	_, completed := grab()
	require.Equal(t, "x", string(completed.Workload()))
	require.NoError(t, completed.SendComplete(nil))
	require.Equal(t, before, grabbedJobsLive(), "after SendComplete")

	w, abandoned := grab()
	require.NoError(t, w.Close())
	require.Equal(t, before, grabbedJobsLive(), "after the worker's Close")
	require.ErrorIs(t, abandoned.SendComplete(nil), ErrClosed)
}

// connectedWorker and connectedClient are newWorker and newClient of the
// external tests, for tests inside the package.
func connectedWorker(t *testing.T, srv *gearmantest.Server) *Worker {
	w, err := NewWorker()
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	require.NoError(t, w.AddServer(srv.Host(), srv.Port()))
	return w
}

func connectedClient(t *testing.T, srv *gearmantest.Server) *Client {
	c, err := NewClient()
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.AddServer(srv.Host(), srv.Port()))
	return c
}

// TestForgottenObjectsFreedByGC drops 300 Clients and 100 Workers without
// Close, each connected to gearmand, with a logger, callbacks or functions
// set, and requires the process's descriptors and C memory in use to come
// back to where they were once the garbage collector has run: a port of PHP
// code that makes a client per call and never closes it leaks nothing.
func TestForgottenObjectsFreedByGC(t *testing.T) {
	srv := gearmantest.NewServer(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: LevelCrazy}))
	use := func() {
		for i := range 300 {
			c, err := NewClient()
			require.NoError(t, err)
			require.NoError(t, c.AddServer(srv.Host(), srv.Port()))
			c.SetLogger(logger)
			require.NoError(t, c.SetCompleteCallback(func(*Task, any) error { return nil }))
			_, err = c.DoBackground("forgotten", []byte("x"), "")
			require.NoError(t, err, "client %d", i)
		}
		for i := range 100 {
			w, err := NewWorker()
			require.NoError(t, err)
			require.NoError(t, w.AddServer(srv.Host(), srv.Port()))
			w.SetLogger(logger)
			require.NoError(t, w.AddFunction("forgotten-fn", func(*Job, any) ([]byte, error) { return nil, nil }, nil, 0))
			require.NoError(t, w.Register("forgotten-reg", 0))
			require.NoError(t, w.Ping([]byte("x")), "worker %d", i)
		}
	}
	// freed collects until the descriptors are back to fds, for up to a
	// minute: cleanups run on their own goroutine after a GC cycle.
	freed := func(fds int) bool {
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			runtime.GC()
			if openFDs(t) <= fds {
				return true
			}
		}
		return false
	}
	fds := openFDs(t)
	use() // also warms up malloc's arenas and Go's threads
	require.True(t, freed(fds), "descriptors: %d before, %d after GC", fds, openFDs(t))
	heap := cHeapInUse()

	use()
	during := openFDs(t)
	require.GreaterOrEqual(t, during-fds, 300+3*100, "each client holds a socket, each worker a socket and a pipe")
	require.True(t, freed(fds), "descriptors: %d before, %d with the objects, %d after GC", fds, during, openFDs(t))
	grown := cHeapInUse() - heap
	t.Logf("descriptors %d, %d with the objects, %d after GC; C memory in use grew by %d bytes", fds, during, openFDs(t), grown)
	require.Less(t, grown, 256<<10, "C memory in use after 400 objects were collected")
}

// openFDs counts the process's open file descriptors.
func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(entries)
}
