package admin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Error codes that gearmand 1.1.20 sends in "ERR CODE message" replies, found
// in [ServerError.Code].
const (
	// CodeUnknownJob is the reply to "cancel job" for a handle the server
	// does not hold.
	CodeUnknownJob = "UNKNOWN_JOB"
	// CodeUnknownCommand is the reply to a command the server does not know
	// (including "shutdown" in 1.1.20).
	CodeUnknownCommand = "UNKNOWN_COMMAND"
	// CodeInvalidArguments is the reply to a command with missing arguments.
	CodeInvalidArguments = "INVALID_ARGUMENTS"
	// CodeUnknownShowArguments is the reply to "show" with arguments other
	// than "jobs" or "unique jobs".
	CodeUnknownShowArguments = "UNKNOWN_SHOW_ARGUMENTS"
	// CodeUnknownError is gearmand's catch-all error reply.
	CodeUnknownError = "UNKNOWN_ERROR"
)

var (
	// ErrClosed is returned by calls on a Client after Close.
	ErrClosed = errors.New("admin: client is closed")
	// ErrProtocol is wrapped by the errors for replies that do not have the
	// shape the command calls for.
	ErrProtocol = errors.New("admin: malformed reply")
	// ErrInvalidArgument is wrapped by the errors for arguments that cannot
	// be sent as a one-line admin command (empty names, whitespace or
	// control characters, a wrong number of queue sizes); nothing is sent.
	ErrInvalidArgument = errors.New("admin: invalid argument")
)

// maxLineLen bounds a single reply line; longer lines are a protocol error.
const maxLineLen = 1 << 20

// ServerError is an "ERR CODE message" reply from gearmand.
type ServerError struct {
	// Command is the command line that was sent, without its line ending.
	Command string
	// Code is the word after "ERR", e.g. CodeUnknownJob.
	Code string
	// Message is the rest of the line as sent by the server, possibly empty.
	// gearmand writes the spaces of its messages as '+', e.g.
	// "Unknown+server+commandshutdown"; they are left as they are.
	Message string
}

// Error returns a description of the reply that includes the command.
func (e *ServerError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("admin: %q: server error %s", e.Command, e.Code)
	}
	return fmt.Sprintf("admin: %q: server error %s: %s", e.Command, e.Code, e.Message)
}

// FunctionStatus is one line of the "status" reply.
type FunctionStatus struct {
	// Name is the function name.
	Name string
	// Total counts the function's jobs known to the server: queued,
	// running, and cancelled or abandoned ones that have not been dequeued
	// yet.
	Total int
	// Running counts the jobs that workers are running.
	Running int
	// Workers counts the connected workers that registered the function.
	Workers int
}

// PriorityStatus is one line of the "prioritystatus" reply.
type PriorityStatus struct {
	// Name is the function name.
	Name string
	// High, Normal and Low count the function's jobs of each priority
	// known to the server.
	High, Normal, Low int
	// Workers counts the connected workers that registered the function.
	Workers int
}

// WorkerInfo is one line of the "workers" reply. gearmand lists every
// connection, not only workers: clients and the admin connection itself
// appear too, with no functions.
type WorkerInfo struct {
	// FD is the connection's file descriptor in gearmand.
	FD int
	// IP is the peer address of the connection.
	IP string
	// ClientID is the id set with SET_CLIENT_ID, or "-" if none was set.
	ClientID string
	// Functions are the functions the connection registered (CAN_DO), in
	// the server's order (most recently registered first in 1.1.20). It is
	// empty for connections that are not workers.
	Functions []string
}

// Job is one line of the "show jobs" reply. gearmand 1.1.20 prints
// "HANDLE\tRETRIES\tIGNORE\tQUEUED", e.g. "H:host:3\t0\t1\t0" for a job
// cancelled with CancelJob.
type Job struct {
	// Handle is the job handle, e.g. "H:host:3".
	Handle string
	// Retries counts how often a worker failed the job (disconnected or
	// timed out while running it).
	Retries int
	// Ignore is set for jobs that will not be run: cancelled with CancelJob,
	// or foreground jobs whose client disconnected.
	Ignore bool
	// Queued is gearmand's job_queued flag: the job is a background job
	// recorded in the server's queue store (the persistent queue, if one
	// is configured, e.g. SQLite). It stays set while a worker runs the job
	// and is clear for foreground jobs and after CancelJob, which removes
	// the job from the store. It does not mean "waiting for a worker": use
	// Status (Total - Running) for that.
	Queued bool
}

// Client is a connection to the admin protocol of one gearmand. It is safe
// for concurrent use: calls are serialized on a single TCP connection, which
// is re-dialled on demand after it had to be discarded (see the package
// documentation). Create it with Dial; release it with Close.
type Client struct {
	addr   string
	dialer net.Dialer

	// sem is a one-slot semaphore held by the call that uses the
	// connection; unlike a mutex, waiting for it honours a context.
	sem chan struct{}

	mu     sync.Mutex // guards the fields below
	closed bool
	conn   *conn // nil when there is no open connection
}

// conn is an open connection and its reader.
type conn struct {
	nc net.Conn
	br *bufio.Reader
}

// Dial connects to the gearmand at addr ("host:port") and returns a Client
// for its admin protocol. ctx bounds the connection attempt only; each
// method takes its own context.
func Dial(ctx context.Context, addr string) (*Client, error) {
	c := &Client{addr: addr, sem: make(chan struct{}, 1)}
	cn, err := c.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	c.conn = cn
	return c, nil
}

// dial opens a new connection to c.addr.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	nc, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", c.addr, err)
	}
	return &conn{nc: nc, br: bufio.NewReader(nc)}, nil
}

// Close closes the connection. A call in progress on another goroutine is
// interrupted and returns an error wrapping ErrClosed, and later calls return
// ErrClosed. Close is idempotent: calls after the first return nil.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	cn := c.conn
	c.conn = nil
	c.mu.Unlock()
	if cn == nil {
		return nil
	}
	if err := cn.nc.Close(); err != nil {
		return fmt.Errorf("admin: close: %w", err)
	}
	return nil
}

// replyKind says which reply shape a command calls for.
type replyKind int

const (
	// single: one "OK ..." or "ERR ..." line.
	single replyKind = iota
	// list: lines ended by ".", or one "ERR ..." line.
	list
	// auto: decided by the command name and the first line (Command).
	auto
)

// listCommands are the commands whose successful reply is a list.
var listCommands = map[string]bool{
	"status":         true,
	"prioritystatus": true,
	"workers":        true,
	"show":           true,
}

// reply is a successful reply.
type reply struct {
	line   string   // a single-line reply, without its line ending
	lines  []string // a list reply, without the "." line
	isList bool
}

// do sends cmd and reads a reply of the given kind. It returns a
// *ServerError for "ERR" replies.
func (c *Client) do(ctx context.Context, cmd string, kind replyKind) (reply, error) {
	if err := ctx.Err(); err != nil {
		return reply{}, fmt.Errorf("admin: %q: %w", cmd, err)
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return reply{}, fmt.Errorf("admin: %q: waiting for the connection: %w", cmd, ctx.Err())
	}
	defer func() { <-c.sem }()

	cn, err := c.getConn(ctx)
	if errors.Is(err, ErrClosed) {
		return reply{}, ErrClosed
	}
	if err != nil {
		return reply{}, fmt.Errorf("admin: %q: %w", cmd, err)
	}
	r, err := c.exchange(ctx, cn, cmd, kind)
	if err != nil {
		var se *ServerError
		if !errors.As(err, &se) {
			// The stream may be out of step: never reuse this connection.
			c.discard(cn)
			err = c.explain(ctx, cmd, err)
		}
		return reply{}, err
	}
	return r, nil
}

// getConn returns the open connection, dialling a new one if needed. The
// caller holds c.sem.
func (c *Client) getConn(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	closed, cn := c.closed, c.conn
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if cn != nil {
		return cn, nil
	}
	cn, err := c.dial(ctx)
	if err != nil {
		if ctxErr := contextError(ctx); ctxErr != nil {
			return nil, fmt.Errorf("%w: %w", ctxErr, err)
		}
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		cn.nc.Close()
		return nil, ErrClosed
	}
	c.conn = cn
	return cn, nil
}

// discard closes cn and forgets it if it is still the current connection.
func (c *Client) discard(cn *conn) {
	c.mu.Lock()
	if c.conn == cn {
		c.conn = nil
	}
	c.mu.Unlock()
	cn.nc.Close()
}

// explain wraps an I/O or protocol error of cmd, putting first the reason
// that made the call fail: Close or the context.
func (c *Client) explain(ctx context.Context, cmd string, err error) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	switch {
	case closed:
		return fmt.Errorf("%w (%q interrupted: %v)", ErrClosed, cmd, err)
	case contextError(ctx) != nil:
		return fmt.Errorf("admin: %q: %w: %w", cmd, contextError(ctx), err)
	default:
		return fmt.Errorf("admin: %q: %w", cmd, err)
	}
}

// contextError returns ctx.Err(), or context.DeadlineExceeded if ctx's
// deadline has passed but its timer has not fired yet (a connection deadline
// set from it can expire a moment earlier).
func contextError(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// longAgo is a deadline in the past, used to interrupt blocked I/O.
var longAgo = time.Unix(1, 0)

// exchange writes cmd with CRLF on cn and reads the reply, with cn's deadline
// taken from ctx and blocked I/O interrupted when ctx is cancelled.
func (c *Client) exchange(ctx context.Context, cn *conn, cmd string, kind replyKind) (reply, error) {
	dl, _ := ctx.Deadline() // zero (no deadline) if ctx has none
	if err := cn.nc.SetDeadline(dl); err != nil {
		return reply{}, err
	}
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = cn.nc.SetDeadline(longAgo)
		close(interrupted)
	})
	defer func() {
		if !stop() {
			// The interrupt has started; let it finish so that it cannot
			// overwrite the deadline of a later call. (Its connection is
			// discarded by the caller unless the reply was complete.)
			<-interrupted
		}
	}()

	if _, err := cn.nc.Write([]byte(cmd + "\r\n")); err != nil {
		return reply{}, fmt.Errorf("sending: %w", err)
	}
	return readReply(cn.br, cmd, kind)
}

// readReply reads the reply to cmd from br.
func readReply(br *bufio.Reader, cmd string, kind replyKind) (reply, error) {
	first, crlf, err := readLine(br)
	if err != nil {
		return reply{}, fmt.Errorf("reading reply: %w", err)
	}
	isErr := first == "ERR" || strings.HasPrefix(first, "ERR ")
	isOK := first == "OK" || strings.HasPrefix(first, "OK ")
	if kind == auto {
		switch f := strings.Fields(cmd); {
		case len(f) > 0 && listCommands[strings.ToLower(f[0])]:
			kind = list
		case isErr || isOK:
			kind = single
		default:
			// A list reply to a command this package does not know.
			kind = list
		}
	}
	switch kind {
	case single:
		if isErr {
			return reply{}, parseServerError(cmd, first)
		}
		if isOK {
			return reply{line: first}, nil
		}
		return reply{}, fmt.Errorf("%w: %q", ErrProtocol, first)
	case list:
		// Error lines end with CRLF, list lines with LF; a line without
		// tabs can be neither a "status" nor a "show jobs" line.
		if isErr && (crlf || !strings.Contains(first, "\t")) {
			return reply{}, parseServerError(cmd, first)
		}
	}
	var lines []string
	for line := first; line != "."; {
		lines = append(lines, line)
		if line, _, err = readLine(br); err != nil {
			return reply{}, fmt.Errorf("reading list reply after %d lines: %w", len(lines), err)
		}
	}
	return reply{lines: lines, isList: true}, nil
}

// readLine reads one line from br and strips its "\n" or "\r\n"; crlf
// reports which.
func readLine(br *bufio.Reader) (line string, crlf bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxLineLen {
			return "", false, fmt.Errorf("%w: line longer than %d bytes", ErrProtocol, maxLineLen)
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return "", false, err
	}
	buf = buf[:len(buf)-1]
	if n := len(buf); n > 0 && buf[n-1] == '\r' {
		return string(buf[:n-1]), true, nil
	}
	return string(buf), false, nil
}

// parseServerError turns an "ERR CODE message" line into a *ServerError.
func parseServerError(cmd, line string) *ServerError {
	rest := strings.TrimPrefix(strings.TrimPrefix(line, "ERR"), " ")
	code, msg, _ := strings.Cut(rest, " ")
	return &ServerError{Command: cmd, Code: code, Message: msg}
}

// singleValue runs a single-line command and returns the text after "OK ".
func (c *Client) singleValue(ctx context.Context, cmd string) (string, error) {
	r, err := c.do(ctx, cmd, single)
	if err != nil {
		return "", err
	}
	v, ok := strings.CutPrefix(r.line, "OK ")
	if !ok || v == "" {
		return "", fmt.Errorf("admin: %q: %w: %q", cmd, ErrProtocol, r.line)
	}
	return v, nil
}

// listLines runs a list command and returns its lines.
func (c *Client) listLines(ctx context.Context, cmd string) ([]string, error) {
	r, err := c.do(ctx, cmd, list)
	if err != nil {
		return nil, err
	}
	return r.lines, nil
}

// okOnly runs a command whose only successful reply is "OK".
func (c *Client) okOnly(ctx context.Context, cmd string) error {
	r, err := c.do(ctx, cmd, single)
	if err != nil {
		return err
	}
	if r.line != "OK" {
		return fmt.Errorf("admin: %q: %w: %q", cmd, ErrProtocol, r.line)
	}
	return nil
}

// malformed returns the error for an unparsable list line.
func malformed(cmd, line string, why string) error {
	return fmt.Errorf("admin: %q: %w: %s: %q", cmd, ErrProtocol, why, line)
}

// Status returns the "status" list: for each function the server knows, its
// total and running jobs and its workers. The order is the server's (hash
// order, not sorted).
func (c *Client) Status(ctx context.Context) ([]FunctionStatus, error) {
	const cmd = "status"
	lines, err := c.listLines(ctx, cmd)
	if err != nil {
		return nil, err
	}
	out := make([]FunctionStatus, 0, len(lines))
	for _, line := range lines {
		name, n, err := splitCounts(line, 3)
		if err != nil {
			return nil, malformed(cmd, line, err.Error())
		}
		out = append(out, FunctionStatus{Name: name, Total: n[0], Running: n[1], Workers: n[2]})
	}
	return out, nil
}

// PriorityStatus returns the "prioritystatus" list: for each function the
// server knows, its jobs per priority and its workers.
func (c *Client) PriorityStatus(ctx context.Context) ([]PriorityStatus, error) {
	const cmd = "prioritystatus"
	lines, err := c.listLines(ctx, cmd)
	if err != nil {
		return nil, err
	}
	out := make([]PriorityStatus, 0, len(lines))
	for _, line := range lines {
		name, n, err := splitCounts(line, 4)
		if err != nil {
			return nil, malformed(cmd, line, err.Error())
		}
		out = append(out, PriorityStatus{Name: name, High: n[0], Normal: n[1], Low: n[2], Workers: n[3]})
	}
	return out, nil
}

// splitCounts splits "NAME\tN1\t...\tNk" into the name and k non-negative
// numbers. The numbers are taken from the right, so a name containing a tab
// survives.
func splitCounts(line string, k int) (string, []int, error) {
	parts := strings.Split(line, "\t")
	if len(parts) < k+1 {
		return "", nil, fmt.Errorf("want %d tab-separated fields", k+1)
	}
	cut := len(parts) - k
	n := make([]int, k)
	for i, p := range parts[cut:] {
		v, err := strconv.ParseUint(p, 10, 31)
		if err != nil {
			return "", nil, fmt.Errorf("field %d: %w", cut+i+1, err)
		}
		n[i] = int(v)
	}
	return strings.Join(parts[:cut], "\t"), n, nil
}

// Workers returns the "workers" list. gearmand 1.1.20 prints one line per
// connection, "FD IP CLIENT-ID : FUNCTION...", for example
// "26 127.0.0.1 my-worker : fn_b fn_a" or "28 127.0.0.1 - :" (a connection
// without id and functions, such as this admin connection).
func (c *Client) Workers(ctx context.Context) ([]WorkerInfo, error) {
	const cmd = "workers"
	lines, err := c.listLines(ctx, cmd)
	if err != nil {
		return nil, err
	}
	out := make([]WorkerInfo, 0, len(lines))
	for _, line := range lines {
		w, ok := parseWorker(line)
		if !ok {
			return nil, malformed(cmd, line, `want "FD IP CLIENT-ID : FUNCTIONS"`)
		}
		out = append(out, w)
	}
	return out, nil
}

// parseWorker parses one "workers" line. The client id may be empty or
// contain spaces; it ends at the first " :" that is followed by a space or
// the end of the line.
func parseWorker(line string) (WorkerInfo, bool) {
	fdText, rest, ok := strings.Cut(line, " ")
	if !ok {
		return WorkerInfo{}, false
	}
	fd, err := strconv.Atoi(fdText)
	if err != nil {
		return WorkerInfo{}, false
	}
	ip, rest, ok := strings.Cut(rest, " ")
	if !ok || ip == "" {
		return WorkerInfo{}, false
	}
	for i := 0; i+1 < len(rest); i++ {
		if rest[i] != ' ' || rest[i+1] != ':' {
			continue
		}
		if after := rest[i+2:]; after == "" || after[0] == ' ' {
			return WorkerInfo{FD: fd, IP: ip, ClientID: rest[:i], Functions: strings.Fields(after)}, true
		}
	}
	return WorkerInfo{}, false
}

// Version returns the server version, e.g. "1.1.20+ds" (from the reply
// "OK 1.1.20+ds").
func (c *Client) Version(ctx context.Context) (string, error) {
	return c.singleValue(ctx, "version")
}

// Getpid returns the process id of gearmand.
func (c *Client) Getpid(ctx context.Context) (int, error) {
	const cmd = "getpid"
	v, err := c.singleValue(ctx, cmd)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(v)
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("admin: %q: %w: %q", cmd, ErrProtocol, v)
	}
	return pid, nil
}

// MaxQueue sets the maximum queue size of function:
//
//   - MaxQueue(ctx, fn) resets it to the server default (unlimited);
//   - MaxQueue(ctx, fn, n) limits each priority to n jobs;
//   - MaxQueue(ctx, fn, high, normal, low) limits each priority separately.
//
// 0 means unlimited. Submissions beyond the limit fail with a
// "QUEUE_ERROR Job queue is full" ERROR packet. Other numbers of sizes, and
// negative sizes, are rejected with ErrInvalidArgument without contacting
// the server.
//
// gearmand answers OK even for a function it does not know, but then the
// limit is not recorded anywhere: it only applies to functions that exist
// (registered by a worker, with jobs, or made with "create function NAME",
// see Command) when MaxQueue is called.
func (c *Client) MaxQueue(ctx context.Context, function string, sizes ...int) error {
	if err := checkWord("function name", function); err != nil {
		return err
	}
	switch len(sizes) {
	case 0, 1, 3:
	default:
		return fmt.Errorf("%w: maxqueue takes 0, 1 or 3 sizes, got %d", ErrInvalidArgument, len(sizes))
	}
	var b strings.Builder
	b.WriteString("maxqueue ")
	b.WriteString(function)
	for _, n := range sizes {
		if n < 0 || n > math.MaxInt32 {
			return fmt.Errorf("%w: queue size %d out of range [0, %d]", ErrInvalidArgument, n, math.MaxInt32)
		}
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(n))
	}
	return c.okOnly(ctx, b.String())
}

// CancelJob sends "cancel job HANDLE": gearmand sends WORK_FAIL to the
// clients waiting for the job, removes it from the persistent queue, if any,
// and marks it as ignored, so that no worker will be given it (a worker
// already running it is not told). With libgearman 1.1.20 this is the only working way to cancel a
// queued job (see the package documentation). The job must be on the server
// this Client talks to; an unknown handle gives a *ServerError with Code
// CodeUnknownJob.
func (c *Client) CancelJob(ctx context.Context, handle string) error {
	if err := checkWord("job handle", handle); err != nil {
		return err
	}
	return c.okOnly(ctx, "cancel job "+handle)
}

// ShowJobs returns the "show jobs" list: every job the server holds
// (waiting, running, or cancelled but not yet dropped), with its retry count
// and its ignore and queued flags. gearmand 1.1.20 prints
// "HANDLE\tRETRIES\tIGNORE\tQUEUED" per job, e.g. "H:host:1\t0\t0\t1" for a
// background job, "H:host:1\t0\t0\t0" for a foreground job and
// "H:host:1\t0\t1\t0" after CancelJob.
func (c *Client) ShowJobs(ctx context.Context) ([]Job, error) {
	const cmd = "show jobs"
	lines, err := c.listLines(ctx, cmd)
	if err != nil {
		return nil, err
	}
	out := make([]Job, 0, len(lines))
	for _, line := range lines {
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[0] == "" {
			return nil, malformed(cmd, line, "want HANDLE\\tRETRIES\\tIGNORE\\tQUEUED")
		}
		var n [3]uint64
		for i, s := range f[1:] {
			if n[i], err = strconv.ParseUint(s, 10, 31); err != nil {
				return nil, malformed(cmd, line, err.Error())
			}
		}
		out = append(out, Job{Handle: f[0], Retries: int(n[0]), Ignore: n[1] != 0, Queued: n[2] != 0})
	}
	return out, nil
}

// ShowUniqueJobs returns the "show unique jobs" list. gearmand 1.1.20 prints
// one unique id per line (the id given at submission, or the one the server
// generated); later gearmand versions print "UNIQUE\tHANDLE", which is
// returned as it is.
func (c *Client) ShowUniqueJobs(ctx context.Context) ([]string, error) {
	return c.listLines(ctx, "show unique jobs")
}

// Command sends one raw admin command line (without line ending; CR, LF and
// NUL are rejected) and returns the reply. A single-line reply is returned
// without its line ending, e.g. "OK 1.1.20+ds" for "version" or "OK" for
// "create function fn". A list reply ("status", "workers", "show jobs", or
// any reply whose first line is neither OK nor ERR) is returned as its lines
// joined by "\n", without the final "." line and without a trailing newline,
// so an empty list gives "". An ERR reply is returned as a *ServerError.
//
// gearmand 1.1.20 closes the connection without a reply to some malformed
// commands (e.g. "maxqueue fn 1 2 3 4"); Command then returns an error
// wrapping io.ErrUnexpectedEOF and the next call dials again. Give Command a
// context with a deadline: a reply of a shape it does not expect is read as
// a list and waits for the final "." line.
func (c *Client) Command(ctx context.Context, line string) (string, error) {
	if strings.ContainsAny(line, "\r\n\x00") {
		return "", fmt.Errorf("%w: command must be one line without NUL", ErrInvalidArgument)
	}
	r, err := c.do(ctx, line, auto)
	if err != nil {
		return "", err
	}
	if r.isList {
		return strings.Join(r.lines, "\n"), nil
	}
	return r.line, nil
}

// checkWord rejects values that cannot be one argument of an admin command.
func checkWord(what, s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty %s", ErrInvalidArgument, what)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("%w: %s %q contains whitespace or control characters", ErrInvalidArgument, what, s)
	}
	return nil
}
