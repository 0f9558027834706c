package gearman_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman/gearmantest"
)

// TestDoNormalAllocationBudget holds a sequential 100-byte DoNormal to at
// most four Go allocations, counted with testing.AllocsPerRun while the
// worker runs in another process (its allocations would count too).
func TestDoNormalAllocationBudget(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startEchoWorkerProcess(t, srv)
	c := newClient(t, srv)
	payload := make([]byte, 100)
	var err error
	// AllocsPerRun calls once untimed first: the connection is made there.
	allocs := testing.AllocsPerRun(500, func() {
		var res []byte
		if res, err = c.DoNormal("echo", payload, ""); err == nil && len(res) != len(payload) {
			t.Errorf("echo returned %d bytes, want %d", len(res), len(payload))
		}
	})
	require.NoError(t, err)
	t.Logf("%.1f Go allocations per DoNormal", allocs)
	require.LessOrEqual(t, allocs, 4.0, "Go allocations per 100-byte DoNormal")
}
