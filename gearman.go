// Package gearman is a Go binding over libgearman, the C client library of the
// Gearman job server, shaped after PHP's PECL gearman extension so that PHP
// code ports to Go line by line.
//
// It needs cgo and the system libgearman (found with pkg-config gearmand;
// Debian/Ubuntu: apt-get install libgearman-dev). Built with CGO_ENABLED=0 the
// package compiles, and NewClient and NewWorker return an error saying so.
//
// # Naming
//
// Class GearmanX is type X (Client, Worker, Job, Task); method camelCase is
// method CamelCase (doNormal is DoNormal, setCompleteCallback is
// SetCompleteCallback); constant GEARMAN_SNAKE_CASE drops its prefix and joins
// its words capitalized, keeping IO, TCP, ID and EOF upper-case
// (GEARMAN_WORK_FAIL is WorkFail, GEARMAN_IO_WAIT is IOWait). The exceptions,
// each for a Go reason: constructors are NewClient and NewWorker and return an
// error; __destruct is Close; error() is LastError, so that a *Client is not a
// Go error; optional PHP arguments are plain arguments ("", nil or 0 for "not
// given").
//
// This PHP client
//
//	$client = new GearmanClient();
//	$client->addServer("127.0.0.1", 4730);
//	$result = $client->doNormal("reverse", "Hello!");
//	if ($client->returnCode() != GEARMAN_SUCCESS) {
//	    echo "failed: " . $client->error() . "\n";
//	}
//
// is, in Go:
//
//	client, err := gearman.NewClient()
//	if err != nil {
//		return err
//	}
//	defer client.Close()
//	client.AddServer("127.0.0.1", 4730)
//	result, err := client.DoNormal("reverse", []byte("Hello!"), "")
//	if err != nil {
//		fmt.Println("failed:", err)
//	}
//
// # Differences from PHP
//
// Workloads, results, data, warnings and exception texts are []byte and
// binary-safe. A job that ends in WORK_FAIL or WORK_EXCEPTION is an error
// (errors.Is(err, gearman.WorkFail)); the exception text is in the error.
// Timeouts stay int milliseconds (-1 waits forever); Go deadlines and
// cancellation come through the ...Context variants. Every method is safe for
// concurrent use: a Client runs its blocking jobs from many goroutines at
// once (see Client), and a Worker serves several jobs at once with
// SetConcurrency; their other calls run one at a time.
//
// A call that waits for the network parks its goroutine in Go's netpoller
// when several share a Client, or when it is a slot of a Worker's Run. A
// caller alone with its Client, and a lone worker (Work, or Run without
// SetConcurrency), wait inside libgearman's poll, which a context or Close
// ends at once, or at the end of a packet in transfer. With GOMAXPROCS=1, as
// in a process limited to one CPU, such a wait first polls for up to 4 ms
// without giving up the goroutine's P, which costs a sequential caller or
// worker far less than the runtime's handoffs would; other goroutines wait
// for the P meanwhile, as behind a goroutine that computes (docs/design.md).
//
// A failed call returns an error (an *Error) where PHP returns false or ""
// and emits a warning; ReturnCode and LastError still tell what happened, for
// ported code.
//
// Function names, unique keys and hosts are Go strings, which may hold a NUL
// byte; PHP cuts them there, and libgearman cuts a unique key of 64 bytes to
// 63. Rather than send something other than what was asked, such arguments
// are refused with an error matching InvalidArgument.
//
// A workload may be empty (nil or []byte{}): the worker gets zero bytes.
// PHP refuses "" with GEARMAN_INVALID_ARGUMENT "invalid workload", only
// because of how it hands the string to libgearman. Ping's data alone must
// not be empty, as libgearman refuses an empty echo.
//
// The client enables WORK_EXCEPTION forwarding by itself before its first job
// (PHP does it inside addServer, and throws if a server is down): without it
// libgearman 1.1.20 waits forever for a job whose worker raised an exception.
//
// # Job servers
//
// AddServer and AddServers add job servers. As in PHP, libgearman also reads
// the environment variable GEARMAN_SERVERS ("host[:port],...", the list
// AddServers takes) each time it creates a client or a worker, and adds those
// servers before any other: with it set, a Client or Worker needs no
// AddServer, and code that wants only its own servers unsets it. A value
// libgearman cannot use (a host it cannot resolve) makes NewClient and
// NewWorker fail, with an error that names the variable.
package gearman

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Version returns the version of the linked libgearman (PHP gearman_version),
// exactly the string PHP returns with the same library, such as "1.1.20+ds"
// with Debian's package. Empty without cgo. [Linkage] says how it was linked.
func Version() string { return libVersion() }

// Linkage says how libgearman was linked into the program: "shared" (the
// default build, libgearman.so) or "static" (-tags gearman_static); empty
// without cgo (Go only).
func Linkage() string { return linkage }

// BugReport returns where to report libgearman bugs (PHP gearman_bugreport).
func BugReport() string { return libBugReport() }

// VerboseName returns the name of a verbosity level, "" for an unknown one
// (PHP gearman_verbose_name).
func VerboseName(v Verbose) string { return libVerboseName(v) }

// JobStatus is what the job server knows about a job (PHP jobStatus's array:
// known, running, numerator, denominator).
type JobStatus struct {
	Known       bool
	Running     bool
	Numerator   int
	Denominator int
}

// Error is the error of a failed call (PHP GearmanException): the libgearman
// return code, the operation, and libgearman's message (or, for
// WORK_EXCEPTION, the text the worker sent). errors.Is(err, gearman.Timeout)
// matches on Code.
//
// Unlike PHP, which throws GearmanException in a few places only (with code
// 0) and otherwise returns false with a warning, every failed call returns an
// *Error. Its Code, a ReturnCode, is what PHP's returnCode() would say;
// PHP's getMessage() is Error().
type Error struct {
	Code ReturnCode
	Op   string
	Msg  string
	err  error // cause, e.g. ctx.Err() or ErrClosed
}

func newError(op string, code ReturnCode, msg string) *Error {
	return &Error{Code: code, Op: op, Msg: msg}
}

func wrapError(op string, code ReturnCode, cause error) *Error {
	return &Error{Code: code, Op: op, Msg: cause.Error(), err: cause}
}

// Error formats e as "gearman: Op: CODE: Msg", leaving out an empty Msg.
func (e *Error) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("gearman: %s: %s", e.Op, e.Code)
	}
	return fmt.Sprintf("gearman: %s: %s: %s", e.Op, e.Code, e.Msg)
}

// explainCreateFailure adds to the error of a failed NewClient or NewWorker
// the likely cause that libgearman does not say: GEARMAN_SERVERS, which it
// adds at creation and fails on.
func explainCreateFailure(err error) error {
	var e *Error
	if v, set := os.LookupEnv("GEARMAN_SERVERS"); set && errors.As(err, &e) && e.Code == MemoryAllocationFailure {
		e.Msg += "; libgearman could not add the servers of GEARMAN_SERVERS=" + strconv.Quote(v)
	}
	return err
}

// phpErrorText is what LastError keeps of err: the message alone, as PHP's
// error() returns libgearman's text alone, or the code's name when there is
// no message (a job that failed without one).
func phpErrorText(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	if e.Msg == "" {
		return e.Code.String()
	}
	return e.Msg
}

// Is reports whether target is the ReturnCode of e.
func (e *Error) Is(target error) bool {
	rc, ok := target.(ReturnCode)
	return ok && rc == e.Code
}

// Unwrap returns the cause of e, such as a context's error, if any.
func (e *Error) Unwrap() error { return e.err }

// ErrClosed is the cause of every error returned by a Client or Worker after
// Close. The error's Code is InvalidArgument, as libgearman answers for a NULL
// object.
var ErrClosed = errors.New("use of a closed Client or Worker")

// ErrNotAcknowledged is the cause of a job's connection error when no job
// server acknowledged the job (JOB_CREATED never arrived), after every listed
// server was tried. A foreground job was then not run: gearmand drops a
// foreground job whose client went away before a worker took it. Retrying
// it is safe; see docs/reliability.md for the background case.
var ErrNotAcknowledged = errors.New("no job server acknowledged the job")

// ErrAcknowledgedThenLost is the cause of a job's connection error when a job
// server acknowledged the job and the connection was lost afterwards. The
// job may have run, or be running: retrying may run it twice.
var ErrAcknowledgedThenLost = errors.New("the job server acknowledged the job, then the connection was lost: the job may have run")

// ErrJobDone is the cause of the errors of a Job used after its WorkerFunc
// returned, or after a grabbed job was completed: libgearman freed it.
var ErrJobDone = errors.New("job is no longer valid: its function returned or it was completed")

// libMessage returns libgearman's last error text if it is about rc.
// libgearman leaves the text of an earlier failure in place when a call fails
// without recording one, and that text would describe something else.
func libMessage(text string, rc ReturnCode) string {
	// libgearman writes "function(GEARMAN_CODE) message"; match the whole
	// name, as GEARMAN_NO_REGISTERED_FUNCTION is a prefix of another.
	if strings.Contains(text, "("+rc.String()+")") {
		return text
	}
	return ""
}

func closedError(op string) error { return wrapError(op, InvalidArgument, ErrClosed) }

// contextError wraps a context's error. A deadline carries Timeout; a cancel
// carries ShutdownGraceful, the code libgearman gives a wait interrupted from
// outside. errors.Is(err, ctx.Err()) holds for both.
func contextError(op string, err error) error {
	code := ShutdownGraceful
	if errors.Is(err, context.DeadlineExceeded) {
		code = Timeout
	}
	return wrapError(op, code, err)
}

// clampWait turns a user timeout into one libgearman can wait with: -1 stays
// forever, anything below 1 ms becomes 1 ms (0 would wedge the client).
func clampWait(ms int) int {
	if ms < 0 {
		return -1
	}
	if ms < 1 {
		return 1
	}
	return ms
}
