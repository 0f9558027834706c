package gearman

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"time"
)

// netWaiter parks a worker's goroutine in Go's netpoller on duplicates of
// the sockets its libgearman worker asked for. It looks once before it
// parks, as the netpoller forgets what it reported before the wait began,
// and not again after the report: libgearman is told the socket is ready
// without a poll of its own (the recorder's blind and ready, wire.h). The
// worker makes several waits a job, and each poll saved is a system call on
// the CPU it shares with gearmand.
type netWaiter struct {
	dups    map[fdKey]*netDup
	live    map[fdKey]bool
	targets []waitOn
	done    chan error // the waits on several sockets at once

	mu      sync.Mutex
	waiting []*netDup // what the wait in progress waits on
	woken   bool      // wake came: the wait in progress, or else the next, returns at once
}

type netDup struct {
	f        *os.File
	rc       syscall.RawConn
	deadline time.Time // the one set on f, kept to spare a call when it stays
	// Whether the wait in progress looked once, each way: the next look is
	// the netpoller's report. The functions are made once, as a method
	// value made per wait would be allocated each time.
	lookedIn, lookedOut bool
	readable, writable  func(uintptr) bool
}

// wait parks until one of reqs is ready, wake is called, or the deadline
// (zero: none) passes. It returns nil for readiness, errWaitDeadline, or
// errWoken. Duplicates of sockets that reqs no longer lists are closed.
func (n *netWaiter) wait(reqs []pollRequest, deadline time.Time) error {
	if n.live == nil {
		n.live = make(map[fdKey]bool)
		n.dups = make(map[fdKey]*netDup)
	}
	clear(n.live)
	targets := n.targets[:0]
	for _, r := range reqs {
		k := fdKey{r.fd, r.gen}
		n.live[k] = true
		d, err := n.dup(k)
		if err != nil {
			return err
		}
		if d.deadline != deadline {
			d.f.SetDeadline(deadline)
			d.deadline = deadline
		}
		if r.events&pollIn != 0 {
			targets = append(targets, waitOn{d, false})
		}
		if r.events&pollOut != 0 {
			targets = append(targets, waitOn{d, true})
		}
	}
	if len(n.dups) > len(n.live) {
		for k, d := range n.dups {
			if !n.live[k] {
				d.f.Close()
				delete(n.dups, k)
			}
		}
	}
	n.targets = targets
	if len(targets) == 0 {
		return errors.New("nothing to wait on")
	}

	n.mu.Lock()
	if n.woken {
		n.woken = false
		n.mu.Unlock()
		return errWoken
	}
	for _, t := range targets {
		n.waiting = append(n.waiting, t.d)
	}
	n.mu.Unlock()

	var err error
	if len(targets) == 1 {
		err = targets[0].wait()
	} else {
		if n.done == nil {
			n.done = make(chan error, 8)
		}
		for _, t := range targets {
			go func() { n.done <- t.wait() }()
		}
		err = <-n.done
		for _, t := range targets { // end the others
			t.d.f.SetDeadline(time.Unix(1, 0))
			t.d.deadline = time.Unix(1, 0)
		}
		for range len(targets) - 1 {
			if e := <-n.done; errors.Is(err, os.ErrDeadlineExceeded) {
				err = e // a socket that was ready wins over one cut short
			}
		}
	}

	n.mu.Lock()
	n.waiting = n.waiting[:0]
	woken := n.woken
	n.woken = false
	n.mu.Unlock()
	switch {
	case woken:
		for _, t := range targets { // wake cut the deadline short
			t.d.f.SetDeadline(time.Time{})
			t.d.deadline = time.Time{}
		}
		return errWoken
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errWaitDeadline
	}
	return err
}

// errWoken is what wait returns after wake.
var errWoken = errors.New("wait woken")

type waitOn struct {
	d   *netDup
	out bool
}

// wait returns once the socket is ready: at once if the look before the
// wait finds it so, or else at the netpoller's report.
func (t waitOn) wait() error {
	if t.out {
		t.d.lookedOut = false
		return t.d.rc.Write(t.d.writable)
	}
	t.d.lookedIn = false
	return t.d.rc.Read(t.d.readable)
}

func (d *netDup) lookIn(fd uintptr) bool {
	if d.lookedIn {
		return true
	}
	d.lookedIn = true
	return pollReady(int(fd), pollIn)
}

func (d *netDup) lookOut(fd uintptr) bool {
	if d.lookedOut {
		return true
	}
	d.lookedOut = true
	return pollReady(int(fd), pollOut)
}

// wake ends the wait in progress, or else the next one, at once.
func (n *netWaiter) wake() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.woken = true
	for _, d := range n.waiting {
		d.f.SetDeadline(time.Unix(1, 0))
	}
}

// forget drops a wake meant for a call that has ended.
func (n *netWaiter) forget() {
	n.mu.Lock()
	n.woken = false
	n.mu.Unlock()
}

// release closes every duplicate, so that none keeps open a socket
// libgearman closed.
func (n *netWaiter) release() {
	for k, d := range n.dups {
		d.f.Close()
		delete(n.dups, k)
	}
}

func (n *netWaiter) dup(k fdKey) (*netDup, error) {
	if d, ok := n.dups[k]; ok {
		return d, nil
	}
	f, rc, err := dupSocket(k.fd)
	if err != nil {
		return nil, err
	}
	d := &netDup{f: f, rc: rc}
	d.readable, d.writable = d.lookIn, d.lookOut
	n.dups[k] = d
	return d, nil
}
