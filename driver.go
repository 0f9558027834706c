package gearman

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// The blocking jobs of a Client (Do*, Do*Background) from any number of
// goroutines run at once, pipelined on one non-blocking libgearman client.
// Only the driver's goroutine touches that object: callers queue a call,
// wake the driver, and wait on their own channel; the driver submits the
// calls, moves libgearman on without ever blocking in it (step), and parks
// in Go's netpoller on its sockets (fdWaiter) until one is ready, a new call
// wakes it, or a call's timeout comes. It runs while it has calls, and
// lingers a moment after the last, so that calls that follow each other do
// not start a goroutine each; an idle Client holds no goroutine, and no OS
// thread ever waits in C for it.

// jobCall is one blocking job on its way through the driver.
type jobCall struct {
	op      string
	req     taskRequest
	timeout time.Duration // the Client's timeout when the call began; < 0: none
	done    chan struct{} // receives once t or err is set for the caller

	t   taskLib // the finished task, which the caller reads and releases
	err error   // or why the call failed

	// The drivers' bookkeeping.
	tried []endpoint                   // the servers picked so far (serverPool.pick)
	fixed bool                         // the call stays with its first driver
	owner atomic.Pointer[clientDriver] // the driver the call is with now
	seen  uint64                       // packets of the task at the last look
	last  time.Time                    // when the task last made progress

	// mu guards the two below: exactly one of them happens.
	mu        sync.Mutex
	delivered bool // t or err was handed to the caller
	gone      bool // the caller gave up; the driver frees the task when it ends
}

type clientDriver struct {
	ep      *endpoint // the one server of lib; nil: the Client's servers as given
	mu      sync.Mutex
	c       *Client    // set while the goroutine runs: an idle driver holds nothing
	queue   []*jobCall // waiting to be submitted, oldest first
	running bool
	idle    bool // the goroutine lingers, waiting on kick
	closing bool
	stopped chan struct{} // closed when the goroutine of a closing driver ends
	kick    chan struct{} // wakes a lingering goroutine

	// Owned by the goroutine.
	lib        clientLib
	exceptions bool // lib has sent the "exceptions" option
	inflight   []*jobCall
	reused     bool       // lib's connection was idle before the calls in flight
	spare      []*jobCall // the queue's other buffer
	wait       fdWaiter
	yield      yielder // before each wait in C (sched.go)
	linger     *time.Timer
}

// A caller alone with its driver lets libgearman block its thread in poll(),
// which costs less than parking in the netpoller; but with many Clients,
// each with one call waiting, that would be a thread per call again. Only
// maxThreadsInC callers in the process wait that way at once; the others
// park in the netpoller.
const maxThreadsInC = 8

var threadsInC atomic.Int32

// optionSends bounds the "exceptions" options being sent at once, each of
// which blocks a thread in C while it connects and waits for the answer.
var optionSends = make(chan struct{}, maxThreadsInC)

func takeThreadInC() bool {
	if threadsInC.Add(1) <= maxThreadsInC {
		return true
	}
	threadsInC.Add(-1)
	return false
}

// driverLinger is how long the goroutine waits for another call after the
// last one ended.
const driverLinger = 200 * time.Millisecond

func newClientDriver(ep *endpoint) *clientDriver {
	return &clientDriver{ep: ep, stopped: make(chan struct{}), kick: make(chan struct{}, 1)}
}

// call runs one blocking job through the driver of the server it goes to,
// and returns its finished task, which the caller releases.
func (c *Client) call(ctx context.Context, op string, req taskRequest) (taskLib, error) {
	return c.callOn(ctx, op, req, nil)
}

// callOn is call on the driver to, which then stays the call's only one; nil
// lets the pool pick the server.
func (c *Client) callOn(ctx context.Context, op string, req taskRequest, to *clientDriver) (taskLib, error) {
	// A context that has ended sends nothing: a quick answer must not win.
	if err := ctx.Err(); err != nil {
		return nil, c.record(contextError(op, err))
	}
	timeout := time.Duration(-1)
	if ms := c.Timeout(); ms >= 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	jc := newJobCall(op, req, timeout)
	d := to
	if d == nil {
		d = c.pool.pick(jc)
	} else {
		jc.fixed = true
	}
	lead, ok := d.enqueue(c, jc, true)
	if !ok {
		jobCalls.Put(jc)
		return nil, closedError(op)
	}
	if lead {
		if ctx.Done() != nil {
			stop := context.AfterFunc(ctx, d.wait.wake)
			d.drive(ctx, jc)
			stop()
		} else {
			d.drive(ctx, jc)
		}
	}

	select {
	case <-jc.done:
	case <-ctx.Done():
		jc.mu.Lock()
		delivered := jc.delivered
		jc.gone = !delivered
		jc.mu.Unlock()
		if !delivered {
			jc.owner.Load().wait.wake() // the driver keeps jc until its task ends
			return nil, c.record(contextError(op, ctx.Err()))
		}
		<-jc.done // the answer came first: use it
	}
	t, err := jc.t, jc.err
	if d := jc.owner.Load(); err == nil && req.kind == kindBackground && d.ep != nil {
		c.pool.remember(t.jobHandle(), *d.ep)
	}
	jobCalls.Put(jc)
	if err != nil {
		return nil, c.record(err)
	}
	return t, nil
}

// jobCalls keeps the calls delivered to their callers for the next ones.
var jobCalls = sync.Pool{New: func() any { return &jobCall{done: make(chan struct{}, 1)} }}

func newJobCall(op string, req taskRequest, timeout time.Duration) *jobCall {
	jc := jobCalls.Get().(*jobCall)
	done, tried := jc.done, jc.tried[:0]
	*jc = jobCall{op: op, req: req, timeout: timeout, done: done, tried: tried}
	return jc
}

// enqueue hands jc to d. With mayLead, a caller finds d idle and drives it
// itself (lead); otherwise d's goroutine is started or woken. It fails when
// d is closing.
func (d *clientDriver) enqueue(c *Client, jc *jobCall, mayLead bool) (lead, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closing {
		return false, false
	}
	jc.owner.Store(d)
	d.queue = append(d.queue, jc)
	if mayLead && !d.running {
		d.running, d.c = true, c
		return true, true
	}
	d.nudge(c)
	return false, true
}

// nudge gets the goroutine to look at the queue: starts it, or wakes it
// from its linger or from its wait. d.mu is held.
func (d *clientDriver) nudge(c *Client) {
	switch {
	case !d.running:
		d.running, d.c = true, c
		go d.run()
	case d.idle:
		select {
		case d.kick <- struct{}{}:
		default:
		}
	default:
		d.wait.wake()
	}
}

// free closes the driver's own descriptors, for a Client dropped without
// Close: the driver then has no goroutine, which would keep the Client
// reachable.
func (d *clientDriver) free() { d.wait.close() }

// close fails every call and waits for the goroutine to end (Client.Close).
func (d *clientDriver) close() {
	d.mu.Lock()
	d.closing = true
	running := d.running
	if running {
		d.nudge(nil)
	}
	d.mu.Unlock()
	if running {
		<-d.stopped
	}
	d.wait.close()
}

// run is the driver's own goroutine: it drives while there are calls, and
// lingers a moment after the last.
func (d *clientDriver) run() { d.drive(context.Background(), nil) }

// drive runs the driver's loop. With lead, a caller drives for everyone
// until its own call is answered or ctx ends, and then hands the driving to
// a goroutine if other calls are in flight: a goroutine that makes one call
// at a time never waits for another to run the loop for it.
func (d *clientDriver) drive(ctx context.Context, lead *jobCall) {
	waitFirst := false
	for {
		d.mu.Lock()
		c := d.c
		if d.closing {
			fresh := d.queue
			d.queue = nil
			d.running, d.c = false, nil
			d.mu.Unlock()
			for _, jc := range append(fresh, d.inflight...) {
				d.finish(jc, closedError(jc.op))
			}
			d.inflight = nil
			d.dropLib(c)
			close(d.stopped)
			return
		}
		idle := len(d.queue) == 0 && len(d.inflight) == 0
		if lead != nil && (lead.doneWith(d) || idle || ctx.Err() != nil) {
			if idle {
				d.running, d.c = false, nil
			} else {
				go d.run() // running and c stay as they are
			}
			d.mu.Unlock()
			return
		}
		if idle {
			if d.lingered() {
				return
			}
			continue
		}
		fresh := d.queue
		d.queue = d.spare[:0]
		d.mu.Unlock()

		if d.lib != nil {
			c.refreshLog(d.lib)
			if len(d.inflight) == 0 {
				d.reused = true
			}
		}
		for _, jc := range fresh {
			d.submit(c, jc)
		}
		if len(fresh) > 0 {
			// New tasks go out first: a step that began with the wait would
			// return at once to it, with them unsent.
			waitFirst = false
		}
		clear(fresh)
		d.spare = fresh[:0]
		d.dropAbandoned(c)
		if len(d.inflight) == 0 {
			waitFirst = false
			continue
		}
		var rc ReturnCode
		var reqs []pollRequest
		alone := lead != nil && len(d.inflight) == 1 && d.inflight[0] == lead && d.queueEmpty()
		if alone && !takeThreadInC() {
			alone = false
		}
		if alone {
			rc = IOWait // unless the call runs: a wake that came first skips it
			d.yield.beforeBlocking()
			var timedOut bool
			_, err := d.wait.inC(func(wakeFD int) {
				rc, _, timedOut = d.lib.runUntil(lead.t, wakeFD, timeoutMs(d.nextDeadline(nil)))
			})
			threadsInC.Add(-1)
			d.deliverFinished()
			waitFirst = false // run_tasks takes in what libgearman's wait found
			if rc == IOWait {
				switch {
				case err != nil:
					d.failed(c, Errno)
				case timedOut:
					d.expire(nil)
				}
				continue
			}
		} else {
			rc, reqs = d.lib.step(waitFirst)
			d.deliverFinished()
			waitFirst = false
			if rc == IOWait && lead != nil && (lead.doneWith(d)) {
				// The caller's own call is answered: it returns now, and a
				// goroutine waits for the others (the loop's top hands over).
				continue
			}
		}
		switch {
		case rc == IOWait:
			woken, err := d.wait.wait(reqs, d.nextDeadline(reqs))
			switch {
			case err == nil:
				waitFirst = !woken
			case errors.Is(err, errWaitDeadline):
				d.expire(reqs)
			default:
				d.failed(c, Errno)
			}
		case rc == Success:
			// run_tasks has nothing left, yet these have no answer: the
			// server dropped them.
			for _, jc := range d.inflight {
				d.finish(jc, newError(jc.op, UnknownState, "the server ended the job without a result"))
			}
			d.inflight = d.inflight[:0]
		case isConnectionError(rc):
			d.failed(c, rc)
		default:
			for _, jc := range d.inflight {
				d.finish(jc, c.failOn(d.lib, jc.op, rc))
			}
			d.inflight = d.inflight[:0]
			d.dropLib(c)
		}
	}
}

// lingered waits a moment for another call, with d.mu held on entry; it
// reports true when none came and the goroutine has stopped.
func (d *clientDriver) lingered() bool {
	d.idle = true
	d.mu.Unlock()
	if d.linger == nil {
		d.linger = time.NewTimer(driverLinger)
	} else {
		d.linger.Reset(driverLinger)
	}
	select {
	case <-d.kick:
		d.linger.Stop()
	case <-d.linger.C:
	}
	d.mu.Lock()
	d.idle = false
	if len(d.queue) == 0 && !d.closing {
		d.running, d.c = false, nil
		d.mu.Unlock()
		return true
	}
	d.mu.Unlock()
	return false
}

// submit hands a call's task to libgearman, on a fresh libgearman object if
// there is none, with the "exceptions" option sent first.
func (d *clientDriver) submit(c *Client, jc *jobCall) {
	if d.lib == nil {
		lib, err := c.newDriverLib(d.ep)
		if err != nil {
			d.finish(jc, err)
			return
		}
		d.lib, d.exceptions, d.reused = lib, false, false
	}
	if !d.exceptions && c.hasServers() {
		d.exceptions = sendExceptionsOption(d.lib)
	}
	// libgearman copies the workload here. The lock keeps a caller who gives
	// up meanwhile from returning, and reusing its buffer, before the copy.
	jc.mu.Lock()
	if jc.gone {
		jc.mu.Unlock()
		return
	}
	t, rc := d.lib.submit(jc.req)
	jc.mu.Unlock()
	if rc != Success {
		d.finish(jc, c.failOn(d.lib, jc.op, rc))
		return
	}
	jc.t, jc.seen, jc.last = t, 0, time.Now()
	d.inflight = append(d.inflight, jc)
}

// optionTimeoutMs bounds the "exceptions" option, which libgearman sends
// and waits for inside the call.
const optionTimeoutMs = 2000

// sendExceptionsOption asks lib's server for WORK_EXCEPTION packets: without
// the option libgearman never matches the WORK_FAIL gearmand sends for a
// worker's exception. libgearman sends it blocking, whatever the mode, so
// the wait is bounded, and so are the threads that many new connections
// would hold at once.
func sendExceptionsOption(lib clientLib) bool {
	optionSends <- struct{}{}
	defer func() { <-optionSends }()
	lib.setTimeout(optionTimeoutMs)
	defer lib.setTimeout(-1)
	return lib.enableExceptions()
}

// deliverFinished hands every finished task to its caller, and notes which
// of the others made progress.
func (d *clientDriver) deliverFinished() {
	keep := d.inflight[:0]
	now := time.Time{}
	for _, jc := range d.inflight {
		if jc.t.finished() {
			d.finish(jc, nil)
			continue
		}
		if p := jc.t.packets(); p != jc.seen {
			if now.IsZero() {
				now = time.Now()
			}
			jc.seen, jc.last = p, now
		}
		keep = append(keep, jc)
	}
	d.inflight = keep
}

// finish ends a call, with err or with its task. A call whose caller gave
// up has its task freed here instead.
func (d *clientDriver) finish(jc *jobCall, err error) {
	jc.mu.Lock()
	gone := jc.gone
	jc.delivered = !gone
	jc.mu.Unlock()
	if gone || err != nil {
		if jc.t != nil {
			jc.t.release()
		}
		jc.t = nil
	}
	if !gone {
		jc.err = err
		jc.done <- struct{}{}
	}
}

func (d *clientDriver) queueEmpty() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.queue) == 0
}

// doneWith reports whether the call needs nothing more of d: answered, or
// gone to another driver.
func (jc *jobCall) doneWith(d *clientDriver) bool {
	jc.mu.Lock()
	defer jc.mu.Unlock()
	return jc.delivered || jc.owner.Load() != d
}

func (jc *jobCall) isGone() bool {
	jc.mu.Lock()
	defer jc.mu.Unlock()
	return jc.gone
}

// dropAbandoned frees the calls whose callers gave up. Their jobs stay with
// gearmand, and run, while the connection lives; so once nothing else is in
// flight the connection is closed, and gearmand drops the jobs not yet taken
// by a worker.
func (d *clientDriver) dropAbandoned(c *Client) {
	abandoned, others := 0, 0
	for _, jc := range d.inflight {
		if jc.isGone() {
			abandoned++
		} else {
			others++
		}
	}
	if abandoned == 0 || others > 0 {
		return
	}
	for _, jc := range d.inflight {
		d.finish(jc, nil)
	}
	d.inflight = d.inflight[:0]
	d.dropLib(c)
}

// dropLib frees the libgearman object: its tasks, and its connections.
func (d *clientDriver) dropLib(c *Client) {
	d.wait.release()
	if d.lib != nil {
		c.own.free(d.lib)
		d.lib = nil
	}
}

// heldWaits counts the driver's waits that had a call's timeout to keep but
// were mid-transfer, and so waited without it: a timeout never cuts a
// packet (tests read it with wire.c's count).
var heldWaits atomic.Int64

// nextDeadline is when the first call's timeout runs out; zero for none, and
// while a packet is part way across one of reqs.
func (d *clientDriver) nextDeadline(reqs []pollRequest) time.Time {
	var next time.Time
	defer func() {
		if !next.IsZero() && transferring(reqs) {
			next = time.Time{}
			heldWaits.Add(1)
		}
	}()
	for _, jc := range d.inflight {
		if jc.timeout < 0 || jc.isGone() {
			continue
		}
		if at := jc.last.Add(jc.timeout); next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next
}

// timeoutMs turns a deadline into poll()'s timeout: -1 for none.
func timeoutMs(deadline time.Time) int {
	if deadline.IsZero() {
		return -1
	}
	return max(0, int((time.Until(deadline)+time.Millisecond-1)/time.Millisecond))
}

// transferring reports whether a packet is part way across one of reqs, or
// waits to be sent.
func transferring(reqs []pollRequest) bool {
	for _, r := range reqs {
		if r.events&pollOut != 0 || wireBusy(r.fd) {
			return true
		}
	}
	return false
}

// expire ends the calls whose timeout passed without progress. A transfer
// under way on one of reqs counts as progress for them all: a timeout never
// cuts a packet. Their tasks stay in flight, abandoned (dropAbandoned).
func (d *clientDriver) expire(reqs []pollRequest) {
	now := time.Now()
	if transferring(reqs) {
		for _, jc := range d.inflight {
			jc.last = now
		}
		return
	}
	for i, jc := range d.inflight {
		if jc.timeout < 0 || now.Sub(jc.last) < jc.timeout {
			continue
		}
		jc.mu.Lock()
		deliver := !jc.gone
		jc.delivered = deliver
		jc.mu.Unlock()
		if deliver {
			// The task stays in flight without its caller, who may reuse jc.
			d.inflight[i] = &jobCall{op: jc.op, t: jc.t, timeout: -1, gone: true}
			jc.t = nil
			jc.err = newError(jc.op, Timeout, "timeout reached")
			jc.done <- struct{}{}
		}
	}
}

// failed ends the libgearman object after the connection error rc, and
// marks its server down. A call a server acknowledged fails (its job may
// have run); the others go to another server, each at most once per server
// (with one server, once more to a fresh connection).
func (d *clientDriver) failed(c *Client, rc ReturnCode) {
	// A connection that sat idle may have died unseen while its server
	// stayed up, or came back: one fresh connection to it is tried first.
	stale := d.reused && d.ep != nil
	if !stale {
		c.pool.markDown(d.ep)
	}
	var retry []*jobCall
	var errs []error
	for _, jc := range d.inflight {
		if jc.t.finished() {
			d.finish(jc, nil)
			continue
		}
		err := c.failOn(d.lib, jc.op, rc)
		var e *Error
		errors.As(err, &e)
		if jc.t.jobHandle() != "" {
			e.err = ErrAcknowledgedThenLost
			d.finish(jc, err)
			continue
		}
		e.err = ErrNotAcknowledged
		jc.t.release()
		jc.t = nil
		retry, errs = append(retry, jc), append(errs, err)
	}
	d.inflight = d.inflight[:0]
	d.dropLib(c)
	for i, jc := range retry {
		var next *clientDriver
		if !stale && !jc.fixed {
			next = c.pool.pick(jc)
		}
		switch {
		case jc.isGone():
			d.finish(jc, nil)
		case stale:
			d.submit(c, jc)
		case next == nil:
			d.finish(jc, errs[i])
		case next == d:
			d.submit(c, jc)
		default:
			if _, ok := next.enqueue(c, jc, false); !ok {
				d.finish(jc, closedError(jc.op))
			}
		}
	}
}

// newDriverLib makes the driver's libgearman object: non-blocking, with the
// Client's logger and TLS, and the driver's server, or the Client's servers
// as given.
func (c *Client) newDriverLib(ep *endpoint) (clientLib, error) {
	lib, err := newClientLib()
	if err != nil {
		return nil, err
	}
	c.own.track(lib)
	c.settle(lib)
	lib.setNonBlocking(true)
	if ep != nil {
		lib.addServer(ep.host, ep.port)
		return lib, nil
	}
	c.mu.Lock()
	servers := append([]serverSpec(nil), c.servers...)
	c.mu.Unlock()
	for _, s := range servers {
		if rc := addServerSpec(lib, s); rc != Success {
			c.own.free(lib)
			return nil, newError("NewClient", rc, "adding a server failed")
		}
	}
	return lib, nil
}
