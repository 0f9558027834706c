package gearman

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"time"
)

// fdWaiter parks a goroutine in Go's netpoller until one of the sockets a
// non-blocking libgearman object asked for is ready, instead of blocking an
// OS thread inside libgearman's poll(). The Client's drivers and a Worker's
// slots wait with it. It waits on duplicates of libgearman's descriptors:
// libgearman keeps its own, and closing a duplicate never closes the socket
// under it. Another goroutine can wake the wait (wake), and it ends at its
// deadline.
type fdWaiter struct {
	// trust takes the netpoller's report as it comes: the wait looks once
	// before it parks, as epoll reports only readiness that comes later, and
	// not again after the report. A worker tells libgearman the socket is
	// ready without a poll of its own (the recorder's blind and ready,
	// wire.h), and each poll saved is a system call on the CPU it shares
	// with gearmand. Without trust, every report is checked by a poll.
	trust bool

	dups map[fdKey]*dupFD // one per socket, by fd and connect generation

	// Reused by every wait.
	live    map[fdKey]bool
	targets []waitTarget
	done    chan error // the waits on several sockets at once

	mu      sync.Mutex
	waiting []*dupFD // what the wait in progress waits on
	woken   bool     // wake came: the wait in progress, or else the next, returns at once
	blocked bool     // the wait in progress blocks in poll() on wakeFD too
	wakeFD  int      // an eventfd that ends such a wait; 0 until made
}

type fdKey struct {
	fd  int
	gen uint32
}

// dupFD is one duplicate, with what a wait on it needs, made once.
type dupFD struct {
	f        *os.File
	rc       syscall.RawConn
	deadline time.Time // the one set on f, kept to spare a call when it stays
	// With trust, whether the wait in progress looked once, each way: the
	// next look is the netpoller's report.
	lookedIn, lookedOut bool
	readable, writable  func(uintptr) bool // made once, as a method value per wait would be allocated
}

type waitTarget struct {
	d   *dupFD
	out bool
}

const (
	pollIn  = 0x1 // POLLIN
	pollOut = 0x4 // POLLOUT
)

// errWaitDeadline is what wait returns when its deadline passed first.
var errWaitDeadline = errors.New("wait deadline")

// past is a deadline that has passed: setting it ends a wait at once.
var past = time.Unix(1, 0)

// wait parks until one of reqs is ready, wake is called, or the deadline
// (zero: none) passes; woken reports a wake. Duplicates of sockets that reqs
// no longer lists are closed: libgearman closed or left them.
func (w *fdWaiter) wait(reqs []pollRequest, deadline time.Time) (woken bool, err error) {
	if w.live == nil {
		w.live = make(map[fdKey]bool)
	}
	clear(w.live)
	targets := w.targets[:0]
	for _, r := range reqs {
		k := fdKey{r.fd, r.gen}
		w.live[k] = true
		d, err := w.dup(k)
		if err != nil {
			return false, err
		}
		d.setDeadline(deadline)
		if r.events&pollIn != 0 {
			targets = append(targets, waitTarget{d, false})
		}
		if r.events&pollOut != 0 {
			targets = append(targets, waitTarget{d, true})
		}
	}
	if len(w.dups) > len(w.live) {
		for k, d := range w.dups {
			if !w.live[k] {
				d.f.Close()
				delete(w.dups, k)
			}
		}
	}
	w.targets = targets
	if len(targets) == 0 {
		return false, errors.New("nothing to wait on")
	}

	w.mu.Lock()
	if w.woken {
		w.woken = false
		w.mu.Unlock()
		return true, nil
	}
	for _, t := range targets {
		w.waiting = append(w.waiting, t.d)
	}
	w.mu.Unlock()

	if len(targets) == 1 {
		err = targets[0].wait()
	} else {
		if w.done == nil {
			w.done = make(chan error, 8)
		}
		for _, t := range targets {
			go func() { w.done <- t.wait() }()
		}
		err = <-w.done
		for _, t := range targets { // end the others
			t.d.setDeadline(past)
		}
		for range len(targets) - 1 {
			if e := <-w.done; errors.Is(err, os.ErrDeadlineExceeded) {
				err = e // a socket that was ready wins over one cut short
			}
		}
	}

	w.mu.Lock()
	w.waiting = w.waiting[:0]
	woken, w.woken = w.woken, false
	w.mu.Unlock()
	switch {
	case woken:
		for _, t := range targets { // wake cut the deadline short on f alone
			t.d.f.SetDeadline(time.Time{})
			t.d.deadline = time.Time{}
		}
		return true, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return false, errWaitDeadline
	}
	return false, err
}

// setDeadline sets d's deadline, unless it is set already. Only the waiting
// goroutine calls it; wake sets a passed deadline on f directly, and the
// wait resets it afterwards.
func (d *dupFD) setDeadline(t time.Time) {
	if d.deadline != t {
		d.f.SetDeadline(t)
		d.deadline = t
	}
}

// wait returns once t's socket is ready in t's direction: at once if the
// look before the wait finds it so, or else at the netpoller's report.
func (t waitTarget) wait() error {
	if t.out {
		t.d.lookedOut = false
		return t.d.rc.Write(t.d.writable)
	}
	t.d.lookedIn = false
	return t.d.rc.Read(t.d.readable)
}

// wake ends the wait in progress, or else the next one, at once.
func (w *fdWaiter) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.woken = true
	for _, d := range w.waiting {
		d.f.SetDeadline(past)
	}
	if w.blocked {
		one := [8]byte{1}
		syscall.Write(w.wakeFD, one[:])
	}
}

// forget drops a wake meant for a call that has ended.
func (w *fdWaiter) forget() {
	w.mu.Lock()
	w.woken = false
	w.mu.Unlock()
}

// inC runs call, which blocks the thread in poll() on wakeFD among others,
// so that wake ends it: a caller that has the driver to itself waits that
// way, which costs less than parking in the netpoller. It reports whether
// wake came, before call or during it.
func (w *fdWaiter) inC(call func(wakeFD int)) (woken bool, err error) {
	w.mu.Lock()
	if w.woken {
		w.woken = false
		w.mu.Unlock()
		return true, nil
	}
	if w.wakeFD == 0 {
		fd, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
		if errno != 0 {
			w.mu.Unlock()
			return false, os.NewSyscallError("eventfd2", errno)
		}
		w.wakeFD = int(fd)
	}
	w.blocked = true
	w.mu.Unlock()

	call(w.wakeFD)

	w.mu.Lock()
	w.blocked = false
	woken, w.woken = w.woken, false
	w.mu.Unlock()
	if woken { // a wake that came as call returned left the eventfd written
		var b [8]byte
		syscall.Read(w.wakeFD, b[:])
	}
	return woken, nil
}

// close releases everything, the eventfd too (Client.Close).
func (w *fdWaiter) close() {
	w.release()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wakeFD != 0 {
		syscall.Close(w.wakeFD)
		w.wakeFD = 0
	}
}

// release closes every duplicate, so that no socket libgearman closes stays
// open through one.
func (w *fdWaiter) release() {
	for k, d := range w.dups {
		d.f.Close()
		delete(w.dups, k)
	}
}

func (w *fdWaiter) dup(k fdKey) (*dupFD, error) {
	if d, ok := w.dups[k]; ok {
		return d, nil
	}
	if w.dups == nil {
		w.dups = make(map[fdKey]*dupFD)
	}
	f, rc, err := dupSocket(k.fd)
	if err != nil {
		return nil, err
	}
	d := &dupFD{f: f, rc: rc}
	if w.trust {
		d.readable, d.writable = d.lookIn, d.lookOut
	} else {
		d.readable = func(uintptr) bool { return pollReady(k.fd, pollIn) }
		d.writable = func(uintptr) bool { return pollReady(k.fd, pollOut) }
	}
	w.dups[k] = d
	return d, nil
}

func (d *dupFD) lookIn(fd uintptr) bool {
	if d.lookedIn {
		return true
	}
	d.lookedIn = true
	return pollReady(int(fd), pollIn)
}

func (d *dupFD) lookOut(fd uintptr) bool {
	if d.lookedOut {
		return true
	}
	d.lookedOut = true
	return pollReady(int(fd), pollOut)
}

// dupSocket duplicates one of libgearman's sockets and registers the
// duplicate with the netpoller. The duplicate shares the socket's file
// description, which libgearman made non-blocking already; closing it never
// closes the socket under libgearman.
func dupSocket(fd int) (*os.File, syscall.RawConn, error) {
	dup, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return nil, nil, os.NewSyscallError("fcntl", errno)
	}
	if err := syscall.SetNonblock(int(dup), true); err != nil {
		syscall.Close(int(dup))
		return nil, nil, err
	}
	f := os.NewFile(dup, "libgearman socket")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, rc, nil
}
