package gearman

import "time"

// GrabJob takes a job without running a function for it; the job keeps a
// libgearman worker of its own until it is completed.
//
// libgearman 1.1.20 cannot grab twice on one gearman_worker_st once it has
// handed out a job: after the next empty answer it keeps a state that points
// at no connection, and the grab after that dereferences NULL (PHP's grabJob
// crashes there). So the libgearman worker that handed out a job goes with
// the job, which sends through it and frees it when completed, and the next
// GrabJob starts a fresh one. This also lets a grabbed job's sends run while
// another GrabJob waits on the Worker.
//
// gearman_worker_grab_job waits for the server's answer but not for a job:
// outside gearman_worker_work it sends no PRE_SLEEP and so is never woken
// when one arrives. GrabJob therefore asks again after a pause that grows
// from grabPauseMin to grabPauseMax while the queue stays empty.
const (
	grabPauseMin = 5 * time.Millisecond
	grabPauseMax = 100 * time.Millisecond
)

// GrabJob waits for one job and returns it without running any function
// (PHP grabJob). The caller completes it with SendComplete, SendFail or
// SendException; until then the job holds its place on the server. With a
// timeout (SetTimeout) it returns an error wrapping Timeout when no job came
// in time; with WorkerNonBlocking it asks once and returns NoJobs or IOWait
// when there is none, and Wait then waits for the answer.
//
// Unlike PHP, which asks the servers once and returns false with NO_JOBS
// when none has a job (and crashes on the third call after a job taken),
// GrabJob waits for a job, as Work does.
func (w *Worker) GrabJob() (*Job, error) {
	const op = "GrabJob"
	if err := w.acquire(contextBackground, op); err != nil {
		return nil, err
	}
	defer w.release()
	clock := newIdleClock(contextBackground, w.Timeout())
	nonBlocking := w.Options()&WorkerNonBlocking != 0
	var pause time.Duration
	for {
		lib, err := w.grabbingLib(op)
		if err != nil {
			return nil, err
		}
		ms := clock.sliceOf(workSliceMs)
		if nonBlocking {
			ms = clampWait(w.Timeout())
		}
		var job jobLib
		var rc ReturnCode
		woke := w.interruptible(contextBackground, lib, nil, func() { job, rc = lib.grabJob(ms) })
		if job != nil {
			w.grabLib, w.waitOnGrab = nil, false // the job's now
			j := &Job{lib: job, own: lib, worker: w}
			j.startContext(w.closing, w.timeoutOf(j.FunctionName()))
			w.mu.Lock()
			w.grabbed[j] = struct{}{}
			w.mu.Unlock()
			w.succeed(Success)
			return j, nil
		}
		// A blocking worker stays fit to ask again after an empty answer,
		// a non-blocking one only while its request is under way (IOWait):
		// its empty answer leaves the state that crashes. Only Close
		// interrupts GrabJob, and a closed worker asks no more.
		reuse := (rc == NoJobs && !nonBlocking || rc == IOWait && nonBlocking) &&
			woke == notWoken
		var failure error
		if nonBlocking || (rc != NoJobs && rc != Timeout && rc != Success && woke == notWoken) {
			failure = w.failOn(lib, op, rc)
		}
		if !reuse {
			w.dropGrabLib()
		}
		w.waitOnGrab = reuse && nonBlocking
		switch {
		case failure != nil:
			return nil, failure
		case w.closed.Load():
			return nil, closedError(op)
		case clock.expired():
			return nil, w.fail(op, Timeout)
		}
		pause = min(max(2*pause, grabPauseMin), grabPauseMax)
		if !w.pauseFor(clock.bound(pause)) {
			return nil, closedError(op)
		}
	}
}

// grabbingLib returns GrabJob's libgearman worker, making it first if the
// last one went with a job.
func (w *Worker) grabbingLib(op string) (workerLib, error) {
	if w.grabLib != nil {
		w.refreshLog(w.grabLib)
		return w.grabLib, nil
	}
	lib, err := newWorkerLib()
	if err != nil {
		return nil, w.record(err)
	}
	w.own.track(lib)
	w.settle(lib)
	if rc := w.configure(lib); rc != Success {
		w.own.free(lib)
		return nil, w.fail(op, rc)
	}
	w.grabLib = lib
	return lib, nil
}

// dropGrabLib frees GrabJob's libgearman worker, if it has one. The turn is
// held.
func (w *Worker) dropGrabLib() {
	if w.grabLib != nil {
		w.own.free(w.grabLib)
		w.grabLib, w.waitOnGrab = nil, false
	}
}

// pauseFor waits d, and reports false if the Worker was closed meanwhile.
func (w *Worker) pauseFor(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-w.quit:
		return false
	}
}
