package gearman_test

import (
	"context"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// TestPingsRunAtOnce: 8 Pings on one Client against a stalled server each
// hold a connection to it at the same time (they once took turns); their
// context ending returns them all, and Close returns one in progress.
func TestPingsRunAtOnce(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	require.NoError(t, c.Ping([]byte("up")))
	proc, err := os.FindProcess(srv.Pid())
	require.NoError(t, err)
	require.NoError(t, proc.Signal(syscall.SIGSTOP))
	t.Cleanup(func() { proc.Signal(syscall.SIGCONT) })

	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 8)
	for range 8 {
		go func() { errs <- c.PingContext(ctx, []byte("x")) }()
	}
	require.True(t, eventually(concurrencyLimit, func() bool {
		return len(establishedTo(t, srv.Port())) >= 8
	}), "8 Pings connected at once")
	cancel()
	for range 8 {
		require.ErrorIs(t, <-errs, context.Canceled)
	}

	go func() { errs <- c.Ping([]byte("x")) }()
	require.True(t, eventually(concurrencyLimit, func() bool {
		return len(establishedTo(t, srv.Port())) >= 1
	}), "the Ping connected")
	require.NoError(t, c.Close())
	require.ErrorIs(t, <-errs, gearman.ErrClosed)
}

// TestPingReachesEveryServer: with three servers a Ping succeeds while all
// answer, and fails naming CouldNotConnect once one is down, as PHP's does.
func TestPingReachesEveryServer(t *testing.T) {
	srvs, list := threeServers(t)
	c := fltClient(t, list)
	require.NoError(t, c.Ping([]byte("all")))
	srvs[2].Stop()
	require.ErrorIs(t, c.Ping([]byte("one down")), gearman.CouldNotConnect)
}
