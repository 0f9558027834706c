package gearman

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Job is one job a worker runs (PHP GearmanJob). A Job given to a WorkerFunc
// is valid until that function returns; one from GrabJob until it is
// completed or its Worker is closed. After that every method returns a zero
// value or an error wrapping ErrJobDone: libgearman has freed the job.
//
// Unlike PHP, whose extension crashes on a job libgearman has freed, such a
// call is safe.
//
// Unlike PHP, a Job has no constructor (PHP GearmanJob::__construct) and no
// destructor (PHP GearmanJob::__destruct): the Worker creates every Job, and
// frees it when its WorkerFunc returns or, for GrabJob, when it is completed.
type Job struct {
	mu     sync.Mutex
	lib    jobLib    // nil once invalid
	own    workerLib // a grabbed job's own libgearman worker (grab.go)
	worker *Worker   // a grabbed job's Worker, which lists it until it ends
	ret    ReturnCode
	done   bool // a terminal packet was sent

	// What Context needs, and the context once asked for (jobcontext.go).
	closing  context.Context // done when the Worker is closed
	deadline time.Time       // the function's timeout; zero: none
	ctx      context.Context
	cancel   context.CancelFunc
	ctxEnded bool

	// Read from libgearman on first use and kept, so that they stay readable
	// after the job became invalid.
	handle, function, unique string
	workload                 []byte
	loaded                   jobFields
}

// jobFields says which of a Job's fields were read from libgearman.
type jobFields uint8

const (
	fieldHandle jobFields = 1 << iota
	fieldFunction
	fieldUnique
	fieldWorkload
	allFields = fieldHandle | fieldFunction | fieldUnique | fieldWorkload
)

func (j *Job) invalidate() {
	j.mu.Lock()
	j.lib = nil
	j.endContextLocked()
	j.mu.Unlock()
}

// abandon ends a grabbed job that was not completed (Close).
func (j *Job) abandon() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.releaseLocked()
}

// releaseLocked frees a grabbed job and its libgearman worker, which frees
// the job along with it. j.mu is held.
func (j *Job) releaseLocked() {
	j.endContextLocked()
	if j.lib != nil {
		j.lib.detach()
		j.lib = nil
	}
	if j.own != nil {
		j.worker.own.free(j.own)
		j.own = nil
	}
}

// loadLocked reads the fields in want not read yet. j.mu is held.
func (j *Job) loadLocked(want jobFields) {
	want &^= j.loaded
	// A finished job reads nothing more from libgearman, even in the moment
	// before its function's return invalidates it: what it answers then must
	// not depend on which goroutine runs first.
	if want == 0 || j.lib == nil || j.done {
		return
	}
	if want&fieldHandle != 0 {
		j.handle = j.lib.handle()
	}
	if want&fieldFunction != 0 {
		j.function = j.lib.functionName()
	}
	if want&fieldUnique != 0 {
		j.unique = j.lib.unique()
	}
	if want&fieldWorkload != 0 {
		j.workload = j.lib.workload()
	}
	j.loaded |= want
}

// Handle returns the job handle, such as "H:host:42" (PHP handle).
func (j *Job) Handle() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.loadLocked(fieldHandle)
	return j.handle
}

// FunctionName returns the name of the function the job is for (PHP
// functionName).
func (j *Job) FunctionName() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.loadLocked(fieldFunction)
	return j.function
}

// Unique returns the job's unique key (PHP unique).
func (j *Job) Unique() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.loadLocked(fieldUnique)
	return j.unique
}

// Workload returns the job's workload, binary-safe (PHP workload). The slice
// is shared by every call; copy it before changing it.
func (j *Job) Workload() []byte {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.loadLocked(fieldWorkload)
	return j.workload
}

// WorkloadSize returns the size of the workload (PHP workloadSize).
func (j *Job) WorkloadSize() int { return len(j.Workload()) }

// ReturnCode returns the code set by SetReturn or by the last Send call (PHP
// returnCode).
func (j *Job) ReturnCode() ReturnCode {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.ret
}

// SetReturn sets the code the job ends with when its WorkerFunc returns a
// nil error (PHP setReturn): WorkFail ends it with WORK_FAIL. As in PHP, a
// later Send call resets it.
func (j *Job) SetReturn(rc ReturnCode) error {
	if rc < 0 || rc > MaxReturn {
		return newError("Job.SetReturn", InvalidArgument, fmt.Sprintf("invalid return code %d", int(rc)))
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.lib == nil || j.done {
		return wrapError("Job.SetReturn", InvalidArgument, ErrJobDone)
	}
	j.ret = rc
	return nil
}

// SendData sends a WORK_DATA chunk to the client (PHP sendData).
func (j *Job) SendData(data []byte) error {
	return j.send("Job.SendData", false, func(l jobLib) ReturnCode { return l.sendData(data) })
}

// SendWarning sends a WORK_WARNING to the client (PHP sendWarning).
func (j *Job) SendWarning(warning []byte) error {
	return j.send("Job.SendWarning", false, func(l jobLib) ReturnCode { return l.sendWarning(warning) })
}

// SendStatus sends the job's progress, numerator of denominator (PHP
// sendStatus).
func (j *Job) SendStatus(numerator, denominator int) error {
	if numerator < 0 || denominator < 0 {
		return newError("Job.SendStatus", InvalidArgument, "negative status")
	}
	return j.send("Job.SendStatus", false, func(l jobLib) ReturnCode { return l.sendStatus(numerator, denominator) })
}

// SendComplete ends the job with result (PHP sendComplete); the WorkerFunc's
// own result is then ignored.
func (j *Job) SendComplete(result []byte) error {
	return j.send("Job.SendComplete", true, func(l jobLib) ReturnCode { return l.sendComplete(result) })
}

// SendException ends the job with WORK_EXCEPTION carrying exception (PHP
// sendException).
func (j *Job) SendException(exception []byte) error {
	return j.send("Job.SendException", true, func(l jobLib) ReturnCode { return l.sendException(exception) })
}

// SendFail ends the job with WORK_FAIL (PHP sendFail).
func (j *Job) SendFail() error {
	return j.send("Job.SendFail", true, func(l jobLib) ReturnCode { return l.sendFail() })
}

// Complete ends the job with result.
//
// Deprecated: use SendComplete (PHP complete).
func (j *Job) Complete(result []byte) error { return j.SendComplete(result) }

// Data sends a data chunk.
//
// Deprecated: use SendData (PHP data).
func (j *Job) Data(data []byte) error { return j.SendData(data) }

// Exception ends the job with an exception.
//
// Deprecated: use SendException (PHP exception).
func (j *Job) Exception(exception []byte) error { return j.SendException(exception) }

// Fail ends the job with WORK_FAIL.
//
// Deprecated: use SendFail (PHP fail).
func (j *Job) Fail() error { return j.SendFail() }

// Status sends the job's progress.
//
// Deprecated: use SendStatus (PHP status).
func (j *Job) Status(numerator, denominator int) error { return j.SendStatus(numerator, denominator) }

// Warning sends a warning.
//
// Deprecated: use SendWarning (PHP warning).
func (j *Job) Warning(warning []byte) error { return j.SendWarning(warning) }

// send runs one libgearman send on the job. A grabbed job sends through
// its own libgearman worker, so it never waits for a call on its Worker;
// once completed it is freed.
func (j *Job) send(op string, terminal bool, call func(jobLib) ReturnCode) error {
	if w := j.worker; w != nil && w.closed.Load() {
		return closedError(op)
	}
	j.mu.Lock()
	// Either way the job is over for its user: the client may even have its
	// result before the WorkerFunc's goroutine has finished returning.
	if j.lib == nil || j.done {
		j.mu.Unlock()
		return wrapError(op, InvalidArgument, ErrJobDone)
	}
	rc := call(j.lib)
	j.ret = rc
	if rc != Success {
		err := newError(op, rc, j.lib.errorText())
		j.mu.Unlock()
		return err
	}
	grabbed := terminal && j.own != nil
	if terminal {
		j.done = true
	}
	if grabbed {
		j.loadLocked(allFields)
		j.releaseLocked()
	}
	j.mu.Unlock()
	if grabbed {
		j.worker.forget(j)
	}
	return nil
}

// finish sends the terminal packet for a WorkerFunc's outcome, unless the
// function sent one itself, and returns the code for libgearman's v2
// function API.
func (j *Job) finish(result []byte, err error) ReturnCode {
	j.mu.Lock()
	defer j.mu.Unlock()
	// After the terminal packet libgearman answers SUCCESS to every send
	// without sending anything: later Send calls must see ErrJobDone.
	defer func() { j.done = true }()
	code := j.ret
	if err != nil {
		var rc ReturnCode
		if !errors.As(err, &rc) {
			if !j.done {
				j.lib.sendException(exceptionText(err))
			}
			return Success
		}
		code = rc
	}
	if j.done {
		if code == Shutdown {
			return Shutdown
		}
		return Success
	}
	switch code {
	case Success:
		j.lib.completeOnReturn(result)
	case Shutdown:
		j.lib.completeOnReturn(result)
		return Shutdown
	case WorkException:
		j.lib.sendException([]byte(code.Error()))
	case WorkError, LostConnection:
		// No terminal packet: the connection is dropped and the server
		// gives the job to a worker again.
		return WorkError
	default:
		j.lib.sendFail()
	}
	return Success
}

// exceptionText is what a client sees of err; libgearman refuses an empty
// exception.
func exceptionText(err error) []byte {
	if s := err.Error(); s != "" {
		return []byte(s)
	}
	return []byte(fmt.Sprintf("%T", err))
}

// panicError is a recovered panic of a WorkerFunc or TaskCallback.
type panicError struct {
	value any
	stack []byte // of the panicking goroutine, for the log
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

func (w *Worker) forget(j *Job) {
	w.mu.Lock()
	delete(w.grabbed, j)
	w.mu.Unlock()
}
