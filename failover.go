package gearman

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// libgearman 1.1.20 cannot fail over between job servers: a task goes to one
// connection and stays there, with the last-added server down pipelined tasks
// are never submitted at all, and a dead idle connection to one server fails
// a call whose job runs on another. libgearman sends every job to one server
// anyway (the last added, while it answers). A client given several servers
// therefore gives its libgearman object one of them, its primary: the first
// listed that answers a TCP connect. When a connection fails it picks again
// and builds a new object; jobs no server acknowledged yet are submitted
// again there. A server found down is tried again after reprobeAfter, so one
// that came back is used again.
//
// RunTasks no longer runs its tasks on this object when the servers are
// several and distinct: it spreads them over routes of its own
// (taskroutes.go). The primary remains for EnableExceptionHandler, and for a
// server listed twice.

const (
	probeTimeout  = 250 * time.Millisecond
	reprobeAfter  = 3 * time.Second // how soon a server found down is tried again
	defaultHost   = "localhost"
	defaultPortNo = DefaultTCPPort
)

// endpoint is one job server of the client, as libgearman would resolve it.
type endpoint struct {
	host string
	port int
}

func (e endpoint) addr() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// endpoints expands the servers added so far, in the order they were added.
// AddServers lists are split the way libgearman splits them: on ',' and ':'.
func endpoints(specs []serverSpec) []endpoint {
	var out []endpoint
	add := func(host string, port int) {
		if host == "" {
			host = defaultHost
		}
		if port == 0 {
			port = defaultPortNo
		}
		out = append(out, endpoint{host, port})
	}
	for _, s := range specs {
		if !s.multi {
			add(s.host, s.port)
			continue
		}
		for _, item := range strings.Split(s.list, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			host, port, _ := strings.Cut(item, ":")
			p, _ := strconv.Atoi(port)
			add(host, p)
		}
	}
	return out
}

// reachable probes every endpoint at once and returns those that accept a
// TCP connection. When none does, it returns them all, so that the caller's
// next call fails with libgearman's own error rather than NoServers.
func reachable(eps []endpoint) (up []endpoint, allUp bool) {
	up, down := probe(eps)
	if len(up) == 0 {
		return eps, false
	}
	return up, len(down) == 0
}

// probe tries a TCP connection to every endpoint at once, and splits them
// into those that accepted it and those that did not, with the reason.
func probe(eps []endpoint) (up []endpoint, down map[endpoint]error) {
	errs := make([]error, len(eps))
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.DialTimeout("tcp", ep.addr(), probeTimeout)
			if err == nil {
				conn.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	down = make(map[endpoint]error)
	for i, ep := range eps {
		if errs[i] == nil {
			up = append(up, ep)
		} else {
			down[ep] = errs[i]
		}
	}
	return up, down
}

// unreachable describes the servers among eps that do not accept a
// connection now, in libgearman's words, or returns "" when all do.
func unreachable(eps []endpoint) string {
	_, down := probe(eps)
	var msgs []string
	for _, ep := range eps {
		if err := down[ep]; err != nil {
			msgs = append(msgs, "Connection to "+ep.addr()+" failed: "+err.Error())
			delete(down, ep) // a server listed twice is named once
		}
	}
	return strings.Join(msgs, "; ")
}

// failoverState is the client's view of its servers, guarded by the client's
// turn.
type failoverState struct {
	needProbe bool      // servers were added: pick a primary
	primary   endpoint  // the one server lib has
	someDown  bool      // a server did not answer the last probe
	probedAt  time.Time // last probe
}

// multiServer reports whether failover applies: with one server there is
// nowhere else to go, and the client keeps libgearman's behaviour.
func (c *Client) multiServer() []endpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	if eps := endpoints(c.servers); len(eps) > 1 {
		return eps
	}
	return nil
}

// failover rebuilds lib with the servers that answer now, if the client has
// several, and reports whether it did. Tasks in flight that no server
// acknowledged go back to the front of the queue, to be submitted again;
// those a server created are lost with it and returned.
func (c *Client) failover() (ok bool, lost []*Task) {
	return c.pickPrimary(true)
}

// pickPrimary probes the servers and builds lib on the first that answers;
// unless forced, only when that is not the primary already.
func (c *Client) pickPrimary(force bool) (ok bool, lost []*Task) {
	eps := c.multiServer()
	if eps == nil {
		return false, nil
	}
	up, allUp := reachable(eps)
	primary := up[0]
	if !force && primary == c.fo.primary {
		c.fo.someDown, c.fo.probedAt = !allUp, time.Now()
		return false, nil
	}
	lib, err := newClientLib()
	if err != nil {
		return false, nil
	}
	c.own.track(lib)
	c.settle(lib)
	lib.addServer(primary.host, primary.port)

	c.mu.Lock()
	running := c.tasks.running
	c.tasks.running = false // freeing must not refill the old lib
	c.tasks.abandon = LostConnection
	inflight := make([]*Task, 0, len(c.tasks.inflight))
	for t := range c.tasks.inflight {
		inflight = append(inflight, t)
	}
	c.mu.Unlock()
	for _, t := range inflight {
		if t.routed() { // on a server's route, not on lib (taskroutes.go)
			continue
		}
		if t.markRequeue() {
			continue
		}
		lost = append(lost, t)
	}
	c.own.free(c.lib) // libgearman hands every task in flight back through taskFreed
	c.lib = lib
	c.exceptions = false
	c.broken = false
	c.fo = failoverState{primary: primary, someDown: !allUp, probedAt: time.Now()}
	c.setRunning(running)
	return true, lost
}

// checkServers runs before a call: a client with several servers picks its
// primary at first, and again a few seconds after one did not answer, so
// that a server that came back (and is listed earlier) is used again.
func (c *Client) checkServers() {
	due := c.fo.needProbe || (c.fo.someDown && time.Since(c.fo.probedAt) > reprobeAfter)
	if due {
		force := c.fo.needProbe
		c.fo.needProbe = false
		if _, lost := c.pickPrimary(force); len(lost) > 0 {
			c.mu.Lock()
			c.tasks.lost = append(c.tasks.lost, lost...)
			c.mu.Unlock()
		}
	}
}
