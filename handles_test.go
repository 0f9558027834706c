//go:build cgo

package gearman

import (
	"testing"

	"github.com/stretchr/testify/require"
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
	require.NoError(t, w.AddFunction("a", fn, nil, 5000)) // new timeout: defined again
	require.NoError(t, w.Unregister("b"))
	clone, err := w.Clone()
	require.NoError(t, err)
	require.Equal(t, before+4+2, liveHandles.Load())

	require.NoError(t, w.Close())
	require.NoError(t, clone.Close())
	require.Equal(t, before, liveHandles.Load())
}
