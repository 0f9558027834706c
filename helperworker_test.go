package gearman_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// echoWorkerEnv names the server (host:port) the test binary serves "echo"
// jobs for when it runs as startEchoWorkerProcess's child.
const echoWorkerEnv = "LIBGEARMAN_GO_TEST_ECHO_WORKER"

// startEchoWorkerProcess runs an "echo" worker for srv in a child process,
// the test binary itself, until the test ends. Counting a client's Go
// allocations needs the worker's out of the process: runtime.MemStats counts
// every goroutine's.
func startEchoWorkerProcess(t testing.TB, srv *gearmantest.Server) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), echoWorkerEnv+"="+srv.Addr())
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close() // the child's cue to stop
		if err := cmd.Wait(); err != nil {
			t.Errorf("echo worker process: %v", err)
		}
	})
	waitForWorker(t, srv, "echo")
}

// runEchoWorkerProcess is the child's side: it serves until its stdin closes.
func runEchoWorkerProcess(addr string) error {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return err
	}
	w, err := gearman.NewWorker()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.AddServer(host, port); err != nil {
		return err
	}
	if err := w.AddFunction("echo", echo, nil, 0); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := w.Run(ctx); err != nil {
		return fmt.Errorf("Run: %w", err)
	}
	return nil
}
