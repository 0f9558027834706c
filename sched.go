package gearman

import (
	"runtime"
	"sync"
	"sync/atomic"
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
// so only programs with two Ps or more gain; waits on the P (below) serve one P.
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
		refreshWaitsOnP()
		runtime.Gosched()
	}
}

// Waits on the P: with one P, a wait inside libgearman begins in Go.
//
// With a single P, a thread blocked in C loses the P at sysmon's next tick,
// as no other P is idle, and a goroutine parked in the netpoller leaves
// sysmon asleep for the next cgo call to wake: either costs a few thread
// wake-ups a wait on the CPU the server needs, which made a sequential worker
// or caller pinned to one CPU a third slower than C. So while GOMAXPROCS is
// 1, wire.c hands each wait of the binding's calls to goWaitOnP first. It
// polls with a raw system call, which keeps the P as computing would, for up
// to onPFor; only a wait that lasts longer blocks the thread in C. Other
// goroutines wait for the P meanwhile, at most onPFor after the last job,
// and at most yieldEvery while jobs keep coming; a preemption or a stop of
// the world interrupts the poll at once. With two Ps or more a wait blocks
// in C from the start, which costs nothing (bench/notes.md).

// onPFor is at least the kernel's tick: a timer due sooner than the next
// tick must be programmed into the CPU's clock, which on a virtual machine
// costs more than the wait saves (bench/notes.md). Tests lengthen it.
var onPFor = 4 * time.Millisecond

// onP is whether waits begin on the P; onPMu makes each refresh read
// GOMAXPROCS and set the C side in one step, so that the last to run wins.
var (
	onPMu sync.Mutex
	onP   bool
)

// waitsEndedOnP counts the waits that ended while on the P; tests read it.
var waitsEndedOnP atomic.Int64

func init() { refreshWaitsOnP() }

// refreshWaitsOnP has waits begin on the P while the process has one P. The
// yielder calls it, as GOMAXPROCS may change while a program runs.
func refreshWaitsOnP() {
	onPMu.Lock()
	defer onPMu.Unlock()
	if on := runtime.GOMAXPROCS(0) == 1; onP != on {
		onP = on
		waitsOnP(on)
	}
}

// waitOnP is the start of a wait of up to timeout ms (-1: none): poll, which
// must not tell the scheduler, for up to onPFor of it. It returns what was
// ready and the part of timeout left to wait in C. A signal that cuts the
// poll short is a preemption or a stop of the world, which needs the P: the
// whole timeout is then left to C, so such a wait may last up to onPFor
// longer than asked, never shorter.
func waitOnP(poll func(ms int) int, timeout int) (ready, left int) {
	span := int(onPFor / time.Millisecond)
	if timeout >= 0 {
		span = min(span, timeout)
	}
	switch r := poll(span); {
	case r > 0:
		waitsEndedOnP.Add(1)
		return r, 0
	case r < 0 || timeout < 0:
		return 0, timeout
	default: // the span ran out
		return 0, timeout - span
	}
}
