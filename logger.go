package gearman

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
)

// logger.go feeds libgearman's log hook (gearman_client_set_log_fn,
// gearman_worker_set_log_fn) to a *slog.Logger. Nothing is installed until
// SetLogger is called, so by default libgearman formats no log line at all.

// LevelFatal is the slog level of libgearman's GEARMAN_VERBOSE_FATAL lines
// (an allocation failed): above slog.LevelError, which has no fatal level.
const LevelFatal = slog.LevelError + 4

// LevelCrazy is the slog level of GEARMAN_VERBOSE_CRAZY lines, below
// slog.LevelDebug.
const LevelCrazy = slog.LevelDebug - 4

// slogLevel maps a libgearman verbosity to a slog level.
func slogLevel(v Verbose) slog.Level {
	switch v {
	case VerboseFatal:
		return LevelFatal
	case VerboseError:
		return slog.LevelError
	case VerboseInfo:
		return slog.LevelInfo
	case VerboseDebug:
		return slog.LevelDebug
	default:
		return LevelCrazy
	}
}

// logSink receives the lines of one Client or Worker, whichever libgearman
// object it currently uses: the C side holds a handle to it.
type logSink struct {
	side   string // "client" or "worker"
	logger atomic.Pointer[slog.Logger]
	gen    atomic.Uint64 // counts SetLogger calls, for refreshLog
	mu     sync.Mutex    // guards h: drivers install the sink concurrently
	h      handle        // 0 until first used
	// follow, set for a slot of Run (slots.go), is its Worker's sink, whose
	// logger and generation the slot uses instead of its own.
	follow *logSink
}

// source is the sink whose logger and generation s uses.
func (s *logSink) source() *logSink {
	if s.follow != nil {
		return s.follow
	}
	return s
}

// generation counts the SetLogger calls that s follows.
func (s *logSink) generation() uint64 { return s.source().gen.Load() }

// verbosity is the most detailed libgearman level l would record: libgearman
// is told to format nothing beyond it. The level is read when the logger is
// set (and when the binding replaces its libgearman object), so a logger whose
// level is raised later keeps the lines it was given first.
func verbosity(l *slog.Logger) Verbose {
	if l == nil {
		return VerboseNever
	}
	for v := VerboseCrazy; v > VerboseNever; v-- {
		if l.Enabled(context.Background(), slogLevel(v)) {
			return v
		}
	}
	return VerboseNever
}

// install points lib's log hook at the sink, or removes it when the sink has
// no logger. Only the goroutine that uses lib may call it. The generation is
// read before the logger, which SetLogger stores before counting: a lib
// recorded at the newest generation has the newest logger.
func (s *logSink) install(lib libObject) {
	gen := s.generation()
	v := verbosity(s.source().logger.Load())
	if v == VerboseNever {
		lib.setLog(0, VerboseNever, gen)
		return
	}
	s.mu.Lock()
	if s.h == 0 {
		s.h = newHandle(s)
	}
	h := s.h
	s.mu.Unlock()
	lib.setLog(h, v, gen)
}

// free frees the handle, once the last libgearman object using it is gone.
func (s *logSink) free() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h != 0 {
		deleteHandle(s.h)
		s.h = 0
	}
}

// log records one line. libgearman calls its hook from inside the failing
// call; a panicking handler must not unwind through those C frames, so its
// panic is dropped with the line.
func (s *logSink) log(line string, v Verbose) {
	l := s.source().logger.Load()
	if l == nil || isSliceTimeout(line) {
		return
	}
	level := slogLevel(v)
	ctx := context.Background()
	if !l.Enabled(ctx, level) {
		return
	}
	defer func() { _ = recover() }()
	attrs := []slog.Attr{slog.String("side", s.side), slog.String("verbose", VerboseName(v))}
	if code := lineCode(line); code != "" {
		attrs = append(attrs, slog.String("code", code))
	}
	l.LogAttrs(ctx, level, line, attrs...)
}

// jobFailed records at Warn that a worker function returned err or
// panicked, where PHP's exception would have escaped work() for the
// application to log. As in log, a panicking handler is dropped.
func (s *logSink) jobFailed(function, handle string, err error) {
	l := s.source().logger.Load()
	ctx := context.Background()
	if l == nil || !l.Enabled(ctx, slog.LevelWarn) {
		return
	}
	defer func() { _ = recover() }()
	attrs := []slog.Attr{slog.String("side", s.side), slog.String("function", function),
		slog.String("handle", handle), slog.String("error", err.Error())}
	msg := "gearman: worker function failed"
	if p, ok := err.(*panicError); ok {
		msg = "gearman: worker function panicked"
		attrs = append(attrs, slog.String("stack", string(p.stack)))
	}
	l.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}

// isSliceTimeout spots the error line of a wait that timed out. The binding
// waits in short slices (wait.go) and tells the caller about a real timeout
// itself, as an error value; one line per slice would only be noise.
func isSliceTimeout(line string) bool {
	return strings.Contains(line, "(GEARMAN_TIMEOUT)")
}

// lineCode extracts the return code name libgearman writes into its error
// lines ("gearman_wait(GEARMAN_TIMEOUT) -> ..."), or "".
func lineCode(line string) string {
	i := strings.Index(line, "(GEARMAN_")
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(line[i:], ')')
	if j < 0 {
		return ""
	}
	return line[i+1 : i+j]
}

// SetLogger sends libgearman's log lines for this client to l (Go only);
// PHP has no logging hook. Levels map as FATAL -> LevelFatal, ERROR ->
// slog.LevelError, INFO -> slog.LevelInfo, DEBUG -> slog.LevelDebug, CRAZY ->
// LevelCrazy, and libgearman formats only the lines l would record, judged
// when SetLogger is called. Each record carries the attributes side
// ("client"), verbose (the libgearman level's name) and, for error lines,
// code (e.g. "GEARMAN_COULD_NOT_CONNECT"). nil stops logging; nothing is
// logged by default.
//
// The handler runs inside the client call that produced the line, while that
// call holds the client: it must not call the Client. Unlike the other
// setters, SetLogger does not wait for a call in progress: each connection
// takes l when it next sends or waits, and a call in progress may still log
// to the logger it began with.
func (c *Client) SetLogger(l *slog.Logger) error {
	if c.closed.Load() {
		return closedError("SetLogger")
	}
	c.setLogger(l)
	return c.succeed(Success)
}

// SetLogger sends libgearman's log lines for this worker to l, as
// (*Client).SetLogger does; the records' side attribute is "worker" (Go
// only). The handler runs inside the worker call that produced the line and
// must not call the Worker. Unlike the other setters, SetLogger does not wait
// for a Work call in progress: libgearman's lines go to l from the next call,
// in a Run from each slot's next job or wait, and the failures of the worker
// functions from the next one that ends.
//
// Each error or panic of a worker function is logged too, at Warn, with the
// attributes function, handle, error and, for a panic, stack: in PHP such an
// exception escapes work() for the application to log.
func (w *Worker) SetLogger(l *slog.Logger) error {
	if w.closed.Load() {
		return closedError("SetLogger")
	}
	w.setLogger(l)
	return w.succeed(Success)
}
