// Command demo runs the reverse example against a throwaway gearmand: it is
// what `make demo` runs (through scripts/demo.sh), and step 5 of
// scripts/test.sh runs it on the -tags gearman_static binaries.
//
//	go run ./examples/reverse/demo
//
// It starts gearmand with gearmantest.Start (a free 127.0.0.1 port, a
// temporary log), starts ../worker with -count 1 and waits until gearmand
// lists it for "reverse" (package admin), runs ../client, and checks that
// both exit with status 0. The output of the two is printed line by line
// behind "[worker] " and "[client] ". Whatever happens, on success, on
// failure and on Ctrl-C (SIGINT or SIGTERM), everything it started is stopped
// before it exits.
//
// It is configured by the environment, as `make demo` is:
//
//	DEMO_DELAY    the worker's -delay, its pause after each byte (default 1s,
//	              PHP's sleep(1)); DEMO_DELAY=0s skips it
//	DEMO_TIMEOUT  how long the client may take, in seconds or as a Go
//	              duration (default 120)
//	DEMO_BIN      a directory holding worker and client already built; without
//	              it, both are built with `go build` into a temporary
//	              directory, so the demo must then run inside this module
//	GEARMAND      the gearmand binary (see gearmantest.Binary)
//
// The exit status is 0 on success, 1 on failure and 130 when interrupted.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/libgearman-go/gearman/admin"
	"github.com/libgearman-go/gearman/gearmantest"
)

const (
	// function is what the reverse worker registers.
	function = "reverse"
	// registerTimeout bounds the wait for the worker to register function.
	registerTimeout = 10 * time.Second
	// exitTimeout bounds the wait for the worker to exit after its one job.
	exitTimeout = 10 * time.Second
	// adminTimeout bounds one admin command.
	adminTimeout = 2 * time.Second
	// examples is the import path of the worker and client.
	examples = "github.com/libgearman-go/gearman/examples/reverse/"
)

func main() {
	os.Exit(run())
}

// run runs the demo and turns its outcome into an exit status.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := settingsFromEnv()
	if err == nil {
		err = demo(ctx, cfg)
	}
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "demo: interrupted; everything it started is stopped")
		return 130
	default:
		fmt.Fprintf(os.Stderr, "demo: %v\ndemo: FAILED\n", err)
		return 1
	}
}

// settings are the demo's knobs, read from the environment.
type settings struct {
	bin     string        // DEMO_BIN: prebuilt worker and client, or "" to build them
	delay   time.Duration // DEMO_DELAY: the worker's -delay
	timeout time.Duration // DEMO_TIMEOUT: how long the client may take
}

// settingsFromEnv reads DEMO_BIN, DEMO_DELAY and DEMO_TIMEOUT.
func settingsFromEnv() (settings, error) {
	cfg := settings{bin: os.Getenv("DEMO_BIN"), delay: time.Second, timeout: 120 * time.Second}
	if v := os.Getenv("DEMO_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return cfg, fmt.Errorf("DEMO_DELAY=%q: want a duration such as 1s or 0s", v)
		}
		cfg.delay = d
	}
	if v := os.Getenv("DEMO_TIMEOUT"); v != "" {
		d, err := parseTimeout(v)
		if err != nil {
			return cfg, fmt.Errorf("DEMO_TIMEOUT=%q: %w", v, err)
		}
		cfg.timeout = d
	}
	return cfg, nil
}

// parseTimeout accepts whole seconds, as the shell demo's `timeout` did, or
// a Go duration.
func parseTimeout(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, errors.New("want a positive number of seconds or a duration such as 90s")
}

// demo runs the steps. Each step that starts something stops it again in a
// deferred call, so that every way out, ctx's end included, cleans up.
func demo(ctx context.Context, cfg settings) (err error) {
	bin := cfg.bin
	if bin == "" {
		tmp, err := os.MkdirTemp("", "libgearman-go-demo.")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		step("build examples/reverse/{worker,client}")
		if err := build(ctx, tmp); err != nil {
			return err
		}
		say("ok")
		bin = tmp
	}

	step("start gearmand on 127.0.0.1")
	srv, err := gearmantest.Start()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil && ctx.Err() == nil {
			printLogTail(srv.LogPath())
		}
		if cerr := srv.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	actx, cancel := context.WithTimeout(ctx, adminTimeout)
	adm, err := admin.Dial(actx, srv.Addr())
	cancel()
	if err != nil {
		return err
	}
	defer adm.Close()
	version, err := adminCall(ctx, adm.Version)
	if err != nil {
		return err
	}
	say("gearmand %s pid %d, %s", version, srv.Pid(), srv.Addr())

	server := []string{"-host", srv.Host(), "-port", strconv.Itoa(srv.Port())}
	workerArgs := append(append([]string{}, server...), "-count", "1", "-delay", cfg.delay.String())
	step("start the worker: worker " + strings.Join(workerArgs, " "))
	worker, err := start(ctx, filepath.Join(bin, "worker"), "[worker] ", workerArgs...)
	if err != nil {
		return err
	}
	defer worker.stop()
	if err := waitRegistered(ctx, adm, worker); err != nil {
		return err
	}

	step("run the client: client " + strings.Join(server, " "))
	if err := runClient(ctx, filepath.Join(bin, "client"), cfg.timeout, server); err != nil {
		return err
	}

	step("wait for the worker to exit (-count 1)")
	select {
	case <-worker.done:
	case <-time.After(exitTimeout):
		return fmt.Errorf("the worker is still running %v after its job", exitTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	if worker.err != nil {
		return fmt.Errorf("the worker: %w", worker.err)
	}
	say("ok")
	step("demo finished")
	return nil
}

// build builds the worker and the client into dir.
func build(ctx context.Context, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(filepath.Separator), examples+"worker", examples+"client")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build (run the demo inside the module, or set DEMO_BIN): %w", err)
	}
	return nil
}

// adminCall runs one admin call with its own timeout.
func adminCall[T any](ctx context.Context, call func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	return call(ctx)
}

// waitRegistered polls gearmand's "status" until a worker is listed for
// function, so that a worker that cannot start fails the demo here instead
// of leaving the client waiting.
func waitRegistered(ctx context.Context, adm *admin.Client, worker *child) error {
	deadline := time.NewTimer(registerTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		// An admin error is retried on the next tick: admin re-dials.
		if status, err := adminCall(ctx, adm.Status); err == nil && workersFor(status) > 0 {
			return nil
		}
		select {
		case <-worker.done:
			return fmt.Errorf("the worker exited before it registered %q: %v", function, worker.err)
		case <-deadline.C:
			return fmt.Errorf("the worker did not register %q within %v", function, registerTimeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// workersFor returns how many workers a status reply lists for function.
func workersFor(status []admin.FunctionStatus) int {
	for _, f := range status {
		if f.Name == function {
			return f.Workers
		}
	}
	return 0
}

// runClient runs the client to its end, within timeout.
func runClient(ctx context.Context, path string, timeout time.Duration, args []string) error {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client, err := start(cctx, path, "[client] ", args...)
	if err != nil {
		return err
	}
	<-client.done
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case cctx.Err() != nil:
		return fmt.Errorf("the client did not finish within %v", timeout)
	case client.err != nil:
		return fmt.Errorf("the client: %w", client.err)
	}
	return nil
}

// printLogTail prints the end of gearmand's log to stderr, for a failure.
func printLogTail(path string) {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	lines = lines[max(0, len(lines)-20):]
	fmt.Fprintf(os.Stderr, "--- gearmand log (%s) ---\n%s\n", path, strings.Join(lines, "\n"))
}
