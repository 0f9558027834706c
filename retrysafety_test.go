package gearman_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// TestRetrySafetyInErrors: a caller tells from the error whether a retry is
// safe. A job no server acknowledged (every listed server down) fails with
// ErrNotAcknowledged; one that gearmand acknowledged and then lost with its
// connection (killed while the job waited for a worker) fails with
// ErrAcknowledgedThenLost. Both still match their return codes.
func TestRetrySafetyInErrors(t *testing.T) {
	down1, down2 := gearmantest.NewServer(t), gearmantest.NewServer(t)
	down1.Stop()
	down2.Stop()
	for _, list := range []string{down1.Addr(), down1.Addr() + "," + down2.Addr()} {
		c, err := gearman.NewClient()
		require.NoError(t, err)
		require.NoError(t, c.AddServers(list))
		_, err = c.DoNormal("f", []byte("x"), "")
		require.ErrorIs(t, err, gearman.CouldNotConnect, list)
		require.ErrorIs(t, err, gearman.ErrNotAcknowledged, list)
		require.False(t, errors.Is(err, gearman.ErrAcknowledgedThenLost), list)
		require.NoError(t, c.Close())
	}

	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	done := make(chan error, 1)
	go func() {
		_, err := c.DoNormal("nobody-serves-this", []byte("x"), "")
		done <- err
	}()
	require.True(t, eventually(30*time.Second, func() bool {
		total, _, _, _ := fltStatus(srv.Addr(), "nobody-serves-this")
		return total == 1
	}), "the job is queued at gearmand")
	srv.Kill()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("DoNormal did not return after its server was killed")
	}
	require.ErrorIs(t, err, gearman.LostConnection)
	require.ErrorIs(t, err, gearman.ErrAcknowledgedThenLost)
	require.False(t, errors.Is(err, gearman.ErrNotAcknowledged))
}
