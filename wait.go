package gearman

import (
	"context"
	"time"
)

// idleClock measures a user timeout the way libgearman does, from the last
// sign of progress, and bounds each wait by the context's deadline.
type idleClock struct {
	timeout     int // ms, -1 for none
	last        time.Time
	deadline    time.Time
	hasDeadline bool
}

func newIdleClock(ctx context.Context, timeout int) idleClock {
	k := idleClock{timeout: timeout}
	if timeout >= 0 { // last is only ever measured against a timeout
		k.last = time.Now()
	}
	k.deadline, k.hasDeadline = ctx.Deadline()
	return k
}

func (k *idleClock) progress() { k.last = time.Now() }

// waitDeadline is when a wait must end for the user's timeout or the
// context's deadline, whichever comes first; zero for neither.
func (k *idleClock) waitDeadline() time.Time {
	var d time.Time
	if k.timeout >= 0 { // bounded, as a Duration of MaxInt ms overflows
		d = k.last.Add(time.Duration(min(k.timeout, 1<<40)) * time.Millisecond)
	}
	if k.hasDeadline && (d.IsZero() || k.deadline.Before(d)) {
		d = k.deadline
	}
	return d
}

// Times are compared in whole milliseconds: a timeout near math.MaxInt
// would overflow a time.Duration.

func (k *idleClock) expired() bool {
	return k.timeout >= 0 && time.Since(k.last).Milliseconds() >= int64(k.timeout)
}

// sliceOf returns how long, in ms, the next wait may last: at most max, and
// at least 1 (libgearman must never be given 0).
func (k *idleClock) sliceOf(max int) int {
	s := int64(max)
	if k.timeout >= 0 {
		s = min(s, int64(k.timeout)-time.Since(k.last).Milliseconds())
	}
	if k.hasDeadline {
		s = min(s, time.Until(k.deadline).Milliseconds())
	}
	return max1(int(s))
}

// bound shortens d to what is left of the timeout, when that is less.
func (k *idleClock) bound(d time.Duration) time.Duration {
	if k.timeout < 0 {
		return d
	}
	left := int64(k.timeout) - time.Since(k.last).Milliseconds()
	if left < d.Milliseconds() {
		return time.Duration(max(left, 0)) * time.Millisecond
	}
	return d
}

func max1(ms int) int {
	if ms < 1 {
		return 1
	}
	return ms
}

// isConnectionError reports codes after which libgearman 1.1.20's connection
// state cannot be trusted.
func isConnectionError(rc ReturnCode) bool {
	switch rc {
	case LostConnection, CouldNotConnect, NoActiveFds, NotConnected, Errno,
		UnexpectedPacket, InvalidMagic, InvalidCommand, InvalidPacket, Getaddrinfo:
		return true
	}
	return false
}

// ended reports whether ctx has ended. It is ctx.Err() != nil without
// Err's lock, which the worker's per-job checks paid three times a job: a
// receive from an open Done channel that would block is a single load.
func ended(ctx context.Context) bool {
	select {
	case <-ctx.Done(): // nil for a context without an end: never ready
		return true
	default:
		return false
	}
}
