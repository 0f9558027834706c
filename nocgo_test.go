//go:build !cgo || !linux

package gearman_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
)

// Built with CGO_ENABLED=0, or for another system than Linux, the package
// compiles and says why it cannot work.
func TestConstructorsWithoutCgo(t *testing.T) {
	if runtime.GOOS != "linux" {
		_, err := gearman.NewClient()
		require.ErrorIs(t, err, gearman.NotConnected)
		require.ErrorContains(t, err, "Linux only")
		return
	}
	_, err := gearman.NewClient()
	require.ErrorContains(t, err, "without cgo")
	require.ErrorContains(t, err, "libgearman")
	_, err = gearman.NewWorker()
	require.ErrorContains(t, err, "CGO_ENABLED=1")
	require.Empty(t, gearman.Version())
	require.Empty(t, gearman.Linkage())
}
