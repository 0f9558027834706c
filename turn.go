package gearman

import (
	"context"
	"sync"
	"sync/atomic"
)

// turn serializes the calls on a Client or Worker: one libgearman call at a
// time. A caller waiting for its turn gives up when its context ends.
//
// It is a mutex rather than a channel of capacity one because a worker takes
// it once a job: uncontended, a mutex costs two atomic operations where the
// channel's send and receive each took the channel's lock (bench/notes.md has
// the count). Waiting callers, the rare case, sleep on freed.
type turn struct {
	mu      sync.Mutex
	waiting atomic.Int32  // callers blocked in take with a context that can end
	freed   chan struct{} // a hint for them that mu was released
}

// newTurn's result is taken by address: a turn holds a mutex.
func newTurn() *turn { return &turn{freed: make(chan struct{}, 1)} }

// take waits for the turn, unless ctx ends first.
func (t *turn) take(ctx context.Context) error {
	// An expired context must not go ahead, even when the turn is free.
	if ended(ctx) {
		return ctx.Err()
	}
	if t.mu.TryLock() { // the usual case
		return nil
	}
	if ctx.Done() == nil { // no end to give up for
		t.wait()
		return nil
	}
	t.waiting.Add(1)
	defer t.waiting.Add(-1)
	for {
		if t.mu.TryLock() {
			return nil
		}
		select {
		case <-t.freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// wait takes the turn whatever it takes: Close waits for the call in
// progress, whatever that call's context.
func (t *turn) wait() { t.mu.Lock() }

// give ends the turn. A hint already in freed is enough: whoever takes it
// tries the lock again, and give sends another while anyone still waits.
func (t *turn) give() {
	t.mu.Unlock()
	if t.waiting.Load() > 0 {
		select {
		case t.freed <- struct{}{}:
		default:
		}
	}
}
