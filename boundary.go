package gearman

// The interfaces below are everything the package needs from libgearman. They
// are implemented by capi_client.go and capi.go (cgo builds) and by nothing
// in !cgo builds, where the constructors return errNoCgo. Client, Worker, Job
// and Task are plain Go over these: locking, validation, contexts, errors and
// PHP's semantics. No other files than these and trampolines.go touch C or
// unsafe.

// Job kinds and priorities the C side understands.
type taskKind int

const (
	kindForeground taskKind = iota
	kindBackground
	kindStatus
	kindStatusUnique
)

// clientLib is one gearman_client_st. Not safe for concurrent use: Client
// serializes every call.
type clientLib interface {
	free()
	addServer(host string, port int) ReturnCode
	addServers(servers string) ReturnCode
	errorText() string
	errno() int
	// enableExceptions sends the "exceptions" option to every server and
	// reports whether libgearman now re-sends it on every connection.
	enableExceptions() bool
	submit(req taskRequest) (taskLib, ReturnCode)
	runTasks(timeoutMs int) ReturnCode
	wait(timeoutMs, wakeFD int) ReturnCode
	setNonBlocking(on bool)
	// packets counts the packets the client's tasks received: progress.
	packets() uint64
	// step moves a non-blocking client's tasks on as far as they go without
	// waiting; IOWait comes with what to wait for (valid until the next
	// step). waitFirst first takes in what the last wait found.
	step(waitFirst bool) (ReturnCode, []pollRequest)
	// runUntil runs the tasks for a caller alone with the client: libgearman
	// waits itself, blocking the thread, with wakeFD among its fds, until t
	// finished (nil: every task), wakeFD was written (woken), a wait of timeoutMs passed
	// (timedOut; -1: none), or libgearman answered other than IOWait.
	runUntil(t taskLib, wakeFD, timeoutMs int) (rc ReturnCode, woken, timedOut bool)
	// setTimeout sets libgearman's own timeout, for the calls that block in
	// it whatever the mode (the server options sent on connect).
	setTimeout(ms int)
	// echo sends data to every server and checks the echo, blocking the
	// thread in poll() with wakeFD among its fds, until the echo came back,
	// wakeFD was written, or a wait of timeoutMs passed (-1: none).
	echo(data []byte, timeoutMs, wakeFD int) ReturnCode
	// setLog sends libgearman's log lines up to verbosity v to the logSink
	// behind h; h 0 stops them.
	setLog(h handle, v Verbose, gen uint64)
	loggedGen() uint64
	// setSSL turns TLS on for connections made afterwards; only called when
	// the library has TLS (tls.go).
	setSSL(t tlsFiles)
}

// pollRequest is one fd a non-blocking libgearman object waits on, with the
// poll events it waits for and the fd's connect generation (a reused fd
// number is another socket).
type pollRequest struct {
	fd     int
	events int16
	gen    uint32
	ready  bool // set by waitFDs
}

// rawPollFd is C's struct pollfd.
type rawPollFd struct {
	fd             int32
	events, revent int16
}

// taskRequest describes a task to add. For status kinds, key is the job
// handle or unique key.
type taskRequest struct {
	kind       taskKind
	priority   JobPriority
	function   string
	unique     string
	key        string
	workload   []byte
	accumulate bool // keep WORK_DATA chunks ahead of the result (blocking Do)
	// sink receives the task's events and its end; nil for the binding's own
	// blocking calls, whose result is read from taskLib and then released.
	sink   taskEventSink
	events eventMask // which events reach sink, read at each event
}

// eventMask is the set of task events (bit 1 << taskEvent) that have a Go
// callback on a Client now. It lives in C memory, which the Client's tasks
// read at every event: an event without a callback never crosses into Go,
// and a callback set after AddTask is the one that fires.
type eventMask interface {
	set(bits uint32)
	free()
}

// taskEventSink receives the client task events of one task added through
// AddTask*. The returned code steers run_tasks: SUCCESS carries on, PAUSE
// stops it so that the next run delivers the same packet again.
type taskEventSink interface {
	taskEvent(ev taskEvent, live liveTask) ReturnCode
	// taskFreed hands over the task's final state as libgearman frees it.
	taskFreed(final taskLib)
}

// liveTask is the libgearman task a callback is running for, valid only
// during that callback.
type liveTask interface {
	jobHandle() string
	data() []byte
	status() JobStatus
	sendWorkload(data []byte) (int, ReturnCode)
	recvData(n int) ([]byte, ReturnCode)
}

// taskEvent numbers the eight client callbacks in gm_event order.
type taskEvent int

const (
	eventWorkload taskEvent = iota
	eventCreated
	eventData
	eventWarning
	eventStatus
	eventComplete
	eventException
	eventFail
	eventCount
)

// taskLib is one task in a clientLib, with what its packets said so far.
type taskLib interface {
	finished() bool
	packets() uint64 // packets received for the task: progress
	result() ReturnCode
	data() []byte
	jobHandle() string
	status() JobStatus
	release()
}

// workerLib is one gearman_worker_st. Not safe for concurrent use.
type workerLib interface {
	free()
	addServer(host string, port int) ReturnCode
	addServers(servers string) ReturnCode
	errorText() string
	errno() int
	options() WorkerOptions
	setOptions(o WorkerOptions)
	addOptions(o WorkerOptions)
	removeOptions(o WorkerOptions)
	setIdentifier(id string) ReturnCode
	enableExceptions() bool
	// define registers fn under name; the C side owns a handle to fn until free.
	define(name string, timeout int, fn *workerFunction) ReturnCode
	register(name string, timeout int) ReturnCode
	unregister(name string) ReturnCode
	unregisterAll() ReturnCode
	// work runs one job in the object's own mode; a negative timeoutMs
	// waits for it without a limit.
	work(timeoutMs int) ReturnCode
	// step runs one job or what can be done towards it without waiting, in
	// non-blocking mode: Success once a job ran; IOWait (an exchange under
	// way) or NoJobs (asleep) with the sockets to wait on before the next
	// step, which then has waitFirst (and asleep after NoJobs); anything else
	// is a failure after which the object must be replaced (gm_worker_step).
	// ready says the sockets of the last wait are readable: the netpoller
	// said so. timed says the caller has a deadline or a context to set
	// aside in the middle of a packet (counted, wire.h).
	step(waitFirst, asleep, ready, timed bool) (ReturnCode, []pollRequest)
	// interrupt ends a wait in progress on another thread, as a timeout, at
	// once or, in the middle of a transfer, at the transfer's next packet
	// boundary; closing (Close) ends even that one if it receives.
	interrupt(closing bool)
	// clearInterrupt follows a call that was interrupted: it drops an
	// interrupt that came after the call's last wait, and reports whether the
	// object may be used again. It may not after a wait cut in the middle of
	// a transfer, or one whose interrupt libgearman read itself (a socket
	// the binding does not follow, such as TLS).
	clearInterrupt() (fit bool)
	grabJob(timeoutMs int) (jobLib, ReturnCode)
	echo(data []byte, timeoutMs int) ReturnCode
	wait(timeoutMs int) ReturnCode
	setLog(h handle, v Verbose, gen uint64)
	loggedGen() uint64
	// setSSL turns TLS on for connections made afterwards; only called when
	// the library has TLS (tls.go).
	setSSL(t tlsFiles)
}

// jobLib is one gearman_job_st, valid while its worker function runs (or, for
// a grabbed job, until the binding frees it).
type jobLib interface {
	handle() string
	functionName() string
	unique() string
	workload() []byte
	sendData(data []byte) ReturnCode
	sendWarning(data []byte) ReturnCode
	sendStatus(numerator, denominator int) ReturnCode
	sendComplete(data []byte) ReturnCode
	// completeOnReturn is sendComplete for the result a worker function
	// returns: it may instead leave data to the shim, which sends it once
	// the function returned (one crossing less per job).
	completeOnReturn(data []byte) ReturnCode
	sendException(data []byte) ReturnCode
	sendFail() ReturnCode
	errorText() string
	// detach frees a grabbed job's record; freeing its worker frees the
	// job itself.
	detach()
}
