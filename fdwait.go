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
// OS thread inside libgearman's poll(). It waits on duplicates of
// libgearman's descriptors: libgearman keeps its own, and closing a duplicate
// never closes the socket under it. Another goroutine can wake the wait
// (wake), and it ends at its deadline.
type fdWaiter struct {
	dups map[fdKey]*dupFD // one per socket, by fd and connect generation

	// Reused by every wait.
	live    map[fdKey]bool
	targets []waitTarget
	done    chan error

	mu      sync.Mutex
	waiting []waitTarget // what the wait in progress waits on
	woken   bool         // wake came, and the next wait returns at once
	blocked bool         // the wait in progress blocks in poll() on wakeFD too
	wakeFD  int          // an eventfd that ends such a wait; 0 until made
}

type fdKey struct {
	fd  int
	gen uint32
}

// dupFD is one duplicate, with what a wait on it needs, made once.
type dupFD struct {
	f        *os.File
	rc       syscall.RawConn
	readable func(uintptr) bool // a poll that does not wait
	writable func(uintptr) bool
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

// wait parks until one of reqs is ready, wake is called, or the deadline
// (zero: none) passes; woken reports a wake. Duplicates of sockets that reqs
// no longer lists are closed: libgearman closed or left them.
func (w *fdWaiter) wait(reqs []pollRequest, deadline time.Time) (woken bool, err error) {
	if w.live == nil {
		w.live = make(map[fdKey]bool)
	}
	clear(w.live)
	w.targets = w.targets[:0]
	for _, r := range reqs {
		k := fdKey{r.fd, r.gen}
		w.live[k] = true
		d, err := w.dup(k)
		if err != nil {
			return false, err
		}
		if r.events&pollIn != 0 {
			w.targets = append(w.targets, waitTarget{d, false})
		}
		if r.events&pollOut != 0 {
			w.targets = append(w.targets, waitTarget{d, true})
		}
	}
	for k, d := range w.dups {
		if !w.live[k] {
			d.f.Close()
			delete(w.dups, k)
		}
	}
	if len(w.targets) == 0 {
		return false, errors.New("nothing to wait on")
	}
	for _, t := range w.targets {
		t.d.f.SetDeadline(deadline)
	}

	w.mu.Lock()
	if w.woken {
		w.woken = false
		w.mu.Unlock()
		return true, nil
	}
	w.waiting = w.targets
	w.mu.Unlock()

	if len(w.targets) == 1 {
		err = w.targets[0].wait()
	} else {
		if w.done == nil {
			w.done = make(chan error, 8)
		}
		for _, t := range w.targets {
			go func() { w.done <- t.wait() }()
		}
		err = <-w.done
		for _, t := range w.targets { // end the others
			t.d.f.SetDeadline(time.Unix(1, 0))
		}
		for range len(w.targets) - 1 {
			if e := <-w.done; errors.Is(err, os.ErrDeadlineExceeded) {
				err = e // a socket that was ready wins over one cut short
			}
		}
	}

	w.mu.Lock()
	w.waiting = nil
	woken, w.woken = w.woken, false
	w.mu.Unlock()
	switch {
	case woken:
		return true, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return false, errWaitDeadline
	}
	return false, err
}

// wait parks until t's socket is ready in t's direction. epoll reports only
// readiness that comes after the goroutine parks, so what is ready already
// is found first by a poll that does not wait.
func (t waitTarget) wait() error {
	if t.out {
		return t.d.rc.Write(t.d.writable)
	}
	return t.d.rc.Read(t.d.readable)
}

// wake ends the wait in progress, or else the next one, at once.
func (w *fdWaiter) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.woken = true
	for _, t := range w.waiting {
		t.d.f.SetDeadline(time.Unix(1, 0))
	}
	if w.blocked {
		one := [8]byte{1}
		syscall.Write(w.wakeFD, one[:])
	}
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
	d := &dupFD{
		f:        f,
		rc:       rc,
		readable: func(uintptr) bool { return pollReady(k.fd, pollIn) },
		writable: func(uintptr) bool { return pollReady(k.fd, pollOut) },
	}
	w.dups[k] = d
	return d, nil
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
