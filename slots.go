package gearman

import (
	"context"
	"sync"
)

// A Worker serves several jobs at once with one libgearman worker per slot:
// libgearman runs a job's function inside its work call, and one object's
// jobs therefore follow each other. Run with a concurrency of n drives the
// Worker itself and n-1 clones, each on its own goroutine; the clones live
// as long as that Run. Each slot waits for its jobs in Go's netpoller
// (worknet.go), so that idle slots hold no OS thread.

// maxConcurrency bounds SetConcurrency: each slot holds a connection to every
// server.
const maxConcurrency = 1024

// SetConcurrency sets how many jobs Run serves at once, for all the
// registered functions together (Go only). The default, 1, is PHP's
// behaviour. Work and WorkContext always run one job. Run reads it, and the
// Worker's functions and settings, when it starts.
func (w *Worker) SetConcurrency(n int) error {
	const op = "SetConcurrency"
	if w.closed.Load() {
		return closedError(op)
	}
	if n < 1 || n > maxConcurrency {
		return w.record(newError(op, InvalidArgument, "concurrency must be 1 to 1024"))
	}
	w.mu.Lock()
	w.concurrency = n
	w.mu.Unlock()
	return nil
}

// Concurrency returns how many jobs Run serves at once (Go only).
func (w *Worker) Concurrency() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.concurrency
}

// runSlots is Run with n slots: the Worker and n-1 clones of it. When ctx
// ends, each slot finishes the job in hand and sends its result; when one
// slot fails, the others stop the same way and Run returns that failure.
func (w *Worker) runSlots(ctx context.Context, n int) error {
	clones, err := w.addSlots(n - 1)
	if err != nil {
		return err
	}
	defer w.dropSlots(clones)

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	errs := make(chan error, len(clones))
	var wg sync.WaitGroup
	for _, s := range clones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.run(ctx, true); err != nil {
				stop()
				errs <- err
			}
		}()
	}
	err = w.run(ctx, true)
	stop()
	wg.Wait()
	close(errs)
	if err != nil {
		return err
	}
	return <-errs // the first clone's failure, or nil
}

// addSlots makes k clones of the Worker, listed so that Close closes them.
func (w *Worker) addSlots(k int) ([]*Worker, error) {
	clones := make([]*Worker, 0, k)
	for range k {
		s, err := w.Clone()
		if err != nil {
			w.dropSlots(clones)
			return nil, err
		}
		s.log.follow = w.log // SetLogger on w reaches the slot
		clones = append(clones, s)
	}
	w.mu.Lock()
	w.slots = append(w.slots, clones...)
	w.mu.Unlock()
	if w.closed.Load() { // Close may have looked at the list before
		w.dropSlots(clones)
		return nil, closedError("Run")
	}
	return clones, nil
}

// dropSlots closes clones made by addSlots and forgets them.
func (w *Worker) dropSlots(clones []*Worker) {
	for _, s := range clones {
		s.Close()
	}
	w.mu.Lock()
	w.slots = removeAll(w.slots, clones)
	w.mu.Unlock()
}

// closeSlots closes the clones of a Run in progress (Close).
func (w *Worker) closeSlots() {
	w.mu.Lock()
	clones := append([]*Worker(nil), w.slots...)
	w.mu.Unlock()
	for _, s := range clones {
		s.Close()
	}
}

func removeAll(list, gone []*Worker) []*Worker {
	out := list[:0]
	for _, s := range list {
		keep := true
		for _, g := range gone {
			if s == g {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}
