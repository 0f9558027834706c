package gearman

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRunBackoffJittered: each of Run's reconnection waits falls between half
// the back-off and the whole of it, spread over that range, so that workers
// that lost the same server do not reconnect in step.
func TestRunBackoffJittered(t *testing.T) {
	for _, d := range []time.Duration{minBackoff, 400 * time.Millisecond, maxBackoff} {
		seen := map[time.Duration]bool{}
		var sum time.Duration
		const draws = 2000
		for range draws {
			j := jittered(d)
			require.GreaterOrEqual(t, j, d/2)
			require.LessOrEqual(t, j, d)
			seen[j] = true
			sum += j
		}
		require.Greater(t, len(seen), draws/2, "waits for %v are spread, not a few fixed values", d)
		mean := sum / draws
		require.InDelta(t, float64(d)*3/4, float64(mean), float64(d)/20, "mean wait for %v", d)
	}
}
