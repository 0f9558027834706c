package gearman

// The interfaces below are everything the package needs from libgearman. They
// are implemented by capi.go (cgo builds) and by nothing in !cgo builds, where
// the constructors return errNoCgo. Client, Worker, Job and Task are plain Go
// over these: locking, validation, contexts, errors and PHP's semantics.
// No other file than capi.go and trampolines.go touches C or unsafe.

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
	submit(kind taskKind, priority JobPriority, function, unique string, workload []byte, accumulate bool) (taskLib, ReturnCode)
	submitStatus(kind taskKind, key string) (taskLib, ReturnCode)
	runTasks(timeoutMs int) ReturnCode
	echo(data []byte, timeoutMs int) ReturnCode
}

// taskLib is one task in a clientLib, with what its packets said so far.
type taskLib interface {
	finished() bool
	result() ReturnCode
	data() []byte
	jobHandle() string
	status() JobStatus
	packets() uint64
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
	work(timeoutMs int) ReturnCode
	grabJob(timeoutMs int) (jobLib, ReturnCode)
	echo(data []byte, timeoutMs int) ReturnCode
	wait(timeoutMs int) ReturnCode
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
	sendException(data []byte) ReturnCode
	sendFail() ReturnCode
	errorText() string
	free()
}
