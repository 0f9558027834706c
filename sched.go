package gearman

import (
	"runtime"
	"time"
)

// yielder keeps a goroutine that goes from one blocking libgearman call to
// the next visible to Go's scheduler.
//
// A cgo call does not count as rescheduling, so such a goroutine keeps one
// scheduler tick for as long as it loops. After 10 ms of that, sysmon takes
// it for a goroutine hogging its P, and from then on takes the P away every
// time it finds the goroutine waiting inside C, even with other Ps idle
// (forcePreemptNS in runtime.retake). Each take wakes a thread to run the P,
// sends it back to sleep when there is nothing to run, and keeps sysmon
// polling at its shortest interval. A worker serving sequential jobs paid
// that almost once a job, and so did the Client's lone caller (bench/notes.md).
// Yielding every few milliseconds starts a new tick; it costs one Gosched per
// interval, nothing per call.
//
// With GOMAXPROCS=1 the runtime takes the P back anyway (no other P is idle),
// so only programs with two Ps or more gain.
type yielder struct{ last time.Time }

// yieldEvery must stay below the runtime's 10 ms. Each yield costs a
// wake-up of another thread, which takes the goroutine over while this one
// goes to sleep: the longest interval below 10 ms yields least often, and
// bench/notes.md has the counts for 2, 5 and 8 ms. A wait that starts just before the interval runs
// out and lasts more than the remaining 2 ms may be retaken once; a wait
// that long costs more than a retake anyway, and one of 10 ms or more is
// retaken whatever the interval.
const yieldEvery = 8 * time.Millisecond

// beforeBlocking is called before each libgearman call that may wait; the
// object's own lock guards y.
func (y *yielder) beforeBlocking() {
	if now := time.Now(); now.Sub(y.last) >= yieldEvery {
		y.last = now
		runtime.Gosched()
	}
}
