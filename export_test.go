package gearman

import "time"

// LengthenBatchesForTest makes every batch of Run's jobs last up to d, so
// that a test's queued jobs and the wait after them surely share one call
// into C; the returned function restores the length.
func LengthenBatchesForTest(d time.Duration) (restore func()) {
	old := batchLength
	batchLength = d
	return func() { batchLength = old }
}
