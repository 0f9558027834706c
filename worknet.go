package gearman

import (
	"context"
	"time"
)

// The waits for a job of Run's slots park their goroutines in Go's
// netpoller: each slot's libgearman worker runs in non-blocking mode in
// short calls (step), and its goroutine waits in Go on the sockets
// libgearman asked for, so that idle slots hold no OS thread. A context,
// Close and the user's timeout are plain Go wake-ups of that wait. A lone
// worker waits in C instead (workBlocking), which costs a sequential worker
// less CPU (bench/notes.md).

// netState is what a Worker's libgearman worker was left doing between two
// steps. Guarded by the turn.
type netState struct {
	pending bool // a step returned IOWait or NoJobs: the next one waits first
	asleep  bool // that step returned NoJobs: PRE_SLEEP sent, nothing under way
}

// workNet is work for a slot in blocking mode: it runs one job, or with
// batch (Run) jobs until batchLength has passed since the first, so that
// Run's bookkeeping around a call is paid once for many jobs.
func (w *Worker) workNet(ctx context.Context, op string, by *watcher, batch bool, timeout int) error {
	if by == nil {
		var unwatch func()
		by, unwatch = w.watch(ctx)
		defer unwatch()
	}
	clock := newIdleClock(ctx, timeout)
	deadline := clock.waitDeadline()
	w.wakeMu.Lock()
	w.netw.forget() // a wake left by the last call was meant for it
	w.netWaiting, w.wakingFor, w.woken = true, by, notWoken
	w.wakeMu.Unlock()
	defer func() {
		w.wakeMu.Lock()
		w.netWaiting, w.wakingFor, w.woken = false, nil, notWoken
		w.wakeMu.Unlock()
	}()

	var began time.Time
	// A call that takes up a wait left by the last one looks at once (a
	// receive that may find nothing): the netpoller's report of what came
	// in between went to no one, or the deadline that ended that call left
	// no time to look.
	ran, ready := false, w.net.pending
	timed := !deadline.IsZero() || ctx.Done() != nil
	for {
		rc, reqs := w.lib.step(w.net.pending, w.net.asleep, ready, timed)
		ready = false
		switch rc {
		case Success:
			w.net = netState{}
			if !batch || w.closed.Load() || ended(ctx) || w.afterLate {
				return w.succeed(rc)
			}
			if !ran {
				ran, began = true, time.Now()
			} else if time.Since(began) >= batchLength {
				return w.succeed(rc)
			}
			continue
		case IOWait, NoJobs:
			w.net = netState{pending: true, asleep: rc == NoJobs}
		default:
			return w.netFailed(op, rc)
		}
		busy := wireBusyAny(reqs)
		if w.closed.Load() || !busy {
			if err := w.interrupted(ctx, op, &clock); err != nil {
				if ran { // the batch's jobs ran: that is what the caller hears of
					return w.succeed(Success)
				}
				return err
			}
		}
		dl, regrab := deadline, false
		switch {
		case busy: // a timeout or a context never cuts a packet (wire.c)
			dl = time.Time{}
		case w.net.asleep:
			// Asleep, the worker asks again after a while: a server that
			// was down gets connected, and one that lost the wake-up
			// answers anyway.
			if s := time.Now().Add(workSlice); dl.IsZero() || s.Before(dl) {
				dl, regrab = s, true
			}
		}
		woken, err := w.netw.wait(reqs, dl)
		switch {
		case woken:
		case err == nil:
			ready = true
		case err == errWaitDeadline && regrab:
			w.net.pending = false
		case err != errWaitDeadline:
			w.broken = true
			w.net = netState{}
			return w.record(newError(op, Errno, err.Error()))
		}
	}
}

// netFailed ends a step's failure. libgearman 1.1.20 can be left in a state
// whose next call dereferences NULL (GRAB_JOB_RECV without a job, after
// UNEXPECTED_PACKET), so the worker is replaced after any failure. With no
// socket to wait on, no server could be reached.
func (w *Worker) netFailed(op string, rc ReturnCode) error {
	w.net = netState{}
	w.broken = true
	w.netw.release()
	if rc == NoActiveFds {
		rc = CouldNotConnect
	}
	return w.failOn(w.lib, op, rc)
}

// leaveExchange is called before a call that talks to the servers on the
// worker's connections itself (Ping, Wait, SetId, EnableExceptionHandler).
// A Work that ended during its exchange with a server (GRAB_JOB sent, the
// answer on its way) left it for the next Work to take up, but that answer
// would reach this call instead, so the worker is replaced first. Asleep,
// nothing is under way.
func (w *Worker) leaveExchange() {
	if w.net.pending && !w.net.asleep && !w.closed.Load() {
		w.rebuild()
	}
}

func wireBusyAny(reqs []pollRequest) bool {
	for _, r := range reqs {
		if wireBusy(r.fd) {
			return true
		}
	}
	return false
}

// workSlice bounds a wait while asleep: each slice ends with a GRAB_JOB to
// every server, which connects those that were down. Tests shorten it.
var workSlice = workSliceMs * time.Millisecond

// lateMargin: a job counts as late once this close to its timeout, as
// gearmand's clock for it started before the job reached the worker.
const lateMargin = 100 * time.Millisecond
