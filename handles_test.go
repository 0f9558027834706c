//go:build cgo && linux

package gearman

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman/gearmantest"
)

// Every cgo.Handle given to libgearman is deleted when its owner is freed:
// worker functions live until Close, replaced and unregistered ones included.
func TestWorkerFunctionHandlesAreReleased(t *testing.T) {
	before := liveHandles.Load()
	w, err := NewWorker()
	require.NoError(t, err)
	fn := func(*Job, any) ([]byte, error) { return nil, nil }
	for _, name := range []string{"a", "b", "c"} {
		require.NoError(t, w.AddFunction(name, fn, nil, 0))
	}
	require.NoError(t, w.AddFunction("a", fn, nil, 5000)) // new timeout: the worker is rebuilt, 3 handles for 3
	require.NoError(t, w.Unregister("b"))                 // libgearman keeps b's entry until it is freed
	clone, err := w.Clone()                               // a and c
	require.NoError(t, err)
	require.Equal(t, before+3+2, liveHandles.Load())

	require.NoError(t, w.Close())
	require.NoError(t, clone.Close())
	require.Equal(t, before, liveHandles.Load())
}

// A logger's handle lives until Close, across SetLogger calls and clones.
func TestLoggerHandlesAreReleased(t *testing.T) {
	before := liveHandles.Load()
	c, err := NewClient()
	require.NoError(t, err)
	w, err := NewWorker()
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, c.SetLogger(slog.Default()))
		require.NoError(t, w.SetLogger(slog.Default()))
	}
	require.NoError(t, c.SetLogger(nil))
	require.NoError(t, c.SetLogger(slog.Default()))
	// The next call installs the logger, and with it the sink's one handle.
	require.NoError(t, c.AddServer("127.0.0.1", 4730))
	require.NoError(t, w.SetId("handles"))
	cc, err := c.Clone()
	require.NoError(t, err)
	wc, err := w.Clone()
	require.NoError(t, err)
	require.Equal(t, before+4, liveHandles.Load())
	for _, closer := range []interface{ Close() error }{c, w, cc, wc} {
		require.NoError(t, closer.Close())
	}
	require.Equal(t, before, liveHandles.Load())
}

// Each task's Go state travels to libgearman as a cgo.Handle, released by
// libgearman's task-context free hook: after 10 000 tasks the count is back
// where it started, counting tasks that finished, tasks abandoned by a
// cancelled RunTasksContext, and tasks left in libgearman when the client
// closed (a paused RunTasks).
func TestTaskHandlesReturnToZero(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w, err := NewWorker()
	require.NoError(t, err)
	require.NoError(t, w.AddServer(srv.Host(), srv.Port()))
	require.NoError(t, w.AddFunction("echo", func(j *Job, _ any) ([]byte, error) { return j.Workload(), nil }, nil, 0))
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- w.Run(ctx) }()
	defer func() { stop(); <-served; w.Close() }()

	before := liveHandles.Load()
	c, err := NewClient()
	require.NoError(t, err)
	require.NoError(t, c.AddServer(srv.Host(), srv.Port()))
	require.NoError(t, c.SetCompleteCallback(func(*Task, any) error { return nil }))

	// 9 000 tasks that finish.
	for i := 0; i < 9000; i++ {
		_, err := c.AddTask("echo", []byte("x"), nil, "")
		require.NoError(t, err)
	}
	require.NoError(t, c.RunTasks())
	require.Equal(t, before, liveHandles.Load())

	// 500 tasks nobody serves, abandoned by a cancel.
	for i := 0; i < 500; i++ {
		_, err := c.AddTask("nobody", []byte("x"), nil, "")
		require.NoError(t, err)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, c.RunTasksContext(cctx), context.DeadlineExceeded)
	require.Equal(t, before, liveHandles.Load())

	// 500 tasks left in libgearman by a paused RunTasks, then Close.
	require.NoError(t, c.SetCreatedCallback(func(*Task, any) error { return Pause }))
	for i := 0; i < 500; i++ {
		_, err := c.AddTask("echo", []byte("x"), nil, "")
		require.NoError(t, err)
	}
	require.NoError(t, c.RunTasks())
	require.Equal(t, Pause, c.ReturnCode())
	require.Greater(t, liveHandles.Load(), before)
	require.NoError(t, c.Close())
	require.Equal(t, before, liveHandles.Load())
}
