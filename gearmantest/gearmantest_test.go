package gearmantest_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman/gearmantest"
)

const adminTimeout = 2 * time.Second

// admin runs one admin command and fails the test on network errors.
func admin(t *testing.T, addr, cmd string) string {
	t.Helper()
	reply, err := gearmantest.AdminCommand(addr, cmd, adminTimeout)
	require.NoError(t, err)
	return reply
}

// binaryVersion returns what `gearmand --version` reports, e.g. "1.1.20+ds".
func binaryVersion(t *testing.T) string {
	t.Helper()
	bin, err := gearmantest.Binary()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	require.NoError(t, err, "%s --version: %s", bin, out)
	fields := strings.Fields(string(out)) // "gearmand 1.1.20+ds - https://..."
	require.GreaterOrEqual(t, len(fields), 2, "unexpected --version output %q", out)
	return fields[1]
}

// requireRefused checks that nothing listens on addr any more.
func requireRefused(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
	}
	require.Error(t, err, "%s still accepts connections", addr)
	require.True(t, errors.Is(err, syscall.ECONNREFUSED), "want connection refused, got %v", err)
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	if runtime.GOOS == "linux" {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		// Field 3 is the state; the command name in field 2 may contain spaces.
		rest := stat[bytes.LastIndexByte(stat, ')')+1:]
		fields := strings.Fields(string(rest))
		return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
	}
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

func TestVersion(t *testing.T) {
	t.Parallel()
	want := binaryVersion(t)
	s := gearmantest.NewServer(t)

	require.True(t, s.Running())
	require.Equal(t, "127.0.0.1", s.Host())
	require.Equal(t, "127.0.0.1:"+strconv.Itoa(s.Port()), s.Addr())
	require.FileExists(t, s.LogPath())

	version := admin(t, s.Addr(), "version")
	require.Equal(t, "OK "+want, version)
	require.True(t, strings.HasPrefix(version, "OK 1.1."), "version reply %q", version)
	t.Logf("version: %q", version)

	require.Equal(t, "OK "+strconv.Itoa(s.Pid()), admin(t, s.Addr(), "getpid"))
}

func TestStart(t *testing.T) {
	t.Parallel()
	want := binaryVersion(t)
	s, err := gearmantest.Start(gearmantest.WithArgs("--job-handle-prefix=gstart"))
	require.NoError(t, err)
	dir := filepath.Dir(s.LogPath())
	defer os.RemoveAll(dir) // only matters if the test fails before Close

	require.Equal(t, "OK "+want, admin(t, s.Addr(), "version"))
	require.Equal(t, "OK "+strconv.Itoa(s.Pid()), admin(t, s.Addr(), "getpid"))
	handle := submitBackground(t, s.Addr(), "gearmantest_start", "u", nil)
	require.True(t, strings.HasPrefix(handle, "gstart:"), "options must apply, handle %q", handle)

	port, pid := s.Port(), s.Pid()
	s.Restart()
	require.Equal(t, port, s.Port())
	require.NotEqual(t, pid, s.Pid())

	pid = s.Pid()
	require.NoError(t, s.Close())
	require.False(t, s.Running())
	require.False(t, processAlive(pid), "gearmand pid %d still alive after Close", pid)
	requireRefused(t, s.Addr())
	require.NoDirExists(t, dir)
	require.NoError(t, s.Close(), "a second Close is harmless")

	// With no test to fail, a failed Restart (here: its log directory is
	// gone) is kept for the next Close, and only once.
	s.Restart()
	require.False(t, s.Running())
	err = s.Close()
	require.Error(t, err)
	require.Contains(t, err.Error(), "restarting gearmand")
	require.NoError(t, s.Close())
}

func TestStartWithoutBinary(t *testing.T) {
	// Not parallel: t.Setenv. CI=true must not matter: Start never skips.
	t.Setenv("CI", "true")
	t.Setenv("GEARMAND", filepath.Join(t.TempDir(), "no-such-gearmand"))
	s, err := gearmantest.Start()
	require.Error(t, err)
	require.Nil(t, s)
	require.Contains(t, err.Error(), "GEARMAND")
}

func TestAdminCommand(t *testing.T) {
	t.Parallel()
	s := gearmantest.NewServer(t)

	require.Equal(t, "", admin(t, s.Addr(), "status"), "fresh server has no functions")
	require.Equal(t, "OK", admin(t, s.Addr(), "create function gearmantest_fn"))
	require.Equal(t, "gearmantest_fn\t0\t0\t0", admin(t, s.Addr(), "status"))
	require.Equal(t, "", admin(t, s.Addr(), "show jobs"))

	// Our own admin connection is listed, so the list is never empty.
	workers := admin(t, s.Addr(), "workers")
	require.NotEmpty(t, workers)
	require.NotContains(t, workers, "\n.")

	require.True(t, strings.HasPrefix(admin(t, s.Addr(), "no_such_command"), "ERR UNKNOWN_COMMAND"))
	require.True(t, strings.HasPrefix(admin(t, s.Addr(), "cancel job H:nope:1"), "ERR "))

	_, err := gearmantest.AdminCommand(s.Addr(), "status\r\nversion", adminTimeout)
	require.Error(t, err)
}

func TestTwoServers(t *testing.T) {
	t.Parallel()
	a := gearmantest.NewServer(t)
	b := gearmantest.NewServer(t)

	require.NotEqual(t, a.Port(), b.Port())
	require.NotEqual(t, a.Pid(), b.Pid())
	require.NotEqual(t, a.LogPath(), b.LogPath())
	require.Equal(t, "OK "+strconv.Itoa(a.Pid()), admin(t, a.Addr(), "getpid"))
	require.Equal(t, "OK "+strconv.Itoa(b.Pid()), admin(t, b.Addr(), "getpid"))

	a.Stop()
	requireRefused(t, a.Addr())
	require.True(t, b.Running(), "stopping one server must not affect the other")
	require.Equal(t, "OK "+strconv.Itoa(b.Pid()), admin(t, b.Addr(), "getpid"))
}

func TestStop(t *testing.T) {
	t.Parallel()
	s := gearmantest.NewServer(t)
	pid := s.Pid()
	require.NotZero(t, pid)

	start := time.Now()
	s.Stop()
	t.Logf("Stop took %v", time.Since(start))
	require.False(t, s.Running())
	require.Zero(t, s.Pid())
	require.False(t, processAlive(pid), "gearmand pid %d still alive after Stop", pid)
	requireRefused(t, s.Addr())

	// Idempotent, also when mixed with Kill.
	s.Stop()
	s.Kill()
	s.Stop()
	require.False(t, s.Running())

	log, err := os.ReadFile(s.LogPath())
	require.NoError(t, err)
	require.Contains(t, string(log), "Shutdown complete", "SIGTERM should be a clean shutdown")
}

func TestConcurrentStop(t *testing.T) {
	t.Parallel()
	s := gearmantest.NewServer(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_ = s.Running()
			_ = s.Pid()
			_ = s.Addr()
			if i%2 == 0 {
				s.Stop()
			} else {
				s.Kill()
			}
		}(i)
	}
	wg.Wait()
	require.False(t, s.Running())
	requireRefused(t, s.Addr())
}

func TestRestart(t *testing.T) {
	t.Parallel()
	s := gearmantest.NewServer(t)
	addr, port, pid1 := s.Addr(), s.Port(), s.Pid()

	// Hold a client connection across the restart, so the old server's side
	// of it ends up in TIME_WAIT on the listening port.
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()

	start := time.Now()
	s.Restart()
	t.Logf("Restart (running server) took %v", time.Since(start))
	require.Equal(t, port, s.Port())
	require.Equal(t, addr, s.Addr())
	pid2 := s.Pid()
	require.NotZero(t, pid2)
	require.NotEqual(t, pid1, pid2)
	require.False(t, processAlive(pid1))
	require.Equal(t, "OK "+strconv.Itoa(pid2), admin(t, addr, "getpid"))

	// Restart after an explicit Stop starts it again.
	s.Stop()
	requireRefused(t, addr)
	s.Restart()
	pid3 := s.Pid()
	require.NotEqual(t, pid2, pid3)
	require.Equal(t, "OK "+strconv.Itoa(pid3), admin(t, addr, "getpid"))

	// Readers may run concurrently with lifecycle operations.
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
				_, _, _ = s.Running(), s.Pid(), s.Addr()
				time.Sleep(time.Millisecond)
			}
		}
	}()
	s.Kill()
	s.Restart()
	close(done)
	wg.Wait()
	require.True(t, s.Running())
	require.Equal(t, port, s.Port())
}

// submitBackground submits a background job with the binary protocol
// (SUBMIT_JOB_BG) and returns the job handle from JOB_CREATED.
func submitBackground(t *testing.T, addr, fn, unique string, data []byte) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, adminTimeout)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(adminTimeout)))

	const (
		submitJobBG = 18
		jobCreated  = 8
	)
	body := append([]byte(fn+"\x00"+unique+"\x00"), data...)
	req := make([]byte, 12, 12+len(body))
	copy(req, "\x00REQ")
	binary.BigEndian.PutUint32(req[4:], submitJobBG)
	binary.BigEndian.PutUint32(req[8:], uint32(len(body)))
	req = append(req, body...)
	_, err = conn.Write(req)
	require.NoError(t, err)

	hdr := make([]byte, 12)
	_, err = io.ReadFull(conn, hdr)
	require.NoError(t, err)
	require.Equal(t, "\x00RES", string(hdr[:4]))
	require.Equal(t, uint32(jobCreated), binary.BigEndian.Uint32(hdr[4:]), "want JOB_CREATED")
	handle := make([]byte, binary.BigEndian.Uint32(hdr[8:]))
	_, err = io.ReadFull(conn, handle)
	require.NoError(t, err)
	require.NotEmpty(t, handle)
	return string(handle)
}

// queued returns the "total" column of `status` for fn, or -1 if fn is not
// listed.
func queued(t *testing.T, addr, fn string) int {
	t.Helper()
	for _, line := range strings.Split(admin(t, addr, "status"), "\n") {
		fields := strings.Split(line, "\t")
		if len(fields) >= 4 && fields[0] == fn {
			n, err := strconv.Atoi(fields[1])
			require.NoError(t, err, "status line %q", line)
			return n
		}
	}
	return -1
}

func TestKillRestartSQLiteKeepsBackgroundJob(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "queue.db")
	s := gearmantest.NewServer(t, gearmantest.WithSQLiteQueue(db))
	const fn = "gearmantest_bg"

	handle := submitBackground(t, s.Addr(), fn, "unique-1", []byte("payload"))
	t.Logf("job handle %q", handle)
	require.Equal(t, 1, queued(t, s.Addr(), fn))
	require.FileExists(t, db)

	pid := s.Pid()
	s.Kill()
	require.False(t, s.Running())
	require.False(t, processAlive(pid))
	requireRefused(t, s.Addr())

	start := time.Now()
	s.Restart()
	t.Logf("Restart after Kill with sqlite queue took %v", time.Since(start))
	require.NotEqual(t, pid, s.Pid())
	require.Equal(t, fn+"\t1\t0\t0", admin(t, s.Addr(), "status"), "the job must be replayed from sqlite: 1 queued, 0 running, 0 workers")
}

func TestBuiltinQueueLosesJobOnKill(t *testing.T) {
	t.Parallel()
	s := gearmantest.NewServer(t) // no persistent queue
	const fn = "gearmantest_volatile"
	submitBackground(t, s.Addr(), fn, "u", nil)
	require.Equal(t, 1, queued(t, s.Addr(), fn))
	s.Kill()
	s.Restart()
	require.Equal(t, -1, queued(t, s.Addr(), fn))
}

// cmdline returns the argument vector of pid from /proc.
func cmdline(t *testing.T, pid int) []string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc/PID/cmdline")
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	require.NoError(t, err)
	return strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
}

func TestOptions(t *testing.T) {
	t.Parallel()
	s := gearmantest.NewServer(t,
		gearmantest.WithJobRetries(3),
		gearmantest.WithExceptions(),
		gearmantest.WithThreads(3),
		gearmantest.WithArgs("--job-handle-prefix=gtest"),
	)
	require.True(t, strings.HasPrefix(admin(t, s.Addr(), "version"), "OK "))
	args := cmdline(t, s.Pid())
	t.Logf("cmdline: %q", args)
	require.Contains(t, args, "--job-retries=3")
	require.Contains(t, args, "--exceptions")
	require.Contains(t, args, "--threads=3")
	require.Contains(t, args, "--job-handle-prefix=gtest")
	require.Contains(t, args, "--port="+strconv.Itoa(s.Port()))

	handle := submitBackground(t, s.Addr(), "gearmantest_opts", "u", nil)
	require.True(t, strings.HasPrefix(handle, "gtest:"), "handle %q should use the prefix", handle)

	// Options survive a restart.
	s.Restart()
	require.Contains(t, cmdline(t, s.Pid()), "--job-retries=3")
}

func TestWithArgsOverridesDefaults(t *testing.T) {
	t.Parallel()
	s := gearmantest.NewServer(t, gearmantest.WithArgs("-t", "1", "--verbose=WARNING"))
	args := cmdline(t, s.Pid())
	require.NotContains(t, args, "--threads=2")
	require.NotContains(t, args, "--verbose=INFO")
	require.Contains(t, args, "--verbose=WARNING")
}

func TestEnvironmentIsMinimal(t *testing.T) {
	t.Parallel()
	s := gearmantest.NewServer(t)
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc/PID/environ")
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(s.Pid()) + "/environ")
	require.NoError(t, err)
	env := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
	t.Logf("environ: %q", env)
	require.LessOrEqual(t, len(env), 3)
	for _, kv := range env {
		require.False(t, strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "GO"), "leaked %q", kv)
	}
}

func TestBinaryFromEnv(t *testing.T) {
	// Not parallel: t.Setenv.
	bin, err := gearmantest.Binary()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	t.Setenv("GEARMAND", bin)
	got, err := gearmantest.Binary()
	require.NoError(t, err)
	require.Equal(t, bin, got)

	t.Setenv("GEARMAND", filepath.Join(t.TempDir(), "no-such-gearmand"))
	_, err = gearmantest.Binary()
	require.Error(t, err)
	require.Contains(t, err.Error(), "GEARMAND")
}
