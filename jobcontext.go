package gearman

import (
	"context"
	"time"
)

// startContext records what Context needs: the Worker's closing context and
// the function's timeout, counted from now. The context itself is made only
// if the function asks for it.
func (j *Job) startContext(closing context.Context, timeoutMs int) {
	j.closing = closing
	if timeoutMs > 0 {
		j.deadline = time.Now().Add(time.Duration(timeoutMs) * time.Millisecond)
	}
}

// timeoutOf returns the timeout that function was registered with, 0 if none.
func (w *Worker) timeoutOf(function string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f := w.funcs[function]; f != nil {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.timeout
	}
	return w.registered[function]
}

// Context returns the job's context (Go only). It is done when the job's
// timeout from AddFunction (or Register, for GrabJob) has passed, as gearmand
// then gives the job to another worker, or when the Worker is closed, and
// once the job has ended (its function returned, or a grabbed job was
// completed). Run's graceful stop does not end it: the jobs in hand finish.
func (j *Job) Context() context.Context {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ctx == nil {
		parent := j.closing
		if parent == nil {
			parent = context.Background()
		}
		if j.deadline.IsZero() {
			j.ctx, j.cancel = context.WithCancel(parent)
		} else {
			j.ctx, j.cancel = context.WithDeadline(parent, j.deadline)
		}
		if j.ctxEnded { // asked after the job ended
			j.cancel()
		}
	}
	return j.ctx
}

// endContextLocked ends the context of a job that has ended. j.mu is held.
func (j *Job) endContextLocked() {
	j.ctxEnded = true
	if j.cancel != nil {
		j.cancel()
	}
}

// late reports whether the job ran to within lateMargin of its timeout, or
// past it: gearmand has then probably ended it, and answers its result with
// ERROR.
func (j *Job) late() bool {
	return !j.deadline.IsZero() && time.Now().After(j.deadline.Add(-lateMargin))
}
