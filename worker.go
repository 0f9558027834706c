package gearman

import (
	"context"
	"errors"
	"maps"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"time"
	"weak"
)

// WorkerFunc runs one job. Its result becomes WORK_COMPLETE. Returning a
// ReturnCode error ends the job that way: WorkFail with WORK_FAIL,
// WorkException with WORK_EXCEPTION, Shutdown completes the job and makes Work
// return Shutdown, WorkError and LostConnection hand the job back to the
// server to run again; any other error ends it with WORK_EXCEPTION carrying
// err.Error(). A panic is recovered and ends the job with WORK_EXCEPTION; the
// worker serves the next job.
type WorkerFunc func(job *Job, context any) ([]byte, error)

// Worker runs functions for job servers (PHP GearmanWorker).
//
// A Worker is safe for concurrent use; its calls are serialized. Close it
// when done.
type Worker struct {
	core // its turn guards lib and grabLib

	quit chan struct{} // closed by Close
	// closing is done once Close is called: the parent of every Job.Context.
	closing     context.Context
	stopClosing context.CancelFunc
	lib         workerLib
	// grabLib is GrabJob's own libgearman worker, separate from lib, as
	// each one that hands out a job goes to that job (grab.go).
	grabLib workerLib
	// waitOnGrab: the last non-blocking call was a GrabJob left under way
	// on grabLib, whose connections Wait then waits on.
	waitOnGrab bool

	broken bool // guarded by turn: a connection failed, rebuild lib

	// Guarded by mu.
	funcs       map[string]*workerFunction
	registered  map[string]int // Register without AddFunction: name -> timeout
	grabbed     map[*Job]struct{}
	options     WorkerOptions
	concurrency int       // Run's slots (slots.go)
	slots       []*Worker // the clones of a Run in progress
	id          string

	// wakeMu guards waking: the lib whose wait Close or a context may
	// interrupt, set only while such a wait runs, and wakingFor, the watcher
	// of that wait's context; woken says what interrupted it, if anything.
	wakeMu    sync.Mutex
	waking    workerLib
	wakingFor *watcher
	woken     wake

	yield yielder // guarded by turn

	netw fdWaiter // parks workNet's waits in the netpoller (trust set)
	net  netState // guarded by turn
	// afterLate: the last job's result was probably late, and the next
	// call waits in C (workBlocking). Guarded by turn.
	afterLate  bool
	netWaiting bool // guarded by wakeMu: workNet waits with wakingFor
}

// workerFunction is what libgearman's function context leads to, through a
// cgo.Handle that lives as long as the libgearman worker. Its Worker is weak:
// a handle held by C must not keep a dropped Worker reachable.
type workerFunction struct {
	worker  weak.Pointer[Worker]
	name    string
	mu      sync.Mutex // guards the fields below: AddFunction may replace them
	fn      WorkerFunc
	ctx     any
	timeout int
	gone    bool // unregistered: jobs that still arrive fail
}

func (f *workerFunction) current() (WorkerFunc, any, int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fn, f.ctx, f.timeout, !f.gone
}

// run is called by the worker trampoline for each job of f.
func (f *workerFunction) run(lib jobLib) ReturnCode {
	job := &Job{lib: lib}
	defer job.invalidate()
	var rc ReturnCode
	if fn, ctx, timeout, ok := f.current(); ok {
		if w := f.worker.Value(); w != nil {
			job.startContext(w.closing, timeout)
		}
		result, err := callWorkerFunc(fn, job, ctx)
		if err != nil {
			if w := f.worker.Value(); w != nil {
				w.log.jobFailed(f.name, job.Handle(), err)
			}
		}
		rc = job.finish(result, err)
	} else {
		rc = job.finish(nil, WorkFail)
	}
	if w := f.worker.Value(); w != nil && job.late() {
		w.afterLate = true // the job runs on the goroutine that holds w's turn
	}
	return rc
}

func callWorkerFunc(fn WorkerFunc, job *Job, ctx any) (result []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return fn(job, ctx)
}

// NewWorker creates a worker (PHP new GearmanWorker).
//
// Unlike PHP's constructor, which throws a GearmanException, NewWorker
// returns an error when libgearman cannot create the worker, as when the
// package was built without cgo.
func NewWorker() (*Worker, error) {
	lib, err := newWorkerLib()
	if err != nil {
		return nil, explainCreateFailure(err)
	}
	closing, stopClosing := context.WithCancel(context.Background())
	w := &Worker{
		core:        newCore("worker"),
		closing:     closing,
		stopClosing: stopClosing,
		concurrency: 1,
		quit:        make(chan struct{}),
		lib:         lib,
		funcs:       make(map[string]*workerFunction),
		registered:  make(map[string]int),
		grabbed:     make(map[*Job]struct{}),
		options:     lib.options() &^ WorkerAllocated,
		netw:        fdWaiter{trust: true},
	}
	w.own = own(w, w.log, lib) // lib is freed first
	return w, nil
}

// Close frees the worker (PHP __destruct). It is idempotent; every later call
// returns an error wrapping ErrClosed, and jobs taken with GrabJob become
// invalid. A Work, Run or GrabJob in progress on another goroutine returns at once.
//
// Unlike PHP, where __destruct runs as the last reference goes, a Worker
// dropped without Close has its libgearman objects and sockets freed only
// once the garbage collector finds it unreachable, as an os.File is closed.
// Close frees them at once.
func (w *Worker) Close() error {
	if w.closed.Swap(true) {
		return nil
	}
	close(w.quit)
	w.stopClosing()
	w.closeSlots()
	w.interrupt()
	w.turn.wait()
	w.invalidateGrabbed()
	w.dropGrabLib()
	w.netw.release()
	w.lib = nil
	w.own.freeAll()
	w.turn.give()
	return nil
}

// Clone returns a new worker with the same servers, functions, options,
// timeout and identifier (PHP clone).
func (w *Worker) Clone() (*Worker, error) {
	const op = "Clone"
	if w.closed.Load() {
		return nil, closedError(op)
	}
	n, err := NewWorker()
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	n.servers = slices.Clone(w.servers)
	n.registered = maps.Clone(w.registered)
	for name, f := range w.funcs {
		f.mu.Lock()
		n.funcs[name] = &workerFunction{worker: weak.Make(n), name: name, fn: f.fn, ctx: f.ctx, timeout: f.timeout}
		f.mu.Unlock()
	}
	n.options, n.timeout, n.id, n.concurrency = w.options, w.timeout, w.id, w.concurrency
	w.mu.Unlock()
	n.log.logger.Store(w.log.logger.Load())
	n.tls = w.tls
	n.settle(n.lib)
	if rc := n.configure(n.lib); rc != Success {
		n.Close()
		return nil, newError(op, rc, "configuring the clone failed")
	}
	n.refreshOptions()
	return n, nil
}

// settableWorkerOptions are the option bits configure carries over; the
// others describe libgearman's own state.
const settableWorkerOptions = WorkerNonBlocking | WorkerGrabUniq | WorkerGrabAll

// configure gives lib the worker's recorded servers, functions,
// registrations, options and identifier: what Clone returns, and what
// replaces a worker's lib after a connection failed (libgearman 1.1.20
// forgets the identifier when it reconnects, and can poll a dead socket).
func (w *Worker) configure(lib workerLib) ReturnCode {
	w.mu.Lock()
	servers := slices.Clone(w.servers)
	funcs := slices.Collect(maps.Values(w.funcs))
	registered := maps.Clone(w.registered)
	options, id := w.options, w.id
	w.mu.Unlock()
	for _, s := range servers {
		if rc := addServerSpec(lib, s); rc != Success {
			return rc
		}
	}
	for _, f := range funcs {
		f.mu.Lock()
		timeout, gone := f.timeout, f.gone
		f.mu.Unlock()
		if !gone {
			if rc := lib.define(f.name, timeout, f); rc != Success {
				return rc
			}
		}
	}
	for name, timeout := range registered {
		if rc := lib.register(name, timeout); rc != Success {
			return rc
		}
	}
	lib.setOptions(options & settableWorkerOptions)
	if id != "" {
		if rc := lib.setIdentifier(id); rc != Success {
			return rc
		}
	}
	return Success
}

// ReturnCode returns the code of the last call (PHP returnCode).
func (w *Worker) ReturnCode() ReturnCode { return w.returnCode() }

// LastError returns the message of the last failed call, "" if none failed
// (PHP error).
//
// Like PHP's error(), it is libgearman's message alone, such as
// "flush(GEARMAN_COULD_NOT_CONNECT) Connection to ... failed -> ...". A
// failure found in Go (a bad argument, a cancelled context, a closed Worker)
// gives the message of its *Error, and a job that failed without a message
// the code's name. The returned error's Error() keeps the full text, with the
// operation and the code.
//
// Unlike PHP, it is not called Error, so that a *Worker is not a Go error,
// and it returns "" where PHP's error() returns false: when nothing failed
// yet.
func (w *Worker) LastError() string { return w.lastError() }

// GetErrno returns the system errno of the last failed call (PHP getErrno).
func (w *Worker) GetErrno() int { return w.getErrno() }

// Options returns the worker options (PHP options); a new worker has
// WorkerPacketInit|WorkerGrabUniq|WorkerGrabAll, 644, as in PHP.
func (w *Worker) Options() WorkerOptions {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.options
}

// SetOptions replaces the worker options (PHP setOptions).
func (w *Worker) SetOptions(o WorkerOptions) error {
	if o&WorkerSsl != 0 && w.tls == nil {
		return w.record(tlsUnsupported("SetOptions"))
	}
	return w.changeOptions("SetOptions", func(lib workerLib) { lib.setOptions(o) })
}

// AddOptions sets the given option bits (PHP addOptions).
func (w *Worker) AddOptions(o WorkerOptions) error {
	if o&WorkerSsl != 0 && w.tls == nil {
		return w.record(tlsUnsupported("AddOptions"))
	}
	return w.changeOptions("AddOptions", func(lib workerLib) { lib.addOptions(o) })
}

// RemoveOptions clears the given option bits (PHP removeOptions).
func (w *Worker) RemoveOptions(o WorkerOptions) error {
	return w.changeOptions("RemoveOptions", func(lib workerLib) { lib.removeOptions(o) })
}

func (w *Worker) changeOptions(op string, change func(workerLib)) error {
	if err := w.acquire(context.Background(), op); err != nil {
		return err
	}
	defer w.release()
	change(w.lib)
	w.refreshOptions()
	return w.succeed(Success)
}

// refreshOptions caches libgearman's options for Options, which must not wait
// for a Work in progress. The binding's own waits switch TimeoutReturn on; it
// is shown only when the user set a timeout. Allocated says how libgearman
// got its memory, which PHP never shows either.
func (w *Worker) refreshOptions() {
	o := w.lib.options() &^ WorkerAllocated
	w.mu.Lock()
	if w.timeout < 0 {
		o &^= WorkerTimeoutReturn
	}
	w.options = o
	w.mu.Unlock()
}

// Timeout returns the timeout in milliseconds, -1 for none (PHP timeout).
func (w *Worker) Timeout() int { return w.getTimeout() }

// SetTimeout sets how long, in milliseconds, Work waits for a job before it
// returns Timeout (PHP setTimeout); -1 waits forever.
func (w *Worker) SetTimeout(ms int) error {
	return w.setTimeout(ms, func() {
		if ms >= 0 {
			w.options |= WorkerTimeoutReturn
		}
	})
}

// SetId sets the identifier the servers show for this worker (PHP setId).
func (w *Worker) SetId(id string) error {
	const op = "SetId"
	if id == "" || hasNUL(id) {
		return w.record(newError(op, InvalidArgument, "identifier must be non-empty and hold no NUL byte"))
	}
	if err := w.acquire(context.Background(), op); err != nil {
		return err
	}
	defer w.release()
	w.leaveExchange()
	if rc := w.lib.setIdentifier(id); rc != Success {
		return w.fail(op, rc)
	}
	w.mu.Lock()
	w.id = id
	w.mu.Unlock()
	w.refreshOptions()
	return w.succeed(Success)
}

// AddServer adds a job server (PHP addServer); "" and 0 mean localhost:4730.
//
// Unlike PHP, it does not connect: PHP's addServer sends the "exceptions"
// option at once and throws a GearmanException if the server is down. A host
// holding a NUL byte, which PHP cuts there, or a port outside 0 to 65535 is
// refused with InvalidArgument.
func (w *Worker) AddServer(host string, port int) error {
	s := serverSpec{host: host, port: port}
	if err := s.validate("AddServer"); err != nil {
		return w.record(err)
	}
	return w.addServerSpec("AddServer", s)
}

// AddServers adds a comma-separated list of host[:port] job servers (PHP
// addServers).
//
// Unlike PHP, it does not connect, and it refuses a host holding a NUL byte
// or a port outside 0 to 65535, as AddServer does.
func (w *Worker) AddServers(servers string) error {
	s := serverSpec{list: servers, multi: true}
	if err := s.validate("AddServers"); err != nil {
		return w.record(err)
	}
	return w.addServerSpec("AddServers", s)
}

func (w *Worker) addServerSpec(op string, s serverSpec) error {
	if err := w.acquire(context.Background(), op); err != nil {
		return err
	}
	defer w.release()
	if rc := addServerSpec(w.lib, s); rc != Success {
		return w.fail(op, rc)
	}
	w.addedServer(s)
	return w.succeed(Success)
}

// EnableExceptionHandler sends the "exceptions" option to every server
// (Go only). PHP's GearmanWorker gained enableExceptionHandler in extension
// 2.1.1, after the 2.1.0 this package follows. gearmand only heeds it from
// clients; it is here for ported code.
func (w *Worker) EnableExceptionHandler() error {
	const op = "EnableExceptionHandler"
	if err := w.acquire(context.Background(), op); err != nil {
		return err
	}
	defer w.release()
	w.leaveExchange()
	if !w.lib.enableExceptions() {
		return w.fail(op, CouldNotConnect)
	}
	return w.succeed(Success)
}

// Register tells the servers this worker can run function, without a Go
// function to run it (PHP register). timeout > 0 is the job timeout in ms.
func (w *Worker) Register(function string, timeout int) error {
	const op = "Register"
	if err := validateFunction(op, function, timeout); err != nil {
		return w.record(err)
	}
	if err := w.acquire(contextBackground, op); err != nil {
		return err
	}
	defer w.release()
	if w.redefine(function, timeout, nil) {
		return w.succeed(Success)
	}
	if rc := w.lib.register(function, timeout); rc != Success {
		return w.fail(op, rc)
	}
	w.mu.Lock()
	w.registered[function] = timeout
	w.mu.Unlock()
	return w.succeed(Success)
}

// Unregister tells the servers this worker no longer runs function (PHP
// unregister).
func (w *Worker) Unregister(function string) error {
	const op = "Unregister"
	if err := validateFunctionName(op, function); err != nil {
		return w.record(err)
	}
	err := w.withLib(op, func(lib workerLib) ReturnCode { return lib.unregister(function) })
	if err == nil {
		w.mu.Lock()
		if f := w.funcs[function]; f != nil {
			f.retire()
			delete(w.funcs, function)
		}
		delete(w.registered, function)
		w.mu.Unlock()
	}
	return err
}

// UnregisterAll unregisters every function (PHP unregisterAll).
func (w *Worker) UnregisterAll() error {
	err := w.withLib("UnregisterAll", func(lib workerLib) ReturnCode { return lib.unregisterAll() })
	if err == nil {
		w.mu.Lock()
		for name, f := range w.funcs {
			f.retire()
			delete(w.funcs, name)
		}
		clear(w.registered)
		w.mu.Unlock()
	}
	return err
}

func (f *workerFunction) retire() {
	f.mu.Lock()
	f.gone = true
	f.mu.Unlock()
}

// AddFunction registers fn to run jobs of function (PHP addFunction); context
// is passed to every call. timeout > 0 is the job timeout in milliseconds
// (gearmand raises anything below 1000 to 1000). Adding a name again replaces
// its function, context and timeout.
//
// Unlike PHP, where an exception thrown by the function propagates out of
// work(), an error or a panic in fn ends the job with WORK_EXCEPTION and the
// worker carries on (see WorkerFunc); with a logger set (SetLogger), it is
// logged at Warn with the function's name, the job handle and, for a panic,
// the stack.
func (w *Worker) AddFunction(function string, fn WorkerFunc, context any, timeout int) error {
	const op = "AddFunction"
	if err := validateFunction(op, function, timeout); err != nil {
		return w.record(err)
	}
	if fn == nil {
		return w.record(newError(op, InvalidArgument, "nil WorkerFunc"))
	}
	if err := w.acquire(contextBackground, op); err != nil {
		return err
	}
	defer w.release()
	if w.redefine(function, timeout, func(f *workerFunction) { f.fn, f.ctx = fn, context }) {
		return w.succeed(Success)
	}
	f := &workerFunction{worker: weak.Make(w), name: function, fn: fn, ctx: context, timeout: timeout}
	w.mu.Lock()
	_, registered := w.registered[function]
	if registered {
		// Known to libgearman without a function: rebuild rather than add
		// a second entry for the name.
		delete(w.registered, function)
		w.funcs[function] = f
		w.broken = true
	}
	w.mu.Unlock()
	if !registered {
		if rc := w.lib.define(function, timeout, f); rc != Success {
			return w.fail(op, rc)
		}
		w.mu.Lock()
		w.funcs[function] = f
		w.mu.Unlock()
	}
	return w.succeed(Success)
}

// redefine updates what the worker already knows of name: its function
// (through update, if it has one) and its timeout. It reports whether name
// was known. libgearman keeps one entry per definition, and two entries for a
// name send CAN_DO and CANT_DO in an order the server cannot follow, so a
// changed timeout rebuilds the worker (release) instead.
func (w *Worker) redefine(name string, timeout int, update func(*workerFunction)) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f := w.funcs[name]; f != nil {
		f.mu.Lock()
		if update != nil {
			update(f)
		}
		w.broken = w.broken || f.timeout != timeout
		f.timeout = timeout
		f.mu.Unlock()
		return true
	}
	// A name registered without a function gains one in AddFunction's own
	// path (update != nil); only Register updates it here.
	if old, ok := w.registered[name]; ok && update == nil {
		w.broken = w.broken || old != timeout
		w.registered[name] = timeout
		return true
	}
	return false
}

func validateFunction(op, function string, timeout int) error {
	if err := validateFunctionName(op, function); err != nil {
		return err
	}
	if timeout < 0 || timeout > math.MaxUint32 {
		return newError(op, InvalidArgument, "timeout must be 0 (none) to 4294967295 ms")
	}
	return nil
}

// Work waits for one job and runs it (PHP work).
//
// Unlike PHP, it returns nil once a job ran, whatever the job's outcome: the
// client learns that. PHP's work() returns false after a failed job, which
// ends the usual while($w->work()) loop.
func (w *Worker) Work() error { return w.WorkContext(contextBackground) }

// WorkContext is Work with a context (Go only): it returns when ctx ends
// while waiting for a job; a job already running finishes and its result is
// sent first.
func (w *Worker) WorkContext(ctx context.Context) error {
	return w.work(ctx, "Work", nil, false, false)
}

// work is WorkContext. A non-nil by is the caller's watcher of ctx: Run
// watches its context once for all its jobs, as watching costs a
// registration per call, measurable at thousands of jobs a second. With
// park (Run's slots), the wait parks in Go's netpoller (workNet), and batch
// makes one call serve the jobs of up to batchLength.
func (w *Worker) work(ctx context.Context, op string, by *watcher, batch, park bool) error {
	if err := w.acquire(ctx, op); err != nil {
		return err
	}
	defer w.release()
	w.mu.Lock()
	options, timeout := w.options, w.timeout
	w.mu.Unlock()
	if options&WorkerNonBlocking != 0 {
		w.waitOnGrab = false
		return w.check(op, w.lib.work(clampWait(timeout)))
	}
	if park && !w.afterLate {
		return w.workNet(ctx, op, by, batch, timeout)
	}
	w.afterLate = false
	return w.workBlocking(ctx, op, by, timeout)
}

// workBlocking runs one job with libgearman waiting inside C, in slices of
// a poll timeout, which Close or a context cut through the wakeup pipe. A
// lone worker (Work, Run without slots) waits so: for one sequential worker
// that cost less CPU than parking in the netpoller (bench/notes.md). A slot
// also waits so for the call after a job whose result was probably late:
// gearmand answers that result with ERROR, which reaches the GRAB_JOB that
// follows, and libgearman 1.1.20 survives it only in blocking mode
// (worknet.go).
func (w *Worker) workBlocking(ctx context.Context, op string, by *watcher, timeout int) error {
	clock := newIdleClock(ctx, timeout)
	for {
		var rc ReturnCode
		ms := clock.sliceOf(int(workSlice.Milliseconds()))
		woke := w.interruptible(ctx, w.lib, by, func() { rc = w.lib.work(ms) })
		if rc == Success { // a job ran, even if ctx ended meanwhile
			return w.succeed(rc)
		}
		if rc != Timeout && woke == notWoken {
			return w.check(op, rc)
		}
		if err := w.interrupted(ctx, op, &clock); err != nil {
			return err
		}
	}
}

// interruptible runs call, a wait inside lib, so that ctx ending or Close
// ends it through the worker's wakeup pipe, instead of at the end of its
// slice: at once, or at the next packet boundary when the wait is in the
// middle of a transfer (wire.c). by is the watcher of ctx; nil makes
// interruptible watch ctx for the length of the call.
//
// It reports what ended the wait early. An interrupted lib goes on with its
// connections, unless Close cut a transfer or libgearman read the interrupt
// itself (clearInterrupt): then the worker's lib is replaced. GrabJob's lib
// is its own caller's to replace (grab.go).
func (w *Worker) interruptible(ctx context.Context, lib workerLib, by *watcher, call func()) wake {
	w.yield.beforeBlocking()
	if by == nil {
		var unwatch func()
		by, unwatch = w.watch(ctx)
		defer unwatch()
	}
	w.wakeMu.Lock()
	w.waking, w.wakingFor, w.woken = lib, by, notWoken
	if ended(ctx) { // before the wait began: no watcher will come
		w.interruptLocked()
	}
	w.wakeMu.Unlock()
	call()
	w.wakeMu.Lock()
	woke := w.woken
	w.waking, w.wakingFor, w.woken = nil, nil, notWoken
	w.wakeMu.Unlock()
	if woke != notWoken && !lib.clearInterrupt() {
		w.broken = w.broken || lib == w.lib
	}
	return woke
}

// wake says what ended a wait early, if anything.
type wake uint8

const (
	notWoken    wake = iota
	wokenToStop      // a context ended or Close was called
)

// A watcher makes a context's end interrupt the waits started on its
// behalf, and no other: those of another goroutine's call on the same Worker
// go on.
type watcher struct {
	live bool // guarded by wakeMu
}

// neverEnds stands for the watcher of a context without an end, which
// nothing needs to watch.
var neverEnds = &watcher{}

// watch returns ctx's watcher, live until unwatch is called. Once unwatch
// returns, ctx interrupts nothing more: context.AfterFunc's own stop cannot
// promise that when the function has already started, and a late interrupt
// would end a later, unrelated wait.
func (w *Worker) watch(ctx context.Context) (by *watcher, unwatch func()) {
	if ctx.Done() == nil { // a plain Work: only Close can interrupt
		return neverEnds, func() {}
	}
	by = &watcher{live: true}
	stop := context.AfterFunc(ctx, func() {
		w.wakeMu.Lock()
		defer w.wakeMu.Unlock()
		if by.live && w.wakingFor == by {
			w.interruptLocked()
		}
	})
	return by, func() {
		stop()
		w.wakeMu.Lock()
		by.live = false
		w.wakeMu.Unlock()
	}
}

// interrupt ends the wait interruptible is running, if any.
func (w *Worker) interrupt() {
	w.wakeMu.Lock()
	defer w.wakeMu.Unlock()
	w.interruptLocked()
}

func (w *Worker) interruptLocked() { w.interruptWaitLocked(wokenToStop) }

// interruptWaitLocked interrupts the wait in progress, if it was not
// interrupted already, and records why. wakeMu is held.
func (w *Worker) interruptWaitLocked(why wake) {
	if w.netWaiting && w.woken == notWoken {
		w.netw.wake()
		w.woken = why
		return
	}
	if w.waking != nil && w.woken == notWoken {
		w.waking.interrupt(w.closed.Load())
		w.woken = why
	}
}

// workSliceMs bounds each wait for a job; each slice costs one GRAB_JOB, and
// lets libgearman try again a server it could not reach. A context or Close
// does not wait for the slice to end (interruptible).
// Keep it well above gearmand's answer time: libgearman applies the same
// timeout while it waits for the answer to GRAB_JOB, and a slice that ends
// there makes the next call send another GRAB_JOB with the first answer still
// on its way. With 1 ms slices such requests piled up under load until the
// worker spent its time sending them.
const workSliceMs = 2000

// interrupted returns the error that ends a wait in slices, or nil to wait
// on: the context ended, the worker was closed, or the user's timeout passed.
func (w *Worker) interrupted(ctx context.Context, op string, clock *idleClock) error {
	return w.core.interrupted(ctx, op, clock, w.fail)
}

// Wait waits for activity on a non-blocking worker's connections (PHP wait).
func (w *Worker) Wait() error { return w.WaitContext(contextBackground) }

// WaitContext is Wait with a context (Go only).
func (w *Worker) WaitContext(ctx context.Context) error {
	const op = "Wait"
	if err := w.acquire(ctx, op); err != nil {
		return err
	}
	defer w.release()
	w.leaveExchange()
	lib := w.lib
	if w.waitOnGrab && w.grabLib != nil {
		lib = w.grabLib // a non-blocking GrabJob's connections (grab.go)
	}
	clock := newIdleClock(ctx, w.Timeout())
	for {
		var rc ReturnCode
		fired := w.interruptible(ctx, lib, nil, func() { rc = lib.wait(clock.sliceOf(workSliceMs)) }) != notWoken
		if rc != Timeout && !fired {
			if lib == w.lib || rc == Success {
				return w.check(op, rc)
			}
			err := w.failOn(lib, op, rc)
			if isConnectionError(rc) {
				w.dropGrabLib()
			}
			return err
		}
		if err := w.interrupted(ctx, op, &clock); err != nil {
			return err
		}
	}
}

// Ping sends data to every server and checks the echo (PHP ping).
func (w *Worker) Ping(data []byte) error { return w.PingContext(contextBackground, data) }

// PingContext is Ping with a context (Go only); its deadline bounds the wait.
func (w *Worker) PingContext(ctx context.Context, data []byte) error {
	const op = "Ping"
	if len(data) == 0 {
		return w.record(newError(op, InvalidArgument, "empty data: libgearman refuses an empty echo"))
	}
	if err := w.acquire(ctx, op); err != nil {
		return err
	}
	defer w.release()
	ms := w.Timeout()
	if d, ok := ctx.Deadline(); ok {
		left := max1(int(time.Until(d).Milliseconds()))
		if ms < 0 || left < ms {
			ms = left
		}
	}
	w.leaveExchange()
	rc := w.lib.echo(data, ms)
	if rc != Success && ctx.Err() != nil {
		return w.record(contextError(op, ctx.Err()))
	}
	return w.check(op, rc)
}

// Echo pings the servers.
//
// Deprecated: use Ping (PHP echo).
func (w *Worker) Echo(data []byte) error { return w.Ping(data) }

// Run serves jobs until ctx ends (Go only), then returns nil: a job in
// progress finishes and its result is sent first. Connection failures are
// retried with a capped back-off, jittered so that workers that lost the same
// server do not reconnect in step; Run returns an error only for what retrying
// cannot fix (no servers, no functions, Close). Its stop keeps the Worker's
// connections: a later Work or Run goes on with them.
//
// With SetConcurrency(n), Run serves up to n jobs at once, each with its own
// Job, on n connections to every server; a job's function and sends never
// wait for another job's. Jobs that follow each other closely on one slot
// share one turn of up to a few milliseconds, which makes each cheaper. Its
// graceful stop waits for all the jobs in hand.
func (w *Worker) Run(ctx context.Context) error {
	if n := w.Concurrency(); n > 1 {
		return w.runSlots(ctx, n)
	}
	return w.run(ctx, false)
}

// run is Run with one slot: the Worker itself.
func (w *Worker) run(ctx context.Context, park bool) error {
	by, unwatch := w.watch(ctx)
	defer unwatch()
	backoff := time.Duration(0)
	for {
		err := w.work(ctx, "Run", by, true, park)
		if ended(ctx) {
			return nil
		}
		if err == nil {
			backoff = 0
			continue
		}
		switch runOutcome(err) {
		case runGoesOn:
			continue
		case runStops:
			return nil
		case runFails:
			return err
		}
		backoff = min(max(2*backoff, minBackoff), maxBackoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(jittered(backoff)):
		}
	}
}

// What Run does after a failed Work.
type runAction uint8

const (
	runRetries runAction = iota // after a back-off
	runGoesOn                   // at once
	runStops                    // returning nil
	runFails                    // returning the error
)

// runOutcome is kept out of Run's loop: the *Error that errors.As fills
// escapes, and declared in the loop it cost an allocation for every job.
func runOutcome(err error) runAction {
	var e *Error
	switch {
	case errors.Is(err, ErrClosed), !errors.As(err, &e):
		return runFails
	case e.Code == Timeout:
		return runGoesOn
	case e.Code == Shutdown:
		return runStops
	case e.Code == NoServers, e.Code == NoRegisteredFunctions, e.Code == InvalidFunctionName:
		return runFails
	}
	return runRetries
}

// batchLength bounds a batch of Run's jobs, which holds the Worker's turn:
// calls of other goroutines on the Worker wait at most that long. Tests
// lengthen it (export_test.go) so that the jobs they queue surely fall into
// one batch.
var batchLength = 8 * time.Millisecond

// Run's wait between reconnection attempts doubles from minBackoff up to
// maxBackoff.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// jittered picks a wait between half of d and d at random ("equal jitter"):
// workers that lost the same server spread their attempts over that range
// instead of reconnecting together, and each still waits at least d/2.
func jittered(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

// ---- plumbing ----

var contextBackground = context.Background()

func (w *Worker) acquire(ctx context.Context, op string) error {
	if err := w.take(ctx, op); err != nil {
		return err
	}
	if w.lib == nil {
		w.turn.give()
		return closedError(op)
	}
	w.refreshLog(w.lib)
	return nil
}

// release ends a call. After a connection failure the worker's libgearman
// object is replaced by a fresh one configured the same way, so that the
// reconnection registers the functions and the identifier again.
func (w *Worker) release() {
	if w.broken && w.lib != nil && !w.closed.Load() {
		w.rebuild()
	}
	w.turn.give()
}

// rebuild replaces the worker's libgearman object with a fresh one
// configured the same way; on failure the old one stays.
func (w *Worker) rebuild() {
	lib, err := newWorkerLib()
	if err != nil {
		return
	}
	w.own.track(lib)
	w.settle(lib)
	if w.configure(lib) != Success {
		w.own.free(lib)
		return
	}
	w.own.free(w.lib)
	w.netw.release() // the duplicates would keep its sockets open
	w.lib = lib
	w.broken = false
	w.net = netState{}
	w.afterLate = false
}

// invalidateGrabbed ends the jobs taken with GrabJob that were not
// completed (Close). A job whose send is under way is ended once the send
// returns.
func (w *Worker) invalidateGrabbed() {
	w.mu.Lock()
	jobs := slices.Collect(maps.Keys(w.grabbed))
	clear(w.grabbed)
	w.mu.Unlock()
	for _, j := range jobs {
		j.abandon()
	}
}

func (w *Worker) withLib(op string, call func(workerLib) ReturnCode) error {
	if err := w.acquire(contextBackground, op); err != nil {
		return err
	}
	defer w.release()
	return w.check(op, call(w.lib))
}

// check turns rc into nil or a recorded error.
func (w *Worker) check(op string, rc ReturnCode) error {
	if rc == Success {
		return w.succeed(rc)
	}
	return w.fail(op, rc)
}

func (w *Worker) fail(op string, rc ReturnCode) error {
	// UNEXPECTED_PACKET is gearmand's ERROR answer to the late result of a
	// job whose timeout expired: the connection is sound and may already
	// hold the next JOB_ASSIGN, which a rebuild would throw away.
	if isConnectionError(rc) && rc != UnexpectedPacket {
		w.broken = true
	}
	return w.failOn(w.lib, op, rc)
}
