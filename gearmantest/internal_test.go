package gearmantest

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// These tests use internals (package variables and launch) to check the
// handling of a port that is taken between picking it and starting gearmand.
// They must not run in parallel with each other because they swap pickPort.

// TestPortTakenByOtherGearmand starts a second gearmand on a port already
// used by a first one. gearmand itself would sit in its bind() retry loop for
// ~20s; the getpid check must notice the foreign server at once.
func TestPortTakenByOtherGearmand(t *testing.T) {
	first := NewServer(t)
	s := NewServer(t)
	s.Stop()

	start := time.Now()
	_, err := s.launch(first.Port(), 5*time.Second)
	require.Error(t, err)
	require.True(t, errors.Is(err, errPortBusy), "got %v", err)
	require.Less(t, time.Since(start), 2*time.Second)
	require.True(t, first.Running())
}

// TestPortTakenByNonGearmand holds a port with a listener that never answers.
func TestPortTakenByNonGearmand(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close() // answer nothing
		}
	}()
	taken := l.Addr().(*net.TCPAddr).Port

	s := NewServer(t)
	s.Stop()
	_, err = s.launch(taken, 5*time.Second)
	require.Error(t, err)
	require.True(t, errors.Is(err, errPortBusy), "got %v", err)
}

// TestNewServerRetriesTakenPort makes the first picked port a taken one and
// checks that NewServer moves on to another port.
func TestNewServerRetriesTakenPort(t *testing.T) {
	busy := NewServer(t)
	var calls atomic.Int32
	orig := pickPort
	pickPort = func() (int, error) {
		if calls.Add(1) == 1 {
			return busy.Port(), nil
		}
		return orig()
	}
	defer func() { pickPort = orig }()

	s := NewServer(t)
	require.Equal(t, int32(2), calls.Load())
	require.NotEqual(t, busy.Port(), s.Port())
	reply, err := AdminCommand(s.Addr(), "getpid", time.Second)
	require.NoError(t, err)
	require.Equal(t, "OK "+strconv.Itoa(s.Pid()), reply)
}

func TestHasFlag(t *testing.T) {
	require.True(t, hasFlag([]string{"-t", "1"}, "threads", "t"))
	require.True(t, hasFlag([]string{"-t1"}, "threads", "t"))
	require.True(t, hasFlag([]string{"--threads=1"}, "threads", "t"))
	require.True(t, hasFlag([]string{"--threads", "1"}, "threads", "t"))
	require.False(t, hasFlag([]string{"--thread-count=1", "--job-retries=1"}, "threads", "t"))
	require.True(t, hasFlag([]string{"--verbose=DEBUG"}, "verbose", ""))
	require.False(t, hasFlag([]string{"-v"}, "verbose", ""))
}

// recordingTB captures Skipf/Fatalf instead of ending the real test.
type recordingTB struct {
	testing.TB
	skipped, fatal string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// callRequireBinary runs requireBinary on its own goroutine, since the fake
// Skipf/Fatalf end that goroutine like the real ones do.
func callRequireBinary(t *testing.T) *recordingTB {
	r := &recordingTB{TB: t}
	missing := func() (string, error) { return "", errors.New("gearmand not found; " + installHint) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		requireBinary(r, missing)
	}()
	<-done
	return r
}

func TestMissingBinarySkipsOutsideCI(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv("GEARMAND", "")
	r := callRequireBinary(t)
	require.Empty(t, r.fatal)
	require.Contains(t, r.skipped, "apt-get install gearman-job-server")
}

func TestMissingBinaryFailsUnderCI(t *testing.T) {
	t.Setenv("CI", "true")
	t.Setenv("GEARMAND", "")
	r := callRequireBinary(t)
	require.Empty(t, r.skipped)
	require.Contains(t, r.fatal, "apt-get install gearman-job-server")
}
