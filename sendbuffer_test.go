package gearman_test

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// pinnedSendBuffer is what Linux reports for a socket whose SO_SNDBUF was set
// to libgearman's 32 KiB: the kernel doubles the value it was given.
const pinnedSendBuffer = 2 * gearman.DefaultSocketSendSize

// sendBuffersTo returns the SO_SNDBUF of this process's TCP sockets connected
// to port: libgearman's, as the test process has no other.
func sendBuffersTo(t *testing.T, port int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	var sizes []int
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err != nil || !strings.HasPrefix(link, "socket:") {
			continue
		}
		peer, err := syscall.Getpeername(fd)
		if err != nil {
			continue
		}
		if in4, ok := peer.(*syscall.SockaddrInet4); !ok || in4.Port != port {
			continue
		}
		size, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF)
		require.NoError(t, err)
		sizes = append(sizes, size)
	}
	return sizes
}

// The large-payload fix, both ways: on (the default), libgearman's sockets
// keep the kernel's autotuned send buffer; off, they have the 32 KiB pin that
// stalls big jobs. Either way a 1 MiB job round-trips intact.
func TestSendBufferFix(t *testing.T) {
	if os.Getenv("LIBGEARMAN_GO_SNDBUF") != "pinned" {
		require.True(t, gearman.SendBufferFix(), "on by default")
	}
	defer gearman.SetSendBufferFix(gearman.SendBufferFix())
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo})
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	for _, fix := range []bool{true, false} {
		gearman.SetSendBufferFix(fix)
		c, err := gearman.NewClient()
		require.NoError(t, err)
		require.NoError(t, c.AddServer(srv.Host(), srv.Port()))
		res, err := c.DoNormal("echo", big, "")
		require.NoError(t, err)
		require.Equal(t, big, res)

		sizes := sendBuffersTo(t, srv.Port())
		t.Logf("fix=%v: SO_SNDBUF of the sockets to gearmand: %v", fix, sizes)
		require.NotEmpty(t, sizes, "the client's (and the in-process worker's) sockets")
		for _, size := range sizes {
			if fix {
				require.NotEqual(t, pinnedSendBuffer, size, "fix on: not pinned")
			} else if size != pinnedSendBuffer {
				// Only the worker's socket, opened before, may differ.
				continue
			}
		}
		if !fix {
			require.Contains(t, sizes, pinnedSendBuffer, "fix off: the client's socket is pinned")
		}
		require.NoError(t, c.Close())
	}
}
