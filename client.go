package gearman

import (
	"context"
	"errors"
)

// Client submits jobs to Gearman job servers (PHP GearmanClient).
//
// A Client is meant to be shared, like a *sql.DB: concurrent blocking jobs
// (Do*, Do*Background and their Context variants) and status lookups
// (JobStatus, JobStatusByUniqueKey) from any number of goroutines run at
// once, pipelined on one connection per server, and while they wait no OS
// thread waits for them. Pings run at once too, each on connections of its
// own. PHP's task list (AddTask and RunTasks, Wait) keeps PHP's per-object
// model: one RunTasks at a time, on a connection of its own, beside the
// blocking jobs. Close it when done.
//
// Given several servers, a Client spreads its blocking jobs over all those
// that answer: a job with a unique key goes to the server a stable hash of
// the key picks, so that gearmand can coalesce it and JobStatusByUniqueKey
// finds it; jobs without one take turns. A server whose connection failed is
// skipped until it answers again, and a job no server acknowledged goes to
// another, at most once per server. JobStatus asks the server that issued
// the handle first, then the others. RunTasks spreads its tasks the same
// way, over a connection of its own to each server, and still runs every
// callback on its own goroutine, one at a time; a status task (AddTaskStatus)
// goes to the server that issued its handle when the Client knows it, or
// else to one of the servers in turn.
//
// PHP's per-object state (ReturnCode, LastError, GetErrno, DoJobHandle,
// DoStatus) keeps PHP's meaning for a goroutine that makes one call at a
// time. When calls overlap, it tells about the call that ended last; use the
// returned values and errors instead.
type Client struct {
	core

	// Guarded by turn.
	lib        clientLib
	broken     bool // a connection failed: rebuild lib before the next call
	exceptions bool // lib re-sends the "exceptions" option on every connection
	yield      yielder
	runWait    fdWaiter      // RunTasks' wait in C, which its context or Close ends
	routes     []*taskRoute  // RunTasks' servers, with several, by address (taskroutes.go)
	stepping   []*taskRoute  // the routes a round steps (scratch)
	routeReqs  []pollRequest // what the routes wait for (scratch)
	routeFds   []rawPollFd   // the same, as C's pollfds (scratch)

	// Guarded by mu.
	options  ClientOptions
	context  any
	doHandle string
	doStatus JobStatus
	tasks    taskQueue
	events   eventMask // which of tasks.callbacks are set; nil once closed

	pool *serverPool // runs the blocking jobs, one driver per server (servers.go, driver.go)
}

// serverSpec is one AddServer or AddServers call, replayed when the client's
// libgearman object is rebuilt.
type serverSpec struct {
	host  string
	port  int
	list  string
	multi bool
}

// NewClient creates a client (PHP new GearmanClient). Its options start as
// PHP's do, ClientFreeTasks, and its timeout is -1 (wait forever).
//
// Unlike PHP's constructor, which throws a GearmanException, NewClient
// returns an error when libgearman cannot create the client, as when the
// package was built without cgo.
func NewClient() (*Client, error) {
	lib, err := newClientLib()
	if err != nil {
		return nil, explainCreateFailure(err)
	}
	events, err := newEventMask()
	if err != nil {
		lib.free()
		return nil, err
	}
	c := &Client{
		core:    newCore("client"),
		lib:     lib,
		options: ClientFreeTasks,
		tasks:   taskQueue{inflight: make(map[*Task]struct{})},
		events:  events,
		pool:    newServerPool(),
	}
	c.own = own(c, c.log, events, lib, c.pool) // the drivers' descriptors and libs are freed first
	return c, nil
}

// Close frees the client (PHP __destruct). It is idempotent; every later call
// returns an error wrapping ErrClosed. A call in progress on another goroutine
// stops within a fraction of a second. Tasks not yet finished end with
// ReturnCode LostConnection.
//
// Unlike PHP, where __destruct runs as the last reference goes, a Client
// dropped without Close has its libgearman object and sockets freed only
// once the garbage collector finds it unreachable, as an os.File is closed.
// Close frees them at once; a Client with tasks still in flight in
// libgearman stays reachable until they end.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.runWait.wake()
	c.pool.close()
	c.turn.wait()
	c.runWait.close()
	c.abandonAll(LostConnection)
	c.lib = nil
	c.mu.Lock() // callback setters need no turn
	c.events = nil
	c.mu.Unlock()
	c.own.freeAll()
	c.turn.give()
	return nil
}

// Clone returns a new client with the same servers, options, timeout,
// context and callbacks, without tasks (PHP clone).
func (c *Client) Clone() (*Client, error) {
	if c.closed.Load() {
		return nil, closedError("Clone")
	}
	n, err := NewClient()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	n.servers = append([]serverSpec(nil), c.servers...)
	n.timeout, n.options, n.context = c.timeout, c.options, c.context
	c.mu.Unlock()
	n.mu.Lock()
	n.setCallbacksLocked(c.callbacks())
	n.mu.Unlock()
	n.log.logger.Store(c.log.logger.Load())
	n.tls = c.tls
	n.settle(n.lib)
	for _, s := range n.servers {
		if rc := addServerSpec(n.lib, s); rc != Success {
			n.Close()
			return nil, newError("Clone", rc, "re-adding server failed")
		}
	}
	n.pool.setServers(endpoints(n.servers))
	return n, nil
}

// ReturnCode returns the code of the last call that talked to libgearman
// (PHP returnCode).
func (c *Client) ReturnCode() ReturnCode { return c.returnCode() }

// LastError returns the message of the last failed call, "" if none failed
// (PHP error).
//
// Like PHP's error(), it is libgearman's message alone, such as
// "flush(GEARMAN_COULD_NOT_CONNECT) Connection to ... failed -> ...". A
// failure found in Go (a bad argument, a cancelled context, a closed Client)
// gives the message of its *Error, and a job that failed without a message
// the code's name. The returned error's Error() keeps the full text, with the
// operation and the code.
//
// Unlike PHP, it is not called Error, so that a *Client is not a Go error,
// and it returns "" where PHP's error() returns false: when nothing failed
// yet. The text is sticky the same way.
func (c *Client) LastError() string { return c.lastError() }

// GetErrno returns the system errno of the last failed call (PHP getErrno).
func (c *Client) GetErrno() int { return c.getErrno() }

// Options returns the client options (PHP options).
func (c *Client) Options() ClientOptions {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.options
}

// SetOptions replaces the client options (PHP setOptions). Setting
// ClientException enables exception forwarding, as EnableExceptionHandler.
func (c *Client) SetOptions(o ClientOptions) error {
	if c.closed.Load() {
		return closedError("SetOptions")
	}
	if o&ClientSsl != 0 && !libHasTLS() {
		return c.record(tlsUnsupported("SetOptions"))
	}
	c.mu.Lock()
	c.options = o
	c.mu.Unlock()
	if o&ClientException != 0 {
		return c.EnableExceptionHandler()
	}
	return nil
}

// AddOptions sets the given option bits (PHP addOptions).
func (c *Client) AddOptions(o ClientOptions) error {
	if c.closed.Load() {
		return closedError("AddOptions")
	}
	c.mu.Lock()
	all := c.options | o
	c.mu.Unlock()
	return c.SetOptions(all)
}

// RemoveOptions clears the given option bits (PHP removeOptions).
func (c *Client) RemoveOptions(o ClientOptions) error {
	if c.closed.Load() {
		return closedError("RemoveOptions")
	}
	c.mu.Lock()
	c.options &^= o
	c.mu.Unlock()
	return nil
}

// Timeout returns the timeout in milliseconds, -1 for none (PHP timeout).
func (c *Client) Timeout() int { return c.getTimeout() }

// SetTimeout sets how long, in milliseconds, a call waits for the servers
// without hearing from them (PHP setTimeout); -1 waits forever. 0 makes calls
// give up at once; unlike with libgearman, the client stays usable afterwards.
func (c *Client) SetTimeout(ms int) error { return c.setTimeout(ms, nil) }

// Context returns the value set with SetContext (PHP context).
func (c *Client) Context() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.context
}

// SetContext stores an application value on the client (PHP setContext).
//
// Unlike PHP's, it may be any value, binary strings included.
func (c *Client) SetContext(v any) error {
	if c.closed.Load() {
		return closedError("SetContext")
	}
	c.mu.Lock()
	c.context = v
	c.mu.Unlock()
	return nil
}

// Data returns the client context.
//
// Deprecated: use Context (PHP data).
func (c *Client) Data() any { return c.Context() }

// SetData sets the client context.
//
// Deprecated: use SetContext (PHP setData).
func (c *Client) SetData(v any) error { return c.SetContext(v) }

// AddServer adds a job server (PHP addServer); "" and 0 mean localhost and
// port 4730. The host is resolved now and connected to on first use.
//
// Unlike PHP, it does not connect: PHP's addServer sends the "exceptions"
// option at once and throws a GearmanException if the server is down, unless
// its third argument, setupExceptionHandler, is false. Go has no such
// argument: the client sends the option before its first job. A host holding
// a NUL byte, which PHP cuts there, or a port outside 0 to 65535 is refused
// with InvalidArgument.
func (c *Client) AddServer(host string, port int) error {
	s := serverSpec{host: host, port: port}
	if err := s.validate("AddServer"); err != nil {
		return c.record(err)
	}
	return c.addServerSpec("AddServer", s)
}

// AddServers adds a comma-separated list of host[:port] job servers (PHP
// addServers).
//
// Unlike PHP, it does not connect, and it refuses a host holding a NUL byte
// or a port outside 0 to 65535, as AddServer does. And unlike PHP, whose
// libgearman sends every job to one of its servers, a Client with several
// spreads its blocking jobs over all that answer (see Client).
func (c *Client) AddServers(servers string) error {
	s := serverSpec{list: servers, multi: true}
	if err := s.validate("AddServers"); err != nil {
		return c.record(err)
	}
	return c.addServerSpec("AddServers", s)
}

func (c *Client) addServerSpec(op string, s serverSpec) error {
	if err := c.acquire(context.Background(), op); err != nil {
		return err
	}
	defer c.release()
	if rc := addServerSpec(c.lib, s); rc != Success {
		return c.fail(op, rc)
	}
	c.addedServer(s)
	c.mu.Lock()
	eps := endpoints(c.servers)
	c.mu.Unlock()
	c.pool.setServers(eps)
	return c.succeed(Success)
}

func addServerSpec(lib interface {
	addServer(string, int) ReturnCode
	addServers(string) ReturnCode
}, s serverSpec) ReturnCode {
	if s.multi {
		return lib.addServers(s.list)
	}
	return lib.addServer(s.host, s.port)
}

// EnableExceptionHandler asks every server to forward WORK_EXCEPTION packets
// to this client (PHP enableExceptionHandler). It talks to every server and
// fails if one cannot be reached, naming it (CouldNotConnect), as PHP
// throws. Jobs do this by themselves when needed, and AddServer and
// AddServers never connect.
func (c *Client) EnableExceptionHandler() error {
	const op = "EnableExceptionHandler"
	if err := c.acquire(context.Background(), op); err != nil {
		return err
	}
	defer c.release()
	c.repair()
	// libgearman would wait on a server that is down, so each is checked
	// first, as PHP's addServer finds each one that is down.
	if eps := c.multiServer(); eps != nil {
		if msg := unreachable(eps); msg != "" {
			return c.record(newError(op, CouldNotConnect, msg))
		}
	}
	if !c.lib.enableExceptions() {
		rc := NoServers
		if c.hasServers() {
			rc = CouldNotConnect
			c.broken = true
		}
		return c.fail(op, rc)
	}
	c.exceptions = true
	return c.succeed(Success)
}

// Wait waits for I/O on a non-blocking client's tasks (PHP wait), after
// RunTasks returned with ReturnCode IOWait. With no task in flight it fails
// with NoActiveFds, as PHP's does.
func (c *Client) Wait() error { return c.WaitContext(context.Background()) }

// WaitContext is Wait with a context (Go only).
func (c *Client) WaitContext(ctx context.Context) error {
	const op = "Wait"
	if err := c.acquire(ctx, op); err != nil {
		return err
	}
	defer c.release()
	if c.inflightCount() == 0 {
		return c.record(newError(op, NoActiveFds, "no tasks are in flight"))
	}
	stop, err := c.watchRun(ctx, op)
	if err != nil {
		return err
	}
	defer stop()
	if c.spreading() {
		return c.waitSpread(ctx, op)
	}
	clock := newIdleClock(ctx, c.Timeout())
	for {
		c.yield.beforeBlocking()
		var rc ReturnCode
		woken, err := c.runWait.inC(func(wakeFD int) {
			rc = c.lib.wait(timeoutMs(clock.waitDeadline()), wakeFD)
		})
		switch {
		case err != nil:
			return c.record(newError(op, Errno, err.Error()))
		case woken:
		case rc == Success:
			return c.succeed(rc)
		case rc != Timeout:
			return c.fail(op, rc)
		}
		if err := c.interrupted(ctx, op, &clock); err != nil {
			return err
		}
	}
}

// Ping sends workload to every server and checks the echo (PHP ping).
func (c *Client) Ping(workload []byte) error { return c.PingContext(context.Background(), workload) }

// Echo pings the servers.
//
// Deprecated: use Ping (PHP echo).
func (c *Client) Echo(workload []byte) error { return c.Ping(workload) }

// ---- blocking jobs ----

// DoNormal runs a job at normal priority and waits for its result (PHP
// doNormal). The result is every WORK_DATA chunk the worker sent followed by
// its final result, as in PHP. unique "" gets a random UUID; "#",
// by libgearman's convention, makes the unique key a hash of the workload, so
// that jobs with equal workloads coalesce.
//
// Unlike PHP, which returns "" and leaves the code in returnCode(), a job
// that fails returns an error matching WorkFail; one whose worker raised an
// exception returns an error matching WorkException whose message is the
// exception text.
func (c *Client) DoNormal(function string, workload []byte, unique string) ([]byte, error) {
	return c.DoNormalContext(context.Background(), function, workload, unique)
}

// DoHigh is DoNormal at high priority (PHP doHigh).
//
// Unlike PHP, it returns a failed job as an error, as DoNormal does.
func (c *Client) DoHigh(function string, workload []byte, unique string) ([]byte, error) {
	return c.DoHighContext(context.Background(), function, workload, unique)
}

// DoLow is DoNormal at low priority (PHP doLow).
//
// Unlike PHP, it returns a failed job as an error, as DoNormal does.
func (c *Client) DoLow(function string, workload []byte, unique string) ([]byte, error) {
	return c.DoLowContext(context.Background(), function, workload, unique)
}

// Do runs a job at normal priority.
//
// Deprecated: use DoNormal (PHP do).
func (c *Client) Do(function string, workload []byte, unique string) ([]byte, error) {
	return c.DoNormal(function, workload, unique)
}

// DoNormalContext is DoNormal with a context (Go only). When ctx ends first
// it returns at once an error for which errors.Is(err, ctx.Err()) holds. The
// job, if gearmand has it, stays queued while other jobs of the Client are in
// flight on the connection; once none is, the connection is closed and
// gearmand drops the job, unless a worker has taken it already. The Client's
// timeout (SetTimeout) ends a call the same way.
func (c *Client) DoNormalContext(ctx context.Context, function string, workload []byte, unique string) ([]byte, error) {
	res, _, err := c.do(ctx, "DoNormal", kindForeground, JobPriorityNormal, function, workload, unique)
	return res, err
}

// DoHighContext is DoHigh with a context (Go only).
func (c *Client) DoHighContext(ctx context.Context, function string, workload []byte, unique string) ([]byte, error) {
	res, _, err := c.do(ctx, "DoHigh", kindForeground, JobPriorityHigh, function, workload, unique)
	return res, err
}

// DoLowContext is DoLow with a context (Go only).
func (c *Client) DoLowContext(ctx context.Context, function string, workload []byte, unique string) ([]byte, error) {
	res, _, err := c.do(ctx, "DoLow", kindForeground, JobPriorityLow, function, workload, unique)
	return res, err
}

// DoContext is Do with a context (Go only).
//
// Deprecated: use DoNormalContext.
func (c *Client) DoContext(ctx context.Context, function string, workload []byte, unique string) ([]byte, error) {
	return c.DoNormalContext(ctx, function, workload, unique)
}

// DoBackground queues a job at normal priority and returns its job handle
// without waiting for it to run (PHP doBackground). unique "" gets a random
// UUID, so such jobs never coalesce; while a job is queued, another one
// submitted with the same unique key gets the same handle instead of a new
// job.
func (c *Client) DoBackground(function string, workload []byte, unique string) (string, error) {
	return c.DoBackgroundContext(context.Background(), function, workload, unique)
}

// DoHighBackground is DoBackground at high priority (PHP doHighBackground).
func (c *Client) DoHighBackground(function string, workload []byte, unique string) (string, error) {
	return c.DoHighBackgroundContext(context.Background(), function, workload, unique)
}

// DoLowBackground is DoBackground at low priority (PHP doLowBackground).
func (c *Client) DoLowBackground(function string, workload []byte, unique string) (string, error) {
	return c.DoLowBackgroundContext(context.Background(), function, workload, unique)
}

// DoBackgroundContext is DoBackground with a context (Go only).
func (c *Client) DoBackgroundContext(ctx context.Context, function string, workload []byte, unique string) (string, error) {
	_, h, err := c.do(ctx, "DoBackground", kindBackground, JobPriorityNormal, function, workload, unique)
	return h, err
}

// DoHighBackgroundContext is DoHighBackground with a context (Go only).
func (c *Client) DoHighBackgroundContext(ctx context.Context, function string, workload []byte, unique string) (string, error) {
	_, h, err := c.do(ctx, "DoHighBackground", kindBackground, JobPriorityHigh, function, workload, unique)
	return h, err
}

// DoLowBackgroundContext is DoLowBackground with a context (Go only).
func (c *Client) DoLowBackgroundContext(ctx context.Context, function string, workload []byte, unique string) (string, error) {
	_, h, err := c.do(ctx, "DoLowBackground", kindBackground, JobPriorityLow, function, workload, unique)
	return h, err
}

// DoJobHandle returns the job handle of the last background Do call, "" after
// a foreground one (PHP doJobHandle).
func (c *Client) DoJobHandle() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doHandle
}

// DoStatus returns the last status (numerator, denominator) the worker of the
// last Do call sent (PHP doStatus).
//
// Unlike PHP, whose doStatus always returns 0, 0 because libgearman's
// gearman_client_do_status is a stub, this one reports what was received.
func (c *Client) DoStatus() (numerator, denominator int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doStatus.Numerator, c.doStatus.Denominator
}

// JobStatus asks the server about a job by its handle (PHP jobStatus).
func (c *Client) JobStatus(jobHandle string) (JobStatus, error) {
	return c.JobStatusContext(context.Background(), jobHandle)
}

// JobStatusContext is JobStatus with a context (Go only).
func (c *Client) JobStatusContext(ctx context.Context, jobHandle string) (JobStatus, error) {
	const op = "JobStatus"
	if jobHandle == "" || len(jobHandle) >= JobHandleSize || hasNUL(jobHandle) {
		return JobStatus{}, c.record(newError(op, InvalidArgument, "invalid job handle"))
	}
	return c.status(ctx, op, kindStatus, jobHandle)
}

// JobStatusByUniqueKey asks the server about a job by its unique key (PHP
// jobStatusByUniqueKey). gearmand 1.1.20 never answers for a key of 64 bytes,
// so such a key is refused with InvalidArgument instead of waiting forever.
func (c *Client) JobStatusByUniqueKey(unique string) (JobStatus, error) {
	return c.JobStatusByUniqueKeyContext(context.Background(), unique)
}

// JobStatusByUniqueKeyContext is JobStatusByUniqueKey with a context (Go only).
func (c *Client) JobStatusByUniqueKeyContext(ctx context.Context, unique string) (JobStatus, error) {
	const op = "JobStatusByUniqueKey"
	if unique == "" || len(unique) >= UniqueSize || hasNUL(unique) {
		return JobStatus{}, c.record(newError(op, InvalidArgument, "unique key must be 1 to 63 bytes without NUL"))
	}
	return c.status(ctx, op, kindStatusUnique, unique)
}

// status asks for a job's status through the status drivers (servers.go):
// of several servers, first the one that should know the job, then the
// others, until one knows it, which is then remembered as the handle's
// issuer.
func (c *Client) status(ctx context.Context, op string, kind taskKind, key string) (JobStatus, error) {
	req := taskRequest{kind: kind, key: key}
	var st JobStatus
	var failure error
	answered := false
	for _, d := range c.pool.statusOrder(kind, key) {
		t, err := c.callOn(ctx, op, req, d)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrClosed) {
				return JobStatus{}, err
			}
			failure = err
			continue
		}
		st, answered = t.status(), true
		t.release()
		if st.Known {
			if kind == kindStatus && d.ep != nil {
				c.pool.remember(key, *d.ep) // the next question goes there first
			}
			break
		}
	}
	if !answered {
		return JobStatus{}, failure
	}
	c.succeed(Success)
	return st, nil
}

// do runs one job to its end on the Client's driver (driver.go), where the
// context, Close and the user's timeout end its wait.
func (c *Client) do(ctx context.Context, op string, kind taskKind, priority JobPriority, function string, workload []byte, unique string) ([]byte, string, error) {
	if err := validateJob(op, function, unique); err != nil {
		return nil, "", c.record(err)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", c.record(contextError(op, err))
	}
	req := taskRequest{
		kind: kind, priority: priority, function: function, unique: unique,
		workload: workload, accumulate: kind == kindForeground,
	}
	t, err := c.call(ctx, op, req)
	if err != nil {
		c.mu.Lock()
		c.doHandle = ""
		c.mu.Unlock()
		return nil, "", err
	}
	defer t.release()

	c.mu.Lock()
	c.doStatus = t.status()
	c.doHandle = ""
	if kind == kindBackground {
		c.doHandle = t.jobHandle()
	}
	c.mu.Unlock()

	switch t.result() {
	case Success:
		c.succeed(Success)
		if kind == kindBackground {
			return nil, c.DoJobHandle(), nil
		}
		return t.data(), "", nil
	case WorkException:
		return nil, "", c.record(newError(op, WorkException, string(t.data())))
	default:
		return nil, "", c.record(newError(op, t.result(), "the job failed"))
	}
}

// ---- plumbing ----

func (c *Client) acquire(ctx context.Context, op string) error {
	if err := c.take(ctx, op); err != nil {
		return err
	}
	if c.lib == nil {
		c.turn.give()
		return closedError(op)
	}
	c.refreshLog(c.lib)
	return nil
}

// release ends a call. A call that hit a connection failure, or abandoned a
// job, marked the client broken: its libgearman object is rebuilt now, with
// the same servers. Closing the old connections makes gearmand drop the
// abandoned foreground jobs at once, and a fresh object avoids libgearman
// 1.1.20's failures after a reconnect (the first job lost, a spinning or
// wedged client).
func (c *Client) release() {
	c.rebuildIfBroken()
	c.turn.give()
}

func (c *Client) rebuildIfBroken() {
	if c.broken && c.lib != nil {
		if lib, err := newClientLib(); err == nil {
			c.own.track(lib)
			c.settle(lib)
			c.own.free(c.lib)
			c.lib = lib
			c.exceptions = false
			c.mu.Lock()
			for _, s := range c.servers {
				addServerSpec(lib, s)
			}
			c.mu.Unlock()
			c.broken = false
		}
	}
}

// repair prepares lib for a job: the "exceptions" option is sent once.
// Without it libgearman never matches the WORK_FAIL that gearmand substitutes
// for a worker's exception, and waits forever.
func (c *Client) repair() {
	if !c.exceptions && c.hasServers() {
		c.exceptions = c.lib.enableExceptions()
	}
}

// interrupted returns the error that ends a wait in slices, or nil to wait
// on. (runTask and RunTasks add their own clean-up to these.)
func (c *Client) interrupted(ctx context.Context, op string, clock *idleClock) error {
	return c.core.interrupted(ctx, op, clock, c.fail)
}

// fail records and returns the error of a libgearman call that returned rc.
func (c *Client) fail(op string, rc ReturnCode) error { return c.failOn(c.lib, op, rc) }
