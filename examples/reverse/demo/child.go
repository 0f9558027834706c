package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// child is a worker or client process of the demo.
type child struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and its output is printed
	err  error         // Wait's result, set before done is closed
}

// start starts path with args, its output printed behind prefix. ctx's end
// kills it.
func start(ctx context.Context, path, prefix string, args ...string) (*child, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	out := newPrefixWriter(prefix)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = childEnv()
	cmd.SysProcAttr = sysProcAttr()
	// A grandchild holding the output pipe must not keep Wait waiting.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		out.flush()
		close(c.done)
	}()
	return c, nil
}

// stop kills the process if it still runs and waits for it.
func (c *child) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Kill()
	<-c.done
}

// childEnv is this process's environment without GEARMAN_SERVERS, which
// libgearman would read as more servers to use: the children get theirs as
// flags.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GEARMAN_SERVERS=") {
			env = append(env, kv)
		}
	}
	return env
}
