package gearman

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Client's servers as endpoints, and TCP probes of them.
//
// libgearman 1.1.20 cannot fail over between job servers: a task goes to one
// connection and stays there, with the last-added server down pipelined tasks
// are never submitted at all, and a dead idle connection to one server fails
// a call whose job runs on another. So a Client given several servers gives
// no libgearman object more than one of them: each server has its own
// drivers (servers.go) and its own task route (taskroutes.go).

const (
	probeTimeout  = 250 * time.Millisecond
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

// probe tries a TCP connection to every endpoint at once, and splits them
// into those that accepted it and those that did not, with the reason.
func probe(eps []endpoint) (up []endpoint, down map[endpoint]error) {
	errs := eachAtOnce(eps, func(ep endpoint) error {
		conn, err := net.DialTimeout("tcp", ep.addr(), probeTimeout)
		if err == nil {
			conn.Close()
		}
		return err
	})
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

// eachAtOnce runs f for every server, each on a goroutine of its own, and
// returns their errors in the servers' order.
func eachAtOnce[T any](servers []T, f func(T) error) []error {
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(s)
		}()
	}
	wg.Wait()
	return errs
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

// multiServer returns the Client's servers when it has several.
func (c *Client) multiServer() []endpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	if eps := endpoints(c.servers); len(eps) > 1 {
		return eps
	}
	return nil
}
