package gearman

import (
	"context"
)

// libgearman's echo blocks whatever the mode, so a Ping cannot run on a
// driver. Each Ping talks to every server at once instead, each on a fresh
// connection of its own that blocks one thread in poll() only for the echo,
// with an eventfd among the fds through which the context or Close ends it.
// Pings thus run concurrently with each other and with every other call.

// PingContext is Ping with a context (Go only).
func (c *Client) PingContext(ctx context.Context, workload []byte) error {
	const op = "Ping"
	if len(workload) == 0 {
		return c.record(newError(op, InvalidArgument, "empty data: libgearman refuses an empty echo"))
	}
	if err := ctx.Err(); err != nil {
		return c.record(contextError(op, err))
	}
	targets := c.pool.pingTargets()
	errs := eachAtOnce(targets, func(ep *endpoint) error { return c.pingOne(ctx, op, ep, workload) })
	for _, err := range errs {
		if err != nil {
			return c.record(err)
		}
	}
	return c.succeed(Success)
}

// pingOne echoes workload through one server, or through the Client's
// servers as given when ep is nil.
func (c *Client) pingOne(ctx context.Context, op string, ep *endpoint, workload []byte) error {
	w := &fdWaiter{}
	if !c.pool.beginPing(w) {
		return closedError(op)
	}
	defer c.pool.endPing(w)
	lib, err := c.newDriverLib(ep)
	if err != nil {
		return err
	}
	defer c.own.free(lib)
	lib.setNonBlocking(false)
	stop := context.AfterFunc(ctx, w.wake)
	defer stop()
	var rc ReturnCode
	woken, err := w.inC(func(wakeFD int) { rc = lib.echo(workload, c.Timeout(), wakeFD) })
	switch {
	case err != nil:
		return err
	case woken && ctx.Err() != nil:
		return contextError(op, ctx.Err())
	case woken:
		return closedError(op)
	case rc != Success:
		return c.failOn(lib, op, rc)
	}
	return nil
}

// pingTargets lists the servers a Ping talks to: each of several, or the
// Client's servers as given (nil).
func (p *serverPool) pingTargets() []*endpoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.eps == nil {
		return []*endpoint{nil}
	}
	targets := make([]*endpoint, len(p.eps))
	for i := range p.eps {
		targets[i] = &p.eps[i]
	}
	return targets
}

// beginPing registers the wait of a Ping, which close wakes; it fails once
// the pool is closing.
func (p *serverPool) beginPing(w *fdWaiter) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if p.pings == nil {
		p.pings = map[*fdWaiter]struct{}{}
	}
	p.pings[w] = struct{}{}
	p.pinging.Add(1)
	return true
}

func (p *serverPool) endPing(w *fdWaiter) {
	p.mu.Lock()
	delete(p.pings, w)
	p.mu.Unlock()
	w.close()
	p.pinging.Done()
}

// stopPings wakes every Ping in progress and waits for them to end
// (Client.Close): their libgearman objects are the Client's to free.
func (p *serverPool) stopPings() {
	p.mu.Lock()
	for w := range p.pings {
		w.wake()
	}
	p.mu.Unlock()
	p.pinging.Wait()
}
