package gearman

import (
	"errors"
	"sync"
)

// TaskCallback is called for a task event during RunTasks (PHP's
// set*Callback callables), with the task and the context given to AddTask*.
// Returning nil carries on; returning Pause makes RunTasks return with
// ReturnCode Pause, and the next RunTasks calls the same callback with the
// same packet again; any other error stops RunTasks, which returns that error.
// A panic is recovered and returned by RunTasks as an error.
type TaskCallback func(task *Task, context any) error

// Task is a job added with AddTask* or AddTaskStatus (PHP GearmanTask).
//
// Inside a callback its methods describe the packet being delivered, as in
// PHP.
//
// Unlike PHP, a finished Task keeps its final job handle, data, status
// and return code readable after RunTasks.
//
// Unlike PHP, a Task has no constructor (PHP GearmanTask::__construct):
// AddTask* and AddTaskStatus create tasks, where PHP's new GearmanTask()
// gives an inert object.
type Task struct {
	client  *Client
	req     taskRequest
	context any

	mu        sync.Mutex
	lib       taskLib  // while libgearman holds the task
	live      liveTask // during one of its callbacks
	finished  bool
	requeue   bool       // its server failed before acknowledging it: submit it again when libgearman frees it
	route     *taskRoute // its server's share of the task list, with several servers
	tried     []endpoint // the servers that failed it unacknowledged (taskroutes.go)
	jobHandle string
	data      []byte
	status    JobStatus
	ret       ReturnCode
}

// ReturnCode returns the task's outcome once it finished: Success, WorkFail,
// WorkException, or the code of what abandoned it (PHP returnCode).
//
// Unlike PHP's, which is always 0, it reports the outcome.
func (t *Task) ReturnCode() ReturnCode {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ret
}

// FunctionName returns the function the task's job is for (PHP
// functionName); "" for a status task.
func (t *Task) FunctionName() string { return t.req.function }

// Unique returns the task's unique key (PHP unique). A key libgearman would
// have made up is made up when the task is added, so it is known at once:
// for "" a UUID, for "#" the hash of the workload that libgearman sends.
func (t *Task) Unique() string { return t.req.unique }

// JobHandle returns the job handle, "" until the server created the job (PHP
// jobHandle).
func (t *Task) JobHandle() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.jobHandle
}

// IsKnown reports whether the server knows the job (PHP isKnown).
func (t *Task) IsKnown() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status.Known
}

// IsRunning reports whether a worker runs the job (PHP isRunning).
func (t *Task) IsRunning() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status.Running
}

// TaskNumerator returns the numerator of the job's last status (PHP
// taskNumerator).
func (t *Task) TaskNumerator() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status.Numerator
}

// TaskDenominator returns the denominator of the job's last status (PHP
// taskDenominator).
func (t *Task) TaskDenominator() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status.Denominator
}

// Data returns the payload of the packet being delivered: the chunk in the
// data callback, the warning, the exception text, the result in the complete
// callback (PHP data). After the task finished it is the final payload.
func (t *Task) Data() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.data
}

// DataSize returns len(Data()) (PHP dataSize).
func (t *Task) DataSize() int { return len(t.Data()) }

// SendWorkload sends workload data for the task (PHP sendWorkload). It works
// only inside one of the task's callbacks.
//
// Unlike PHP, whose extension crashes on a task not yet sent, it returns an
// error when called elsewhere.
func (t *Task) SendWorkload(data []byte) (int, error) {
	const op = "Task.SendWorkload"
	t.mu.Lock()
	live := t.live
	t.mu.Unlock()
	if live == nil {
		return 0, newError(op, InvalidArgument, "the task is not in one of its callbacks")
	}
	n, rc := live.sendWorkload(data)
	if rc != Success && rc != IOWait {
		return n, newError(op, rc, "")
	}
	return n, nil
}

// RecvData reads up to n bytes of the packet being delivered, for a client
// with ClientUnbufferedResult (PHP recvData). It works only inside one of
// the task's callbacks.
//
// Unlike PHP, whose extension crashes on a task not yet sent, it returns an
// error when called elsewhere.
func (t *Task) RecvData(n int) ([]byte, error) {
	const op = "Task.RecvData"
	t.mu.Lock()
	live := t.live
	t.mu.Unlock()
	if live == nil {
		return nil, newError(op, InvalidArgument, "the task is not in one of its callbacks")
	}
	if n <= 0 {
		return nil, newError(op, InvalidArgument, "length must be positive")
	}
	data, rc := live.recvData(n)
	if rc != Success && rc != IOWait {
		return data, newError(op, rc, "")
	}
	return data, nil
}

// Function returns the function name.
//
// Deprecated: use FunctionName (PHP function).
func (t *Task) Function() string { return t.FunctionName() }

// Uuid returns the unique key.
//
// Deprecated: use Unique (PHP uuid).
func (t *Task) Uuid() string { return t.Unique() }

// SendData sends workload data.
//
// Deprecated: use SendWorkload (PHP sendData).
func (t *Task) SendData(data []byte) (int, error) { return t.SendWorkload(data) }

// Create returns the task itself: in Go, AddTask* create it (PHP create).
//
// Deprecated: PHP's create() predates addTask.
func (t *Task) Create() (*Task, error) { return t, nil }

// taskEvent runs the client's callback for ev as it is now; C calls it only
// for events that have one.
func (t *Task) taskEvent(ev taskEvent, live liveTask) ReturnCode {
	cb := t.client.callbacks()[ev]
	if cb == nil {
		return Success // cleared since C looked
	}
	t.mu.Lock()
	t.jobHandle = live.jobHandle()
	t.status = live.status()
	t.data = live.data()
	t.live = live
	t.mu.Unlock()

	err := callTaskCallback(cb, t, t.context)

	t.mu.Lock()
	t.live = nil
	t.mu.Unlock()
	switch {
	case err == nil:
		return Success
	case errors.Is(err, Pause):
		return Pause
	}
	t.client.stopRun(err)
	return callbackStopped
}

// callbackStopped is what a failed callback returns to libgearman: any code
// but SUCCESS, PAUSE and IO_WAIT stops run_tasks where it is.
const callbackStopped = UnknownState

func callTaskCallback(cb TaskCallback, t *Task, ctx any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r}
		}
	}()
	return cb(t, ctx)
}

// markRequeue marks a task in flight that no server acknowledged yet, after
// the connection to ep failed: when libgearman frees it, it goes back to the
// client's queue, for a server it has not tried.
func (t *Task) markRequeue(ep endpoint) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.lib == nil || t.lib.jobHandle() != "" {
		return false
	}
	t.requeue = true
	t.tried = append(t.tried, ep)
	return true
}

// onRoute reports whether the task is in flight on r.
func (t *Task) onRoute(r *taskRoute) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lib != nil && t.route == r
}

// taskFreed keeps the task's final state as libgearman frees it.
func (t *Task) taskFreed(final taskLib) {
	t.mu.Lock()
	t.lib = nil
	route := t.route
	t.route = nil
	if t.requeue {
		t.requeue = false
		t.mu.Unlock()
		t.client.requeue(t)
		return
	}
	t.finished = true
	t.jobHandle = final.jobHandle()
	t.status = final.status()
	t.data = final.data()
	if final.finished() {
		t.ret = final.result()
	} else {
		t.ret = t.client.abandonCode()
	}
	handle := t.jobHandle
	t.mu.Unlock()
	if route != nil && t.req.kind == kindBackground {
		t.client.pool.remember(handle, route.ep) // for JobStatus
	}
	t.client.taskEnded(t)
}

// abandon frees a task still in libgearman, outside any callback.
func (t *Task) abandon() {
	t.mu.Lock()
	lib := t.lib
	t.mu.Unlock()
	if lib != nil {
		lib.release() // libgearman calls taskFreed
	}
}

// endUnsent ends a task that never reached libgearman.
func (t *Task) endUnsent(rc ReturnCode) {
	t.mu.Lock()
	t.finished = true
	t.ret = rc
	t.mu.Unlock()
}
