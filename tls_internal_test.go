//go:build cgo && linux

package gearman

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The TLS check reads the DT_NEEDED list of the loaded libgearman.so; it must
// see the libraries ldd shows, or its "no TLS" answer would mean nothing.
func TestLibNeededSeesLibgearmansDependencies(t *testing.T) {
	needed, ok := libNeeded()
	if !ok { // a static link: no libgearman.so to inspect
		require.False(t, libHasTLS())
		return
	}
	assert.Contains(t, needed, "libstdc++.so.6")
	assert.Contains(t, needed, "libuuid.so.1")
	for _, n := range needed {
		assert.NotContains(t, n, "ssl", "this test assumes Debian's libgearman, built without TLS")
	}
	assert.False(t, libHasTLS())
	if libVersion() == "1.1.20" {
		assert.False(t, workerSSLAvailable(), "libgearman 1.1.20 does not define gearman_worker_set_ssl")
	}
}
