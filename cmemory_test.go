//go:build cgo

package gearman

import (
	"testing"

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
