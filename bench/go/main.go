// Command go is the Go side of the libgearman-go side-by-side benchmark
// (bench/run.sh): the same scenarios as bench/c/gearbench.c, through the Go
// binding.
//
//	go build -o gobench ./bench/go
//	gobench worker HOST PORT
//	gobench client HOST PORT SCENARIO N SIZE
//	gobench workers HOST PORT
//
// The worker registers "echo" with AddFunction (the result is the job's
// workload) and serves with Run until SIGTERM or SIGINT. The client runs one
// scenario and prints one line, jobs_per_sec=<float> [drained_per_sec=<float>]:
//
//	W1  N sequential DoNormal
//	W2  N AddTask, then one RunTasks
//	W3  N sequential DoBackground (submit rate), then the rate until drained
//	W4  N AddTaskBackground, then one RunTasks (submit rate), then drained
//	W5  N sequential DoNormal (use SIZE=1048576)
//
// The line also carries cpu_sec=<float>: this process's user+system CPU time
// over the timed part (up to "drained" where there is one).
//
// "Drained" polls the admin "status" command (package admin) until the echo
// function's queue (total, running jobs included) is 0; its rate is
// N / (time from the first submission to that point). Every result is
// checked; a wrong or missing one makes the program exit non-zero without
// printing a rate.
//
// With GOBENCH_PROFILE=DIR (bench/profile.sh), the client writes a CPU profile
// of its timed part to DIR/client-SCENARIO.pprof, the worker one of its whole
// run to DIR/worker.pprof, and both print to stderr how many cgo calls
// (Go to C) they made per job.
//
// "workers" prints how many workers gearmand lists for the echo function (0
// when none), for bench/run.sh to wait until a worker has registered.
package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/admin"
)

const function = "echo"

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 3 && args[0] == "worker":
		port := atoi(args[2])
		if err := runWorker(args[1], port); err != nil {
			fatalf("worker: %v", err)
		}
	case len(args) == 3 && args[0] == "workers":
		n, err := echoWorkers(args[1], atoi(args[2]))
		if err != nil {
			fatalf("workers: %v", err)
		}
		fmt.Println(n)
	case len(args) == 6 && args[0] == "client":
		port, n, size := atoi(args[2]), atoi(args[4]), atoi(args[5])
		if n < 1 || size < 0 {
			usage()
		}
		if err := runClient(args[1], port, args[3], n, size); err != nil {
			fatalf("client %s: %v", args[3], err)
		}
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gobench worker HOST PORT\n       gobench client HOST PORT SCENARIO N SIZE\n       gobench workers HOST PORT")
	os.Exit(2)
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "gobench: "+format+"\n", a...)
	os.Exit(1)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		usage()
	}
	return n
}

// ---- worker ----

func runWorker(host string, port int) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	w, err := gearman.NewWorker()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.AddServer(host, port); err != nil {
		return err
	}
	jobs := 0
	echo := func(job *gearman.Job, _ any) ([]byte, error) { jobs++; return job.Workload(), nil }
	if err := w.AddFunction(function, echo, nil, 0); err != nil {
		return err
	}
	stopProfile := startProfile("worker.pprof")
	calls0 := runtime.NumCgoCall()
	err = w.Run(ctx)
	stopProfile()
	report("worker", jobs, runtime.NumCgoCall()-calls0)
	return err
}

// startProfile starts a CPU profile into $GOBENCH_PROFILE/name, if set, and
// returns what stops it.
func startProfile(name string) func() {
	dir := os.Getenv("GOBENCH_PROFILE")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		fatalf("profile: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fatalf("profile: %v", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// report prints the cgo calls per job when profiling.
func report(who string, jobs int, calls int64) {
	if os.Getenv("GOBENCH_PROFILE") == "" || jobs == 0 {
		return
	}
	fmt.Fprintf(os.Stderr, "%s: jobs=%d cgo_calls=%d cgo_calls_per_job=%.2f\n", who, jobs, calls, float64(calls)/float64(jobs))
}

// ---- client ----

func runClient(host string, port int, scenario string, n, size int) error {
	payload := bytes.Repeat([]byte{'x'}, size)
	c, err := gearman.NewClient()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.AddServer(host, port); err != nil {
		return err
	}
	// Warm-up, not timed: connects, and proves the worker answers.
	if err := doOne(c, payload[:min(size, 100)]); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}

	stopProfile := startProfile("client-" + scenario + ".pprof")
	calls0 := runtime.NumCgoCall()
	cpu0 := cpuSec()
	var (
		start = time.Now()
		end   time.Time
		drain bool
	)
	switch scenario {
	case "W1", "W5":
		for range n {
			if err := doOne(c, payload); err != nil {
				return err
			}
		}
		end = time.Now()
	case "W2":
		completed, bad := 0, 0
		if err := c.SetCompleteCallback(func(t *gearman.Task, _ any) error {
			completed++
			if !bytes.Equal(t.Data(), payload) {
				bad++
			}
			return nil
		}); err != nil {
			return err
		}
		if err := c.SetFailCallback(func(*gearman.Task, any) error { bad++; return nil }); err != nil {
			return err
		}
		for range n {
			if _, err := c.AddTask(function, payload, nil, ""); err != nil {
				return err
			}
		}
		if err := c.RunTasks(); err != nil {
			return err
		}
		end = time.Now()
		if completed != n || bad != 0 {
			return fmt.Errorf("completed %d of %d, %d bad", completed, n, bad)
		}
	case "W3":
		for range n {
			if _, err := c.DoBackground(function, payload, ""); err != nil {
				return err
			}
		}
		end = time.Now()
		drain = true
	case "W4":
		created := 0
		if err := c.SetCreatedCallback(func(*gearman.Task, any) error { created++; return nil }); err != nil {
			return err
		}
		for range n {
			if _, err := c.AddTaskBackground(function, payload, nil, ""); err != nil {
				return err
			}
		}
		if err := c.RunTasks(); err != nil {
			return err
		}
		end = time.Now()
		if created != n {
			return fmt.Errorf("created %d of %d", created, n)
		}
		drain = true
	default:
		return fmt.Errorf("unknown scenario")
	}

	stopProfile()
	report("client "+scenario, n, runtime.NumCgoCall()-calls0)
	rate := float64(n) / end.Sub(start).Seconds()
	if !drain {
		fmt.Printf("jobs_per_sec=%.3f cpu_sec=%.3f\n", rate, cpuSec()-cpu0)
		return nil
	}
	drained, err := waitDrained(host, port)
	if err != nil {
		return err
	}
	fmt.Printf("jobs_per_sec=%.3f drained_per_sec=%.3f cpu_sec=%.3f\n",
		rate, float64(n)/drained.Sub(start).Seconds(), cpuSec()-cpu0)
	return nil
}

func doOne(c *gearman.Client, payload []byte) error {
	res, err := c.DoNormal(function, payload, "")
	if err != nil {
		return err
	}
	if !bytes.Equal(res, payload) {
		return fmt.Errorf("wrong result: %d bytes for %d", len(res), len(payload))
	}
	return nil
}

// waitDrained polls gearmand's admin "status" (package admin) until the echo
// function's total is 0, and returns that moment.
func waitDrained(host string, port int) (time.Time, error) {
	ctx := context.Background()
	adm, err := admin.Dial(ctx, net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return time.Time{}, err
	}
	defer adm.Close()
	for {
		status, err := adm.Status(ctx)
		t := time.Now()
		if err != nil {
			return t, err
		}
		if queued(status) == 0 {
			return t, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// queued returns the total of the echo function in a status reply (0 when it
// is not listed).
func queued(status []admin.FunctionStatus) int {
	for _, f := range status {
		if f.Name == function {
			return f.Total
		}
	}
	return 0
}

// echoWorkers returns the workers column of the echo function in gearmand's
// admin "status" (0 when it is not listed).
func echoWorkers(host string, port int) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	adm, err := admin.Dial(ctx, net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return 0, err
	}
	defer adm.Close()
	status, err := adm.Status(ctx)
	if err != nil {
		return 0, err
	}
	for _, f := range status {
		if f.Name == function {
			return f.Workers, nil
		}
	}
	return 0, nil
}
