package gearman

import "time"

// sliceWatchdog bounds a worker's wait for a job that has no limit of its
// own: Work, WorkContext and Run with the default timeout (-1) and a context
// without a deadline.
//
// Such a wait is handed to libgearman without a poll timeout. A poll() with a
// timeout arms a kernel high-resolution timer on every call, and the worker
// polls up to three times a job; in this project's VM that cost the Go worker
// 2.5 to 3 µs of CPU per job, a quarter of what it used beyond the C worker
// (bench/notes.md, "Waiting without a poll timeout").
//
// The wait must still end every workSliceMs: only a new call sends GRAB_JOB
// again and reconnects the servers that were down (a server that comes up
// while the worker idles on another is otherwise never registered with). So
// one timer of the Worker's own interrupts a wait that has lasted that long,
// through libgearman's wakeup pipe, and the worker empties the pipe once the
// wait returned: the interrupt stands for the poll timeout it replaces, and
// the libgearman object stays as it is. The timer is armed by the first wait
// and re-arms itself while waits go on, so a busy worker pays no timer
// operation per job.
//
// It never fires while a job runs: the job's own sends wait inside
// libgearman too, and the wire policy (wire.c) would only put the interrupt
// off to the end of the send, where it would cut the next wait short for
// nothing. The fields are guarded by the Worker's wakeMu.
type sliceWatchdog struct {
	timer *time.Timer
	armed bool // timer is running
	on    bool // a wait bounded by the watchdog is in progress
}

// workSlice is workSliceMs as a duration. Tests shorten it
// (export_test.go) to put many slice ends inside one transfer.
var workSlice = workSliceMs * time.Millisecond

// watchWait starts watching the wait that begins. wakeMu is held.
func (w *Worker) watchWait() {
	d := &w.dog
	d.on = true
	switch {
	case d.armed:
	case d.timer == nil:
		d.timer = time.AfterFunc(workSlice, w.sliceExpired)
		d.armed = true
	default:
		d.timer.Reset(workSlice)
		d.armed = true
	}
}

// unwatchWait ends the watch of the wait that returned; the Worker's woken
// says whether the watchdog ended it. wakeMu is held.
func (w *Worker) unwatchWait() { w.dog.on = false }

// sliceExpired is the timer's function: it ends the wait in progress if it
// has lasted workSlice, and otherwise waits for the rest of the slice. The C
// side keeps the wait's start and whether a job runs (the pace,
// callbacks.c): a batch starts a new wait after every job without coming
// back to Go. A job counts as running until its result was sent.
func (w *Worker) sliceExpired() {
	w.wakeMu.Lock()
	defer w.wakeMu.Unlock()
	d := &w.dog
	if !d.on {
		d.armed = false // no wait to watch: the next one re-arms
		return
	}
	left := workSlice // a job is no wait
	if idle, waiting := w.waking.idleFor(); waiting {
		left -= idle
	}
	if left > 0 {
		d.timer.Reset(left)
		return
	}
	d.armed = false
	w.interruptWaitLocked(wokenBySlice)
}

// stopWatchdog stops the timer for good (Close).
func (w *Worker) stopWatchdog() {
	w.wakeMu.Lock()
	defer w.wakeMu.Unlock()
	if w.dog.timer != nil {
		w.dog.timer.Stop()
	}
	w.dog.armed = false
}
