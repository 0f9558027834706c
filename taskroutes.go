package gearman

import (
	"cmp"
	"context"
	"slices"
	"strings"
)

// With several job servers, RunTasks spreads its tasks over those that
// answer, as the Do* calls do (servers.go). Each server gets a route: a
// libgearman object of its own for the task list, in non-blocking mode.
// RunTasks steps the busy routes on its own goroutine, so the callbacks
// still run there and one at a time, as in PHP. Then it waits for the
// sockets of all the routes at once, in one poll() in C with the Client's
// eventfd among them, as a lone RunTasks waits for its one object: a
// context's end or Close write to the eventfd. Only the routes whose sockets
// were ready are stepped again.
//
// A task goes to the live server its unique key hashes to (AddTask makes up
// a key when given none), and a status task to the server that issued its
// handle, when the Client knows it. A route whose connection fails takes its
// server out of use until it answers again: its tasks that no server
// acknowledged go to another server, at most once per server, and the
// others are lost, as with a single server.

// taskRoute is one server's share of the task list. Guarded by the turn.
type taskRoute struct {
	ep        endpoint
	lib       clientLib
	busy      bool          // tasks were handed to lib since its last step found none running
	waitFirst bool          // the last step returned IOWait: the next one waits first
	reqs      []pollRequest // what that step asked to wait for
	due       bool          // step it in the next round: new tasks, or its sockets were ready
}

// spreading reports whether RunTasks spreads its tasks (several servers).
func (c *Client) spreading() bool { return c.pool.several() }

// routeFor returns the route for t's next submission, made on first use;
// nil when t has tried every server.
func (c *Client) routeFor(t *Task) (*taskRoute, error) {
	ep, ok := c.pool.choose(t.req, t.tried)
	if !ok {
		return nil, nil
	}
	i, found := slices.BinarySearchFunc(c.routes, ep, func(r *taskRoute, ep endpoint) int {
		return compareEndpoints(r.ep, ep)
	})
	if found {
		return c.routes[i], nil
	}
	lib, err := c.newDriverLib(&ep)
	if err != nil {
		return nil, err
	}
	r := &taskRoute{ep: ep, lib: lib}
	sendExceptionsOption(lib)
	c.routes = slices.Insert(c.routes, i, r)
	return r, nil
}

// submitRouted hands t to the route of its server, or ends it when no
// server is left to try.
func (c *Client) submitRouted(op string, t *Task) error {
	r, err := c.routeFor(t)
	if err != nil {
		t.endUnsent(MemoryAllocationFailure)
		c.forgetTask(t)
		return c.record(err)
	}
	if r == nil {
		t.endUnsent(LostConnection)
		c.forgetTask(t)
		c.addLost([]*Task{t})
		return nil
	}
	lib, rc := r.lib.submit(t.req)
	if rc != Success {
		t.endUnsent(rc)
		c.forgetTask(t)
		return c.failOn(r.lib, op, rc)
	}
	t.mu.Lock()
	t.lib, t.route = lib, r
	t.mu.Unlock()
	r.busy, r.due = true, true
	return nil
}

// stepRoutes runs every route that is due as far as it goes without
// waiting. A route whose connection failed is dropped; any other failure,
// or Pause, ends the round and is returned with its route.
func (c *Client) stepRoutes() (ReturnCode, *taskRoute) {
	// A callback may add a route, and a failed route is dropped: the round
	// walks the routes as it found them.
	c.stepping = append(c.stepping[:0], c.routes...)
	for _, r := range c.stepping {
		if r.lib == nil || !r.busy || (r.waitFirst && !r.due) {
			continue
		}
		c.refreshLog(r.lib)
		rc, rq := r.lib.step(r.waitFirst)
		r.due, r.waitFirst = false, false
		switch {
		case rc == IOWait:
			r.waitFirst = true
			r.reqs = append(r.reqs[:0], rq...)
		case rc == Success:
			r.busy = false
		case rc == Pause:
			return rc, r
		case isConnectionError(rc) || rc == NoActiveFds:
			c.addLost(c.dropRoute(r))
		default:
			return rc, r
		}
		if c.hasStopErr() {
			break
		}
	}
	return IOWait, nil
}

// routeWaits gathers what the waiting routes asked for, in their order.
func (c *Client) routeWaits() []pollRequest {
	reqs := c.routeReqs[:0]
	for _, r := range c.routes {
		if r.busy && r.waitFirst {
			reqs = append(reqs, r.reqs...)
		}
	}
	c.routeReqs = reqs
	return reqs
}

// markDue makes due the routes with a ready socket among reqs, which
// routeWaits gathered.
func (c *Client) markDue(reqs []pollRequest) {
	for _, r := range c.routes {
		if !r.busy || !r.waitFirst {
			continue
		}
		mine := reqs[:len(r.reqs)]
		reqs = reqs[len(r.reqs):]
		for _, q := range mine {
			r.due = r.due || q.ready
		}
	}
}

// waitRoutes waits in C for reqs or the Client's wake, until the clock's
// deadline. It returns how many sockets are ready, and whether the wake came
// (a context's end or Close).
func (c *Client) waitRoutes(op string, reqs []pollRequest, clock *idleClock) (ready int, woken bool, err error) {
	c.yield.beforeBlocking()
	var werr error
	woken, err = c.runWait.inC(func(wakeFD int) {
		ready, werr = waitFDs(reqs, &c.routeFds, wakeFD, timeoutMs(clock.waitDeadline()))
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return 0, false, newError(op, Errno, err.Error())
	}
	if ready > 0 {
		c.markDue(reqs)
	}
	return ready, woken, nil
}

// compareEndpoints orders the routes by address: every round steps them in
// the same order, and routeWaits and markDue walk them alike.
func compareEndpoints(a, b endpoint) int {
	if c := strings.Compare(a.host, b.host); c != 0 {
		return c
	}
	return cmp.Compare(a.port, b.port)
}

// routePackets is the number of packets every route has received: progress
// for the user's timeout.
func (c *Client) routePackets() uint64 {
	var n uint64
	for _, r := range c.routes {
		n += r.lib.packets()
	}
	return n
}

// dropRoute frees r after its connection failed, and takes its server out
// of use until it answers again. Its tasks that no server acknowledged go
// back to the queue; the others are lost, and returned.
func (c *Client) dropRoute(r *taskRoute) (lost []*Task) {
	c.pool.markDown(&r.ep)
	c.routes = slices.DeleteFunc(c.routes, func(x *taskRoute) bool { return x == r })
	c.mu.Lock()
	running := c.tasks.running
	c.tasks.running = false // freeing must not refill the route
	c.tasks.abandon = LostConnection
	var onRoute []*Task
	for t := range c.tasks.inflight {
		if t.onRoute(r) {
			onRoute = append(onRoute, t)
		}
	}
	c.mu.Unlock()
	for _, t := range onRoute {
		if !t.markRequeue(r.ep) {
			lost = append(lost, t)
		}
	}
	c.own.free(r.lib) // libgearman hands every task in flight back through taskFreed
	r.lib = nil       // a round that found it steps it no more
	c.setRunning(running)
	return lost
}

// dropRoutes frees every route: after RunTasks abandoned its tasks, closing
// the connections makes the servers drop the jobs.
func (c *Client) dropRoutes() {
	for _, r := range c.routes {
		c.own.free(r.lib)
		r.lib = nil
	}
	c.routes = nil
}

// runSpread is RunTasks with several servers: it steps the routes that are
// due and waits for all the waiting ones at once, until every task finished.
func (c *Client) runSpread(ctx context.Context, op string, nonBlocking bool, clock *idleClock) error {
	for _, r := range c.routes {
		r.due = true // what came in since the last call is not known
	}
	seen := c.routePackets()
	for {
		if done, err := c.refill(op); done {
			return err
		}
		rc, r := c.stepRoutes()
		if err := c.takeStopErr(); err != nil {
			c.record(err)
			return err
		}
		if p := c.routePackets(); p != seen {
			seen = p
			clock.progress()
		}
		switch rc {
		case IOWait:
		case Pause:
			return c.succeed(Pause)
		default:
			err := c.runFailed(op, rc, r.lib)
			c.dropRoutes()
			return err
		}
		reqs := c.routeWaits()
		if len(reqs) == 0 {
			continue // no route waits: the refill decides
		}
		if nonBlocking {
			return c.succeed(IOWait)
		}
		ready, woken, err := c.waitRoutes(op, reqs, clock)
		if err != nil {
			return c.record(err)
		}
		if ready > 0 && !woken {
			continue
		}
		if err := c.runStopped(ctx, op, clock); err != nil {
			return err
		}
	}
}

// waitSpread is Wait with several servers: it waits for the sockets the
// last RunTasks left, the context's end or Close.
func (c *Client) waitSpread(ctx context.Context, op string) error {
	reqs := c.routeWaits()
	if len(reqs) == 0 {
		return c.succeed(Success) // RunTasks can go on at once
	}
	clock := newIdleClock(ctx, c.Timeout())
	for {
		ready, woken, err := c.waitRoutes(op, reqs, &clock)
		if err != nil {
			return c.record(err)
		}
		if ready > 0 && !woken {
			return c.succeed(Success)
		}
		if err := c.interrupted(ctx, op, &clock); err != nil {
			return err
		}
		if ready > 0 {
			return c.succeed(Success)
		}
	}
}
