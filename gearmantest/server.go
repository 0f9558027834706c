package gearmantest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/libgearman-go/gearman/admin"
)

// Tunables. They are variables so that the package's own tests can shorten
// them; they are not part of the API.
var (
	// readyTimeout bounds how long one launch waits for gearmand to answer.
	readyTimeout = 10 * time.Second
	// restartTimeout bounds how long Restart keeps retrying a busy port.
	restartTimeout = 10 * time.Second
	// stopGrace is how long Stop waits after SIGTERM before sending SIGKILL.
	stopGrace = 5 * time.Second
	// portAttempts is how many fresh ports a new server tries.
	portAttempts = 5
	// pickPort returns a port that was free a moment ago.
	pickPort = freePort
)

const (
	// defaultHost is the only address test servers listen on.
	defaultHost = "127.0.0.1"
	// defaultThreads is gearmand's -t value unless WithThreads is used.
	defaultThreads = 2
	// logTailLines is how many log lines are shown on failures.
	logTailLines = 40
	// installHint tells users how to get a gearmand binary.
	installHint = "install it with `apt-get install gearman-job-server` (Debian/Ubuntu) or set $GEARMAND to the gearmand binary"
)

var (
	// errPortBusy reports that the chosen port is held by some other process.
	errPortBusy = errors.New("port is already in use by another process")
	// errExited reports that gearmand exited before it answered.
	errExited = errors.New("gearmand exited during start-up")
)

// Option configures a Server started by NewServer or Start.
type Option func(*config)

// config holds the gearmand settings chosen through Options.
type config struct {
	threads    int
	sqliteDB   string
	jobRetries int // < 0: not set
	exceptions bool
	extra      []string
}

// WithSQLiteQueue makes gearmand keep its queue of background jobs in the
// SQLite database file at path (-q libsqlite3 --libsqlite3-db path), so that
// queued jobs survive Stop/Kill followed by Restart. A relative path is made
// absolute against the current working directory. The file is created if
// needed; put it in t.TempDir() unless you want it to outlive the test.
func WithSQLiteQueue(path string) Option {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return func(c *config) { c.sqliteDB = path }
}

// WithJobRetries passes --job-retries=n: gearmand drops a job after n failed
// attempts (a worker disconnecting while running it). 0 means no limit, which
// is gearmand's default.
func WithJobRetries(n int) Option {
	return func(c *config) { c.jobRetries = n }
}

// WithExceptions passes --exceptions, enabling WORK_EXCEPTION forwarding to
// clients by default.
func WithExceptions() Option {
	return func(c *config) { c.exceptions = true }
}

// WithThreads sets the number of gearmand I/O threads (-t n). The default is
// 2. It is ignored if WithArgs also sets -t/--threads.
func WithThreads(n int) Option {
	return func(c *config) { c.threads = n }
}

// WithArgs appends raw arguments to the gearmand command line. Several
// WithArgs options accumulate. The listen address, port, log file and pid
// file are managed by this package and must not be passed; -d/--daemon would
// break process supervision. A --verbose, -t/--threads or --config-file given
// here replaces the package default (--verbose=INFO, -t 2, an empty config
// file).
func WithArgs(args ...string) Option {
	return func(c *config) { c.extra = append(c.extra, args...) }
}

// hasFlag reports whether args set the option with the given long name
// ("--name", "--name=v") or short letter ("-x", "-xv"; short may be "").
func hasFlag(args []string, long, short string) bool {
	for _, a := range args {
		if a == "--"+long || strings.HasPrefix(a, "--"+long+"=") {
			return true
		}
		if short != "" && strings.HasPrefix(a, "-"+short) && !strings.HasPrefix(a, "--") {
			return true
		}
	}
	return false
}

// args builds the gearmand command line.
func (c *config) args(host string, port int, logPath, pidPath, confPath string) []string {
	a := []string{
		"--listen=" + host,
		"--port=" + strconv.Itoa(port),
		"--log-file=" + logPath,
		"--pid-file=" + pidPath,
	}
	if !hasFlag(c.extra, "config-file", "") && !hasAtFile(c.extra) {
		// Don't let a host-wide /etc/gearmand.conf change test behaviour.
		a = append(a, "--config-file="+confPath)
	}
	if !hasFlag(c.extra, "threads", "t") {
		a = append(a, "--threads="+strconv.Itoa(c.threads))
	}
	if !hasFlag(c.extra, "verbose", "") {
		a = append(a, "--verbose=INFO")
	}
	if c.sqliteDB != "" {
		a = append(a, "--queue-type=libsqlite3", "--libsqlite3-db="+c.sqliteDB)
	}
	if c.jobRetries >= 0 {
		a = append(a, "--job-retries="+strconv.Itoa(c.jobRetries))
	}
	if c.exceptions {
		a = append(a, "--exceptions")
	}
	return append(a, c.extra...)
}

// hasAtFile reports whether args name a config file with gearmand's "@file"
// syntax.
func hasAtFile(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "@") {
			return true
		}
	}
	return false
}

// Binary returns the gearmand executable to use: $GEARMAND if set, else
// gearmand found on $PATH, else /usr/sbin/gearmand (the Debian location,
// often not on a non-root PATH). The error explains how to install gearmand
// if none is found.
func Binary() (string, error) {
	if env := os.Getenv("GEARMAND"); env != "" {
		p, err := exec.LookPath(env)
		if err != nil {
			return "", fmt.Errorf("gearmantest: $GEARMAND=%q is not an executable: %w", env, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("gearmand"); err == nil {
		return p, nil
	}
	const debianPath = "/usr/sbin/gearmand"
	if p, err := exec.LookPath(debianPath); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("gearmantest: gearmand not found ($GEARMAND unset, not on $PATH, no %s); %s", debianPath, installHint)
}

// requireBinary returns the gearmand binary from find, or skips the test
// (fails it under CI, or when $GEARMAND is set but broken).
func requireBinary(t testing.TB, find func() (string, error)) string {
	t.Helper()
	bin, err := find()
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("GEARMAND") != "" {
			t.Fatalf("%v", err)
		} else {
			t.Skipf("skipping: %v", err)
		}
	}
	return bin
}

// Server is a gearmand child process started by NewServer or Start. All
// methods are safe for concurrent use. The address never changes: Restart
// reuses the port.
type Server struct {
	tb       testing.TB // nil for a server from Start
	bin      string
	cfg      config
	dir      string
	logPath  string
	pidPath  string
	confPath string
	host     string
	port     int

	opMu sync.Mutex // serializes Stop, Kill and Restart
	mu   sync.Mutex // guards proc and errs
	proc *process   // nil when not started or after Stop/Kill
	errs []error    // without a test to tell, failures kept for Close

	tailShown atomic.Bool // a failure message already included the log tail
}

// process is one run of gearmand.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // Wait result, valid after done is closed
}

// exited reports whether the process has terminated.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// terminate sends sig (if the process is still running), waits up to grace
// for it to exit, then SIGKILLs it and waits for it to be reaped.
func (p *process) terminate(sig os.Signal, grace time.Duration) error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(sig)
	if grace > 0 {
		select {
		case <-p.done:
			return nil
		case <-time.After(grace):
		}
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("gearmand pid %d did not exit 10s after SIGKILL", p.cmd.Process.Pid)
	}
}

// NewServer starts gearmand on a free 127.0.0.1 port and returns once it
// answers the admin "version" command (and "getpid" names the started
// process). It registers t.Cleanup to stop the server and, if the test
// failed, to log the tail of gearmand's log.
//
// If no gearmand binary is found (see Binary) the test is skipped with an
// installation hint, or fails if the environment variable CI is "true". If
// $GEARMAND is set but unusable the test always fails. NewServer calls
// t.Fatal on other start-up failures, so call it from the test goroutine.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin := requireBinary(t, Binary)
	s := newServer(t, bin, t.TempDir(), opts) // TempDir's cleanup runs after ours, once gearmand is gone
	if err := s.start(); err != nil {
		t.Fatalf("%v", err) // a failed start leaves no process behind
	}
	t.Cleanup(func() {
		if err := s.stop(syscall.SIGTERM, stopGrace); err != nil {
			t.Errorf("gearmantest: %v", err)
		}
		if t.Failed() && !s.tailShown.Load() {
			t.Logf("gearmantest: last %d lines of %s (%s):\n%s", logTailLines, s.logPath, s.Addr(), logTail(s.logPath, 0, logTailLines))
		}
	})
	return s
}

// Start is NewServer for code that has no testing.TB, such as Example
// functions or a TestMain. Where NewServer would skip or fail the test,
// Start returns the error; without a gearmand binary that is Binary's error,
// whatever $CI says, so the caller decides what a missing server means.
//
// The caller must call Close, which stops gearmand and removes the temporary
// directory holding its log. As there is no test to report to, a failure of
// Stop, Kill or Restart is returned by Close instead; a failed Restart leaves
// the server stopped.
func Start(opts ...Option) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gearmantest-")
	if err != nil {
		return nil, fmt.Errorf("gearmantest: %w", err)
	}
	s := newServer(nil, bin, dir, opts)
	if err := s.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// newServer prepares a Server that keeps its files in dir; start launches it.
func newServer(tb testing.TB, bin, dir string, opts []Option) *Server {
	cfg := config{threads: defaultThreads, jobRetries: -1}
	for _, o := range opts {
		o(&cfg)
	}
	return &Server{
		tb:       tb,
		bin:      bin,
		cfg:      cfg,
		dir:      dir,
		logPath:  filepath.Join(dir, "gearmand.log"),
		pidPath:  filepath.Join(dir, "gearmand.pid"),
		confPath: filepath.Join(dir, "gearmand.conf"),
		host:     defaultHost,
	}
}

// start launches gearmand for the first time, moving on to another free port
// if the one picked was taken in the meantime.
func (s *Server) start() error {
	if err := os.WriteFile(s.confPath, nil, 0o644); err != nil {
		return fmt.Errorf("gearmantest: %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < portAttempts; attempt++ {
		port, err := pickPort()
		if err != nil {
			return fmt.Errorf("gearmantest: picking a free port: %w", err)
		}
		p, err := s.launch(port, readyTimeout)
		if err == nil {
			s.port = port // written before s is shared; immutable afterwards
			s.setProc(p)
			return nil
		}
		lastErr = err
		if !errors.Is(err, errPortBusy) {
			break
		}
		if s.tb != nil {
			s.tb.Logf("gearmantest: port %d was taken, retrying with another port", port)
		}
	}
	s.tailShown.Store(true)
	return fmt.Errorf("gearmantest: starting gearmand: %w", lastErr)
}

// Addr returns the server's "host:port" address, "127.0.0.1:PORT".
func (s *Server) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Host returns the address the server listens on, "127.0.0.1".
func (s *Server) Host() string { return s.host }

// Port returns the server's TCP port. It stays the same across Restart.
func (s *Server) Port() int { return s.port }

// LogPath returns the gearmand log file. stdout and stderr of gearmand (for
// example command-line errors) go to the same file, and the log is appended
// to, not truncated, across Restart. The file is inside a t.TempDir() that is
// removed when the test ends, or for a server from Start, removed by Close.
func (s *Server) LogPath() string { return s.logPath }

// Pid returns the process id of the running gearmand, or 0 if it is not
// running (after Stop or Kill, or if it died on its own).
func (s *Server) Pid() int {
	p := s.getProc()
	if p == nil || p.exited() {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether the gearmand process is alive. It turns false after
// Stop or Kill, and also if gearmand exited or crashed on its own.
func (s *Server) Running() bool {
	p := s.getProc()
	return p != nil && !p.exited()
}

// Stop terminates gearmand with SIGTERM and waits for it to exit, sending
// SIGKILL if it has not exited after a few seconds. Stopping a stopped
// server does nothing. After Stop the port refuses connections until Restart.
func (s *Server) Stop() {
	if err := s.stop(syscall.SIGTERM, stopGrace); err != nil {
		s.report(err)
	}
}

// Kill terminates gearmand with SIGKILL, simulating a crash, and waits for it
// to exit. Killing a stopped server does nothing.
func (s *Server) Kill() {
	if err := s.stop(syscall.SIGKILL, 0); err != nil {
		s.report(err)
	}
}

// Close stops gearmand as Stop does. For a server from Start it also removes
// the temporary directory holding the log, and returns what went wrong since
// Start, in Close itself or in an earlier Stop, Kill or Restart; a server
// from NewServer reports those to its test as they happen, so there Close
// only returns its own failure to stop. Closing twice is harmless.
func (s *Server) Close() error {
	err := s.stop(syscall.SIGTERM, stopGrace)
	if err != nil {
		err = fmt.Errorf("gearmantest: %w", err)
	}
	s.mu.Lock()
	errs := append(s.errs, err)
	s.errs = nil
	s.mu.Unlock()
	if s.tb == nil { // the directory is ours, not a t.TempDir()
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}

// Restart stops gearmand if it is running (SIGTERM, as Stop) and starts it
// again on the same port with the same options, returning once it answers.
// If the port is still busy right after the stop it retries for a few
// seconds. Restart calls t.Fatal if gearmand cannot be started, so it should
// be called from the test goroutine (for a server from Start, see Start).
func (s *Server) Restart() {
	if s.tb != nil {
		s.tb.Helper()
	}
	if err := s.restart(); err != nil {
		if s.tb == nil {
			s.report(err)
			return
		}
		s.tb.Fatalf("gearmantest: %v", err)
	}
}

// restart is Restart without the reporting.
func (s *Server) restart() error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if err := s.stopLocked(syscall.SIGTERM, stopGrace); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	deadline := time.Now().Add(restartTimeout)
	for {
		remaining := time.Until(deadline)
		if remaining < time.Second {
			remaining = time.Second
		}
		p, err := s.launch(s.port, remaining)
		if err == nil {
			s.setProc(p)
			return nil
		}
		if !errors.Is(err, errPortBusy) || time.Now().After(deadline) {
			s.tailShown.Store(true)
			return fmt.Errorf("restarting gearmand on %s: %w", s.Addr(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// report hands a failure of Stop, Kill or Restart to the test, or keeps it
// for Close when the server came from Start.
func (s *Server) report(err error) {
	err = fmt.Errorf("gearmantest: %w", err)
	if s.tb != nil {
		s.tb.Errorf("%v", err)
		return
	}
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

// getProc returns the current process (may be nil).
func (s *Server) getProc() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}

// setProc replaces the current process.
func (s *Server) setProc(p *process) {
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
}

// stop takes the operation lock and terminates the current process.
func (s *Server) stop(sig os.Signal, grace time.Duration) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	return s.stopLocked(sig, grace)
}

// stopLocked terminates the current process; s.opMu must be held.
func (s *Server) stopLocked(sig os.Signal, grace time.Duration) error {
	p := s.getProc()
	if p == nil {
		return nil
	}
	if err := p.terminate(sig, grace); err != nil {
		return err
	}
	s.setProc(nil)
	return nil
}

// launch starts gearmand on port and waits up to timeout until it answers.
// On failure the process has been killed and reaped; the error wraps
// errPortBusy if the port is held by someone else.
func (s *Server) launch(port int, timeout time.Duration) (*process, error) {
	logf, err := os.OpenFile(s.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	var offset int64
	if fi, err := logf.Stat(); err == nil {
		offset = fi.Size()
	}
	args := s.cfg.args(s.host, port, s.logPath, s.pidPath, s.confPath)
	fmt.Fprintf(logf, "=== gearmantest %s: %s %s\n", time.Now().Format(time.RFC3339Nano), s.bin, strings.Join(args, " "))

	cmd := exec.Command(s.bin, args...)
	cmd.Env = minimalEnv(s.dir)
	cmd.Stdout = logf // *os.File: passed straight to the child, no copying goroutine
	cmd.Stderr = logf
	cmd.SysProcAttr = sysProcAttr()
	err = cmd.Start()
	logf.Close() // the child has its own descriptor
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", s.bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()

	addr := net.JoinHostPort(s.host, strconv.Itoa(port))
	if err := waitReady(addr, p, timeout); err != nil {
		if kerr := p.terminate(syscall.SIGKILL, 0); kerr != nil {
			err = fmt.Errorf("%w (and %v)", err, kerr)
		}
		tail := logTail(s.logPath, offset, logTailLines)
		if errors.Is(err, errExited) && (strings.Contains(tail, "bind()") || strings.Contains(tail, "Address already in use")) {
			err = fmt.Errorf("%w: %w", err, errPortBusy)
		}
		return nil, fmt.Errorf("%w\n--- tail of %s ---\n%s", err, s.logPath, tail)
	}
	return p, nil
}

// minimalEnv is the clean environment gearmand runs with; nothing from the
// test process leaks into it.
func minimalEnv(tmp string) []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LC_ALL=C",
		"TMPDIR=" + tmp,
	}
}

// probeResult classifies one readiness probe.
type probeResult int

const (
	probeNoListener probeResult = iota // nothing accepted the connection
	probeReady                         // our gearmand answered
	probeForeign                       // another gearmand answered
	probeGarbage                       // something answered, but not like gearmand
)

// probe asks addr for "version" and "getpid" (package admin).
func probe(addr string, pid int) probeResult {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	dialCtx, cancelDial := context.WithTimeout(ctx, 250*time.Millisecond)
	adm, err := admin.Dial(dialCtx, addr)
	cancelDial()
	if err != nil {
		return probeNoListener
	}
	defer adm.Close()
	if _, err := adm.Version(ctx); err != nil {
		return probeGarbage
	}
	got, err := adm.Getpid(ctx)
	var se *admin.ServerError
	switch {
	case errors.As(err, &se):
		return probeReady // a gearmand without getpid: cannot check identity
	case err != nil:
		return probeGarbage
	case got == pid:
		return probeReady
	default:
		return probeForeign
	}
}

// waitReady polls addr until the gearmand process p answers, p exits, or
// timeout passes.
func waitReady(addr string, p *process, timeout time.Duration) error {
	start := time.Now()
	deadline := start.Add(timeout)
	pid := p.cmd.Process.Pid
	strikes := 0
	delay := 5 * time.Millisecond
	for {
		if p.exited() {
			return fmt.Errorf("%w (%v)", errExited, p.err)
		}
		switch probe(addr, pid) {
		case probeReady:
			return nil
		case probeForeign:
			return fmt.Errorf("another gearmand answers on %s: %w", addr, errPortBusy)
		case probeGarbage:
			strikes++
		case probeNoListener:
			// gearmand binds and listens within milliseconds. If nobody has
			// been listening for a while and we cannot bind the port either,
			// something holds it without listening and gearmand is sitting in
			// its bind() retry loop (which only gives up after ~20s).
			if time.Since(start) > time.Second && !portBindable(addr) {
				strikes++
			}
		}
		if strikes >= 3 {
			return fmt.Errorf("%s is held by something that is not our gearmand: %w", addr, errPortBusy)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gearmand did not answer on %s within %v", addr, timeout)
		}
		select {
		case <-p.done:
		case <-time.After(delay):
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// portBindable reports whether addr can be listened on right now.
func portBindable(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// freePort asks the kernel for a free 127.0.0.1 port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(defaultHost, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// logTail returns the last n lines of the file at path, starting no earlier
// than offset and reading at most the last 64 KiB.
func logTail(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	const maxRead = 64 << 10
	if fi, err := f.Stat(); err == nil && fi.Size()-offset > maxRead {
		offset = fi.Size() - maxRead
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := strings.Join(lines, "\n")
	if out == "" {
		return "(log is empty)"
	}
	return out
}
