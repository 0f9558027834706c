// Command go is the Go side of the libgearman-go side-by-side benchmark
// (bench/run.sh): the same scenarios as bench/c/gearbench.c, through the Go
// binding.
//
//	go build -o gobench ./bench/go
//	gobench worker HOST PORT [run|work]
//	gobench client HOST PORT SCENARIO N SIZE
//	gobench workers HOST PORT
//
// The worker registers "echo" with AddFunction (the result is the job's
// workload) and serves until SIGTERM or SIGINT: with Run (the default, "run"),
// or with a PHP-style loop of Work calls ("work"), which a signal ends by
// exiting the process. The client runs one scenario and prints one line,
// jobs_per_sec=<float> [drained_per_sec=<float>]:
//
//	W1  N sequential DoNormal
//	W2  N AddTask, then one RunTasks
//	W3  N sequential DoBackground (submit rate), then the rate until drained
//	W4  N AddTaskBackground, then one RunTasks (submit rate), then drained
//	W5  N sequential DoNormal (use SIZE=1048576)
//	W6  N DoNormal in all from 64 goroutines that share one Client, each
//	    doing its share sequentially
//	W6-own  the same with one Client per goroutine
//
// The line also carries cpu_sec=<float>: this process's user+system CPU time
// over the timed part (up to "drained" where there is one), and procs=<int>:
// the GOMAXPROCS it ran with.
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
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/admin"
)

const function = "echo"

func main() {
	args := os.Args[1:]
	switch {
	case (len(args) == 3 || len(args) == 4) && args[0] == "worker":
		port := atoi(args[2])
		mode := "run"
		if len(args) == 4 {
			mode = args[3]
		}
		if mode != "run" && mode != "work" {
			usage()
		}
		if err := runWorker(args[1], port, mode); err != nil {
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
	fmt.Fprintln(os.Stderr, "usage: gobench worker HOST PORT [run|work]\n       gobench client HOST PORT SCENARIO N SIZE\n       gobench workers HOST PORT")
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

// runWorker serves echo jobs with Run (mode "run") or with a loop of Work
// calls (mode "work", as a PHP worker does), until SIGTERM or SIGINT.
func runWorker(host string, port int, mode string) error {
	w, err := gearman.NewWorker()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.AddServer(host, port); err != nil {
		return err
	}
	var jobs atomic.Int64
	echo := func(job *gearman.Job, _ any) ([]byte, error) { jobs.Add(1); return job.Workload(), nil }
	if err := w.AddFunction(function, echo, nil, 0); err != nil {
		return err
	}
	stopProfile := startProfile("worker.pprof")
	calls0 := runtime.NumCgoCall()
	done := func() {
		stopProfile()
		report("worker", int(jobs.Load()), runtime.NumCgoCall()-calls0)
	}
	if mode == "work" {
		return workLoop(w, done)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	err = w.Run(ctx)
	done()
	return err
}

// workLoop is PHP's worker loop, for { $w->work() }: one Work call per job,
// with no context. A signal cannot end a Work call, so it ends the process
// (after done), as it ends a PHP or C worker. Like those, the loop gives up
// after 20 failed calls in a row.
func workLoop(w *gearman.Worker, done func()) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		done()
		os.Exit(0)
	}()
	failures := 0
	for {
		err := w.Work()
		if err == nil {
			failures = 0
			continue
		}
		fmt.Fprintf(os.Stderr, "gobench worker: work: %v\n", err)
		if failures++; failures >= 20 {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
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

	// W6-own: the other clients, each warmed up (connected) before the clock
	// starts.
	var own []*gearman.Client
	if scenario == "W6-own" {
		own = make([]*gearman.Client, w6Goroutines)
		own[0] = c
		for i := 1; i < len(own); i++ {
			if own[i], err = gearman.NewClient(); err != nil {
				return err
			}
			defer own[i].Close()
			if err := own[i].AddServer(host, port); err != nil {
				return err
			}
			if err := doOne(own[i], payload); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
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
	case "W6", "W6-own":
		clients := own
		if clients == nil {
			clients = make([]*gearman.Client, w6Goroutines)
			for i := range clients {
				clients[i] = c
			}
		}
		if err := concurrent(clients, n, payload); err != nil {
			return err
		}
		end = time.Now()
	default:
		return fmt.Errorf("unknown scenario")
	}

	stopProfile()
	report("client "+scenario, n, runtime.NumCgoCall()-calls0)
	rate := float64(n) / end.Sub(start).Seconds()
	if !drain {
		fmt.Printf("jobs_per_sec=%.3f cpu_sec=%.3f procs=%d\n", rate, cpuSec()-cpu0, runtime.GOMAXPROCS(0))
		return nil
	}
	drained, err := waitDrained(host, port)
	if err != nil {
		return err
	}
	fmt.Printf("jobs_per_sec=%.3f drained_per_sec=%.3f cpu_sec=%.3f procs=%d\n",
		rate, float64(n)/drained.Sub(start).Seconds(), cpuSec()-cpu0, runtime.GOMAXPROCS(0))
	return nil
}

// w6Goroutines is how many goroutines W6 and W6-own run at once (and how
// many threads gearbench runs in W6).
const w6Goroutines = 64

// concurrent runs n DoNormal in all, from one goroutine per entry of clients
// (which may all be the same Client), each doing its share sequentially. It
// returns the first error, once every goroutine has stopped.
func concurrent(clients []*gearman.Client, n int, payload []byte) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	g := len(clients)
	for i, c := range clients {
		share := n / g
		if i < n%g {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range share {
				if err := doOne(c, payload); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
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
