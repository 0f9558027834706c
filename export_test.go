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

// ShortenIdleSliceForTest makes a worker asleep ask for jobs again after d
// instead of workSlice; the returned function restores it.
func ShortenIdleSliceForTest(d time.Duration) (restore func()) {
	old := workSlice
	workSlice = d
	return func() { workSlice = old }
}

// WireHeldWaits counts the waits in the middle of a transfer that went on
// past an interrupt or a timeout: in the binding's poll (wire.c), or in the
// client driver's (driver.go).
func WireHeldWaits() int64 { return wireHeldWaits() + heldWaits.Load() }

// WaitsEndedOnP counts the waits that ended while on the P (sched.go).
func WaitsEndedOnP() int64 { return waitsEndedOnP.Load() }

// RefreshWaitsOnP makes waits follow the GOMAXPROCS a test just set.
func RefreshWaitsOnP() { refreshWaitsOnP() }

// LengthenWaitsOnPForTest makes a wait on the P last up to d before it
// blocks in C; the returned function restores the span.
func LengthenWaitsOnPForTest(d time.Duration) (restore func()) {
	old := onPFor
	onPFor = d
	return func() { onPFor = old }
}
