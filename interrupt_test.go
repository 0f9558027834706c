package gearman_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// An interrupted wait of a lone worker (a context's end, Run's stop) ends at
// a packet boundary the way a timeout does there: the worker goes on with the
// connection it had, with nothing to rebuild or register again.
func TestInterruptedWorkerKeepsConnection(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := fltWorker(t, srv.Addr())
	require.NoError(t, w.AddFunction("int-keep", echo, nil, 0))

	var conns []string
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.WorkContext(ctx) }()
		waitForWorker(t, srv, "int-keep")
		if conns == nil {
			conns = establishedTo(t, srv.Port())
			require.Len(t, conns, 1, "the worker's connections to gearmand")
		}
		cancel()
		require.ErrorIs(t, endedWithin(t, 10*time.Second, "WorkContext", done), context.Canceled, "cancel %d", i)
		require.Equal(t, conns, establishedTo(t, srv.Port()), "cancel %d: the worker changed connections", i)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	cancel()
	require.NoError(t, endedWithin(t, 10*time.Second, "Run", done))
	require.Equal(t, conns, establishedTo(t, srv.Port()), "Run's stop: the worker changed connections")

	// The connection still serves: a job reaches the worker on it.
	worked := make(chan error, 1)
	go func() { worked <- w.Work() }()
	c := fltClient(t, srv.Addr())
	out, d, err := fltCall(t, 10*time.Second, "DoNormal", func() ([]byte, error) {
		return c.DoNormal("int-keep", []byte("still here"), "")
	})
	require.NoError(t, err, "after %v", d)
	require.Equal(t, "still here", string(out))
	require.NoError(t, endedWithin(t, 10*time.Second, "Work", worked))
	require.Contains(t, establishedTo(t, srv.Port()), conns[0], "the job came on another connection")
	require.Equal(t, gearman.Success, w.ReturnCode())
}
