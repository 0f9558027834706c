package gearman

import (
	"context"
	"fmt"
	"strings"
)

// taskWindow bounds the tasks one RunTasks hands libgearman at a time.
// libgearman 1.1.20 scans its whole task list for every packet it receives,
// so 50 000 tasks added at once cost O(n²); a window refilled as tasks finish
// keeps the pipeline full at O(window) a packet.
const taskWindow = 256

// taskRefillAt is how low the tasks in flight fall before the window is
// filled again, all at once. A refill per finished task sent gearmand one
// SUBMIT_JOB per wake-up; in bursts of half a window it reads them many to a
// read, which lowered both its CPU and the client's per W2 job
// (bench/notes.md).
const taskRefillAt = taskWindow / 2

// taskQueue is the client's task state, guarded by Client.mu.
type taskQueue struct {
	callbacks [eventCount]TaskCallback
	pending   []*Task // added, not yet handed to libgearman, oldest first
	inflight  map[*Task]struct{}
	running   bool  // RunTasks is inside run_tasks: finished tasks refill
	stopErr   error // a callback's error, returned by RunTasks
	abandon   ReturnCode
	lost      []*Task // created on a server that then failed
}

// AddTask adds a task for a job at normal priority, run by the next RunTasks
// (PHP addTask). context is passed to the task's callbacks. The callback
// that runs for an event is the one set on the client when the event arrives,
// as in PHP, which looks it up then. unique "" makes one up.
//
// Unlike PHP, where a callback set after addTask runs only if its event had
// one when the task was added (libgearman copies its hooks into the task), a
// callback set later runs in every case.
//
// Unlike PHP, which passes the context to a callback only when addTask got
// one, every callback receives it, nil if none was given.
func (c *Client) AddTask(function string, workload []byte, context any, unique string) (*Task, error) {
	return c.addTask("AddTask", kindForeground, JobPriorityNormal, function, workload, context, unique)
}

// AddTaskHigh is AddTask at high priority (PHP addTaskHigh).
func (c *Client) AddTaskHigh(function string, workload []byte, context any, unique string) (*Task, error) {
	return c.addTask("AddTaskHigh", kindForeground, JobPriorityHigh, function, workload, context, unique)
}

// AddTaskLow is AddTask at low priority (PHP addTaskLow).
func (c *Client) AddTaskLow(function string, workload []byte, context any, unique string) (*Task, error) {
	return c.addTask("AddTaskLow", kindForeground, JobPriorityLow, function, workload, context, unique)
}

// AddTaskBackground adds a background job; only its created callback fires
// (PHP addTaskBackground).
func (c *Client) AddTaskBackground(function string, workload []byte, context any, unique string) (*Task, error) {
	return c.addTask("AddTaskBackground", kindBackground, JobPriorityNormal, function, workload, context, unique)
}

// AddTaskHighBackground is AddTaskBackground at high priority (PHP
// addTaskHighBackground).
func (c *Client) AddTaskHighBackground(function string, workload []byte, context any, unique string) (*Task, error) {
	return c.addTask("AddTaskHighBackground", kindBackground, JobPriorityHigh, function, workload, context, unique)
}

// AddTaskLowBackground is AddTaskBackground at low priority (PHP
// addTaskLowBackground).
func (c *Client) AddTaskLowBackground(function string, workload []byte, context any, unique string) (*Task, error) {
	return c.addTask("AddTaskLowBackground", kindBackground, JobPriorityLow, function, workload, context, unique)
}

// AddTaskStatus adds a task that asks for a job's status; its status
// callback fires with known, running, numerator and denominator (PHP
// addTaskStatus). With several servers it asks one: the server that issued
// the handle, when the Client submitted the job or asked JobStatus about it,
// and otherwise the next in turn, which may not know the job; JobStatus asks
// each server until one knows it.
func (c *Client) AddTaskStatus(jobHandle string, context any) (*Task, error) {
	const op = "AddTaskStatus"
	if jobHandle == "" || len(jobHandle) >= JobHandleSize || hasNUL(jobHandle) {
		return nil, c.record(newError(op, InvalidArgument, "invalid job handle"))
	}
	return c.queueTask(op, taskRequest{kind: kindStatus, key: jobHandle}, context)
}

func (c *Client) addTask(op string, kind taskKind, priority JobPriority, function string, workload []byte, context any, unique string) (*Task, error) {
	if err := validateJob(op, function, unique); err != nil {
		return nil, c.record(err)
	}
	// Task.Unique is known before the task runs, as in PHP.
	switch unique {
	case "":
		unique = newUUID()
	case "#":
		unique = workloadHashKey(workload)
	}
	return c.queueTask(op, taskRequest{
		kind: kind, priority: priority, function: function, unique: unique,
		// Copied: the task is sent later, and the caller may reuse workload.
		workload: append([]byte(nil), workload...),
	}, context)
}

// queueTask needs no lock on libgearman, so that callbacks can add tasks.
func (c *Client) queueTask(op string, req taskRequest, context any) (*Task, error) {
	if c.closed.Load() {
		return nil, closedError(op)
	}
	t := &Task{client: c, req: req, context: context}
	c.mu.Lock()
	t.req.events = c.events
	t.req.sink = t
	c.tasks.pending = append(c.tasks.pending, t)
	c.ret = Success
	c.mu.Unlock()
	return t, nil
}

// RunTasks runs every added task until each has finished (PHP runTasks).
// Callbacks run on this goroutine, one at a time, also when the tasks are
// spread over several servers (see Client). See TaskCallback for Pause and errors. On
// a client with ClientNonBlocking it returns nil with ReturnCode IOWait when
// it would wait; Wait then waits.
func (c *Client) RunTasks() error { return c.RunTasksContext(context.Background()) }

// RunTasksContext is RunTasks with a context (Go only). When ctx ends it
// frees every task not yet finished (their ReturnCode says why) and returns
// an error for which errors.Is(err, ctx.Err()) holds; the client stays usable.
func (c *Client) RunTasksContext(ctx context.Context) error {
	const op = "RunTasks"
	if err := ctx.Err(); err != nil {
		return c.runTasksExpired(op, err)
	}
	if err := c.acquire(ctx, op); err != nil {
		return err
	}
	defer c.release()
	spreading := c.spreading()
	if !spreading {
		c.repair()
	}
	c.takeLost() // lost before this run was reported by the previous one
	nonBlocking := c.Options()&ClientNonBlocking != 0
	c.lib.setNonBlocking(true) // a blocking RunTasks waits in runAlone
	c.setRunning(true)
	defer c.setRunning(false)
	if !nonBlocking {
		stop, err := c.watchRun(ctx, op)
		if err != nil {
			return err
		}
		defer stop()
	}

	clock := newIdleClock(ctx, c.Timeout())
	if spreading {
		return c.runSpread(ctx, op, nonBlocking, &clock)
	}
	seen := c.lib.packets()
	for {
		if done, err := c.refill(op); done {
			return err
		}
		c.yield.beforeBlocking()
		var rc ReturnCode
		if nonBlocking {
			rc = c.lib.runTasks(clampWait(c.Timeout())) // IOWait instead of a wait
		} else {
			rc = c.runAlone(&clock)
		}
		if err := c.takeStopErr(); err != nil {
			c.record(err)
			return err
		}
		if p := c.lib.packets(); p != seen {
			seen = p
			clock.progress()
		}
		switch rc {
		case Success:
			continue
		case Pause:
			return c.succeed(Pause)
		case IOWait:
			if nonBlocking {
				return c.succeed(IOWait)
			}
		case Timeout:
		default:
			if isConnectionError(rc) {
				c.broken = true
			}
			return c.runFailed(op, rc, c.lib)
		}
		if err := c.runStopped(ctx, op, &clock); err != nil {
			return err
		}
	}
}

// runFailed ends a run after libgearman answered rc on lib: the tasks not
// finished are abandoned, and the error names them.
func (c *Client) runFailed(op string, rc ReturnCode, lib clientLib) error {
	e := newError(op, rc, libMessage(lib.errorText(), rc))
	if lost := c.abandonAll(rc); len(lost) > 0 {
		e.Msg += "; " + describeLost(lost)
	}
	return c.record(e)
}

// runStopped returns the error that ends a run whose wait ended with nothing
// ready, or nil to wait on: the context ended (the tasks are abandoned, and
// their connections closed so that the servers drop the jobs), Close, or
// the user's timeout (as in PHP, the tasks keep their place: the next
// RunTasks carries on with them).
func (c *Client) runStopped(ctx context.Context, op string, clock *idleClock) error {
	switch {
	case ctx.Err() != nil:
		err := contextError(op, ctx.Err())
		c.abandonAll(err.(*Error).Code)
		c.dropRunConnections()
		return c.record(err)
	case c.closed.Load():
		return closedError(op)
	case clock.expired():
		return c.fail(op, Timeout)
	}
	return nil
}

// dropRunConnections closes the connections of the tasks just abandoned:
// the routes', or else lib's, which release rebuilds.
func (c *Client) dropRunConnections() {
	if len(c.routes) > 0 {
		c.dropRoutes()
		return
	}
	c.broken = true
}

// watchRun readies runWait for a call that waits in libgearman's poll()
// with its eventfd (RunTasks, Wait): ctx's end wakes it until stop is
// called, and a wake left by an earlier call, meant for that call, is
// dropped. Close wakes after it sets closed, so a wake it sends is either
// kept or seen here.
func (c *Client) watchRun(ctx context.Context, op string) (stop func(), err error) {
	c.runWait.forget()
	if c.closed.Load() {
		return nil, closedError(op)
	}
	if ctx.Done() == nil {
		return func() {}, nil
	}
	stopWatch := context.AfterFunc(ctx, c.runWait.wake)
	return func() { stopWatch() }, nil
}

// runAlone runs the tasks, with libgearman waiting itself in poll(), until
// none is left, a wait of what the clock leaves passed, or the context's end
// or Close woke it; the last two return Timeout, and the caller's checks
// tell which ended it. There is no slice: the wake ends the wait at once.
func (c *Client) runAlone(clock *idleClock) ReturnCode {
	var rc ReturnCode
	var timedOut bool
	woken, err := c.runWait.inC(func(wakeFD int) {
		rc, _, timedOut = c.lib.runUntil(nil, wakeFD, timeoutMs(clock.waitDeadline()))
	})
	switch {
	case err != nil:
		return Errno
	case woken || timedOut:
		return Timeout
	}
	return rc
}

// runTasksExpired ends the tasks of a RunTasksContext whose context had
// ended before it started, as one that ends mid-run does.
func (c *Client) runTasksExpired(op string, ctxErr error) error {
	if err := c.acquire(contextBackground, op); err != nil {
		return err
	}
	defer c.release()
	err := contextError(op, ctxErr)
	if c.inflightCount() > 0 {
		c.dropRunConnections() // the servers drop the abandoned jobs
	}
	c.abandonAll(err.(*Error).Code)
	return c.record(err)
}

// fillWindow hands libgearman pending tasks up to the window. libgearman
// 1.1.20 submits the task added last first, so they are added newest first
// to reach the server in the order they were added.
func (c *Client) fillWindow(op string) error {
	c.mu.Lock()
	n := min(taskWindow-len(c.tasks.inflight), len(c.tasks.pending))
	if n <= 0 {
		c.mu.Unlock()
		return nil
	}
	batch := c.tasks.pending[:n:n]
	c.tasks.pending = c.tasks.pending[n:]
	if len(c.tasks.pending) == 0 {
		c.tasks.pending = nil // let the backing array go
	}
	for _, t := range batch {
		c.tasks.inflight[t] = struct{}{}
	}
	c.mu.Unlock()

	var firstErr error
	if c.spreading() {
		for i := len(batch) - 1; i >= 0; i-- {
			if err := c.submitRouted(op, batch[i]); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		return firstErr
	}
	for i := len(batch) - 1; i >= 0; i-- {
		t := batch[i]
		lib, rc := c.lib.submit(t.req)
		if rc != Success {
			t.endUnsent(rc)
			c.forgetTask(t)
			if firstErr == nil {
				firstErr = c.fail(op, rc)
			}
			continue
		}
		t.mu.Lock()
		t.lib = lib
		t.mu.Unlock()
	}
	return firstErr
}

// refill hands pending tasks to libgearman, and reports the end of the run
// once no task is left in flight, with the run's outcome.
func (c *Client) refill(op string) (done bool, err error) {
	if err := c.fillWindow(op); err != nil {
		return true, err
	}
	if c.inflightCount() > 0 {
		return false, nil
	}
	if lost := c.takeLost(); len(lost) > 0 {
		return true, c.record(newError(op, LostConnection, "a job server failed; "+describeLost(lost)))
	}
	return true, c.succeed(Success)
}

// taskEnded is called as libgearman frees a task: while RunTasks runs, the
// next pending task takes its place.
func (c *Client) taskEnded(t *Task) {
	c.mu.Lock()
	delete(c.tasks.inflight, t)
	refill := c.tasks.running && len(c.tasks.pending) > 0 && len(c.tasks.inflight) <= taskRefillAt
	c.mu.Unlock()
	if refill {
		if err := c.fillWindow("RunTasks"); err != nil {
			c.stopRun(err)
		}
	}
}

func (c *Client) forgetTask(t *Task) {
	c.mu.Lock()
	delete(c.tasks.inflight, t)
	c.mu.Unlock()
}

// abandonAll frees every task not yet finished, outside any callback, and
// ends the pending ones, each with code. It returns them.
func (c *Client) abandonAll(code ReturnCode) []*Task {
	c.mu.Lock()
	c.tasks.running = false
	c.tasks.abandon = code
	inflight := make([]*Task, 0, len(c.tasks.inflight))
	for t := range c.tasks.inflight {
		inflight = append(inflight, t)
	}
	pending := c.tasks.pending
	c.tasks.pending = nil
	c.mu.Unlock()
	for _, t := range inflight {
		t.abandon()
	}
	for _, t := range pending {
		t.endUnsent(code)
	}
	return append(inflight, pending...)
}

// requeue puts a task that no server acknowledged back at the front of the
// queue.
func (c *Client) requeue(t *Task) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tasks.inflight, t)
	c.tasks.pending = append([]*Task{t}, c.tasks.pending...)
}

func (c *Client) addLost(lost []*Task) {
	c.mu.Lock()
	c.tasks.lost = append(c.tasks.lost, lost...)
	c.mu.Unlock()
}

func (c *Client) takeLost() []*Task {
	c.mu.Lock()
	defer c.mu.Unlock()
	lost := c.tasks.lost
	c.tasks.lost = nil
	return lost
}

// describeLost names the tasks a failed RunTasks gave up, by unique key (or
// job handle for status tasks), the first few of them.
func describeLost(lost []*Task) string {
	const shown = 10
	names := make([]string, 0, min(len(lost), shown))
	for _, t := range lost[:min(len(lost), shown)] {
		name := t.Unique()
		if name == "" {
			name = t.req.key
		}
		names = append(names, name)
	}
	more := ""
	if len(lost) > shown {
		more = fmt.Sprintf(" and %d more", len(lost)-shown)
	}
	return fmt.Sprintf("%d unfinished tasks abandoned: %s%s", len(lost), strings.Join(names, ", "), more)
}

func (c *Client) abandonCode() ReturnCode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tasks.abandon
}

func (c *Client) inflightCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.tasks.inflight)
}

func (c *Client) setRunning(on bool) {
	c.mu.Lock()
	c.tasks.running = on
	c.mu.Unlock()
}

// stopRun keeps the first error that stops RunTasks.
func (c *Client) stopRun(err error) {
	c.mu.Lock()
	if c.tasks.stopErr == nil {
		c.tasks.stopErr = err
	}
	c.mu.Unlock()
}

func (c *Client) hasStopErr() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tasks.stopErr != nil
}

func (c *Client) takeStopErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.tasks.stopErr
	c.tasks.stopErr = nil
	return err
}

// ---- callbacks ----

// SetWorkloadCallback sets the callback for a task that needs its workload
// streamed (PHP setWorkloadCallback). It never fires for tasks added with a
// workload, which all are.
func (c *Client) SetWorkloadCallback(cb TaskCallback) error {
	return c.setCallback("SetWorkloadCallback", eventWorkload, cb)
}

// SetCreatedCallback sets the callback for JOB_CREATED (PHP
// setCreatedCallback).
func (c *Client) SetCreatedCallback(cb TaskCallback) error {
	return c.setCallback("SetCreatedCallback", eventCreated, cb)
}

// SetDataCallback sets the callback for each WORK_DATA chunk (PHP
// setDataCallback).
func (c *Client) SetDataCallback(cb TaskCallback) error {
	return c.setCallback("SetDataCallback", eventData, cb)
}

// SetWarningCallback sets the callback for WORK_WARNING (PHP
// setWarningCallback).
func (c *Client) SetWarningCallback(cb TaskCallback) error {
	return c.setCallback("SetWarningCallback", eventWarning, cb)
}

// SetStatusCallback sets the callback for WORK_STATUS and for status tasks
// (PHP setStatusCallback).
func (c *Client) SetStatusCallback(cb TaskCallback) error {
	return c.setCallback("SetStatusCallback", eventStatus, cb)
}

// SetCompleteCallback sets the callback for WORK_COMPLETE (PHP
// setCompleteCallback).
func (c *Client) SetCompleteCallback(cb TaskCallback) error {
	return c.setCallback("SetCompleteCallback", eventComplete, cb)
}

// SetExceptionCallback sets the callback for WORK_EXCEPTION (PHP
// setExceptionCallback).
//
// Unlike PHP's, it may come before AddServer: the client asks the servers
// for exceptions by itself.
func (c *Client) SetExceptionCallback(cb TaskCallback) error {
	return c.setCallback("SetExceptionCallback", eventException, cb)
}

// SetFailCallback sets the callback for WORK_FAIL (PHP setFailCallback).
func (c *Client) SetFailCallback(cb TaskCallback) error {
	return c.setCallback("SetFailCallback", eventFail, cb)
}

// SetClientCallback sets the data callback.
//
// Deprecated: use SetDataCallback (PHP setClientCallback).
func (c *Client) SetClientCallback(cb TaskCallback) error { return c.SetDataCallback(cb) }

// ClearCallbacks removes every callback (PHP clearCallbacks), for the tasks
// already added too: a callback runs if it is set when its event arrives.
//
// Unlike PHP, which raises an error when an event of a task added before
// arrives, such events are simply not reported.
func (c *Client) ClearCallbacks() error {
	if c.closed.Load() {
		return closedError("ClearCallbacks")
	}
	c.mu.Lock()
	c.setCallbacksLocked([eventCount]TaskCallback{})
	c.mu.Unlock()
	return nil
}

func (c *Client) setCallback(op string, ev taskEvent, cb TaskCallback) error {
	if c.closed.Load() {
		return closedError(op)
	}
	if cb == nil {
		return c.record(newError(op, InvalidArgument, "nil callback; use ClearCallbacks to remove callbacks"))
	}
	c.mu.Lock()
	all := c.tasks.callbacks
	all[ev] = cb
	c.setCallbacksLocked(all)
	c.mu.Unlock()
	return nil
}

// setCallbacksLocked replaces the client's callbacks, and tells the C side
// which events now reach Go. c.mu is held.
func (c *Client) setCallbacksLocked(all [eventCount]TaskCallback) {
	c.tasks.callbacks = all
	if c.events == nil {
		return // closed
	}
	var bits uint32
	for ev, cb := range all {
		if cb != nil {
			bits |= 1 << ev
		}
	}
	c.events.set(bits)
}

// callbacks returns the callbacks set now.
func (c *Client) callbacks() [eventCount]TaskCallback {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tasks.callbacks
}
