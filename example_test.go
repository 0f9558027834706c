package gearman_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// Each example starts its own gearmand with gearmantest.Start, so that it runs
// as it stands; a program would call AddServer with its real server instead.
// The examples print nothing that depends on timing or on the host (job
// handles contain the host name unless the server is given a prefix).

// Example_reverse ports the PHP manual's "Basic Gearman client and worker"
// (gearman.examples-reverse): GearmanWorker::addFunction and work() on one
// side, GearmanClient::doNormal on the other. The full line-by-line port is in
// examples/reverse.
func Example_reverse() {
	srv, err := gearmantest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// $gmworker = new GearmanWorker(); $gmworker->addServer();
	worker, err := gearman.NewWorker()
	if err != nil {
		log.Fatal(err)
	}
	defer worker.Close()
	if err := worker.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}
	// $gmworker->addFunction("reverse", "reverse_fn");
	err = worker.AddFunction("reverse", func(job *gearman.Job, _ any) ([]byte, error) {
		workload := job.Workload()
		fmt.Printf("Workload: %s (%d)\n", workload, job.WorkloadSize())
		// The manual's worker also sends each byte with sendData; DoNormal
		// would put those chunks in front of the result, so this one only
		// reports progress. ExampleClient_AddTask shows the data arriving.
		for x := range len(workload) {
			if err := job.SendStatus(x+1, len(workload)); err != nil {
				return nil, err
			}
		}
		result := slices.Clone(workload)
		slices.Reverse(result) // PHP: strrev($workload)
		fmt.Printf("Result: %s\n", result)
		return result, nil
	}, nil, 0)
	if err != nil {
		log.Fatal(err)
	}
	// while ($gmworker->work()) {...}, stopped when ctx ends.
	ctx, stopWorker := context.WithCancel(context.Background())
	defer stopWorker() // on early returns; the normal path stops it below
	workerDone := make(chan error, 1)
	go func() { workerDone <- worker.Run(ctx) }()

	// $gmclient = new GearmanClient(); $gmclient->addServer();
	client, err := gearman.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if err := client.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}

	fmt.Println("Sending job")
	// $result = $gmclient->doNormal("reverse", "Hello!");
	result, err := client.DoNormal("reverse", []byte("Hello!"), "")
	if err != nil {
		// PHP: echo "RET: " . $gmclient->returnCode() . "\n";
		fmt.Println("RET:", client.ReturnCode(), err)
		return
	}
	fmt.Printf("Success: %s\n", result)

	stopWorker()
	if err := <-workerDone; err != nil {
		log.Fatal(err)
	}
	// Output:
	// Sending job
	// Workload: Hello! (6)
	// Result: !olleH
	// Success: !olleH
}

// ExampleClient_DoBackground ports the PHP manual's background client
// (GearmanClient::doBackground, "Submit and monitor a background job", and
// gearman.examples-reverse-bg): submit a job, then poll jobStatus until the
// server no longer knows it. The full port is in examples/reverse_bg.
func ExampleClient_DoBackground() {
	srv, err := gearmantest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// The worker comes online, and then takes each step of the job, only
	// when the polling loop below has seen the previous state, so that every
	// state shows up exactly once. A real worker does not wait for anybody.
	step := make(chan struct{})
	worker, err := gearman.NewWorker()
	if err != nil {
		log.Fatal(err)
	}
	defer worker.Close()
	if err := worker.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}
	err = worker.AddFunction("reverse", func(job *gearman.Job, _ any) ([]byte, error) {
		const steps = 2
		for i := 1; i <= steps; i++ {
			<-step
			if err := job.SendStatus(i, steps); err != nil {
				return nil, err
			}
		}
		<-step
		result := slices.Clone(job.Workload())
		slices.Reverse(result)
		return result, nil // a background job's result goes nowhere
	}, nil, 0)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stopWorker := context.WithCancel(context.Background())
	defer stopWorker() // on early returns; the normal path stops it below
	workerDone := make(chan error, 1)
	go func() {
		<-step
		workerDone <- worker.Run(ctx)
	}()

	client, err := gearman.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if err := client.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}

	// $job_handle = $gmclient->doBackground("reverse", "this is a test");
	// PHP checks $gmclient->returnCode(); in Go the error says it all.
	jobHandle, err := client.DoBackground("reverse", []byte("this is a test"), "")
	if err != nil {
		fmt.Println("bad return code:", err)
		return
	}

	// do { sleep(3); $stat = $gmclient->jobStatus($job_handle); ... } while (!$done);
	// PHP prints every poll; this loop prints each state once.
	last := gearman.JobStatus{Numerator: -1} // no state seen yet
	for {
		time.Sleep(5 * time.Millisecond)
		stat, err := client.JobStatus(jobHandle)
		if err != nil {
			log.Fatal(err)
		}
		if stat == last {
			continue
		}
		last = stat
		fmt.Printf("Known: %t, Running: %t, numerator: %d, denominator: %d\n",
			stat.Known, stat.Running, stat.Numerator, stat.Denominator)
		if !stat.Known { // the server forgets a job once it is done
			break
		}
		step <- struct{}{}
	}
	fmt.Println("done!")

	stopWorker()
	if err := <-workerDone; err != nil {
		log.Fatal(err)
	}
	// Output:
	// Known: true, Running: false, numerator: 0, denominator: 0
	// Known: true, Running: true, numerator: 0, denominator: 0
	// Known: true, Running: true, numerator: 1, denominator: 2
	// Known: true, Running: true, numerator: 2, denominator: 2
	// Known: false, Running: false, numerator: 0, denominator: 0
	// done!
}

// ExampleClient_AddTask ports the PHP manual's task client
// (gearman.examples-reverse-task): setCreatedCallback, setDataCallback,
// setStatusCallback, setCompleteCallback and setFailCallback, two tasks
// added with addTask and addTaskLow, then runTasks. The full port is in
// examples/reverse_task.
func ExampleClient_AddTask() {
	// By default a job handle holds the server's host name; a fixed prefix
	// keeps the handles printed below the same everywhere.
	srv, err := gearmantest.Start(gearmantest.WithArgs("--job-handle-prefix=H:example"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// The manual's reverse worker: status and one data packet per byte.
	worker, err := gearman.NewWorker()
	if err != nil {
		log.Fatal(err)
	}
	defer worker.Close()
	if err := worker.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}
	err = worker.AddFunction("reverse", func(job *gearman.Job, _ any) ([]byte, error) {
		workload := job.Workload()
		for x := range len(workload) {
			if err := job.SendStatus(x+1, len(workload)); err != nil {
				return nil, err
			}
			if err := job.SendData(workload[x : x+1]); err != nil {
				return nil, err
			}
		}
		result := slices.Clone(workload)
		slices.Reverse(result)
		return result, nil
	}, nil, 0)
	if err != nil {
		log.Fatal(err)
	}
	// One worker, started once both jobs are queued, serves them one after
	// the other in priority order, so the callbacks below come in a fixed
	// order. With more workers the tasks run in parallel and their callbacks
	// interleave.
	queued := make(chan struct{})
	ctx, stopWorker := context.WithCancel(context.Background())
	defer stopWorker() // on early returns; the normal path stops it below
	workerDone := make(chan error, 1)
	go func() {
		<-queued
		workerDone <- worker.Run(ctx)
	}()

	gmc, err := gearman.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	defer gmc.Close()
	if err := gmc.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}

	// Callbacks run on the goroutine calling RunTasks, one at a time, so
	// created needs no lock. PHP's callbacks return nothing; nil is
	// GEARMAN_SUCCESS.
	created := 0
	reverseCreated := func(task *gearman.Task, _ any) error {
		fmt.Println("CREATED:", task.JobHandle())
		if created++; created == 2 {
			close(queued)
		}
		return nil
	}
	reverseData := func(task *gearman.Task, _ any) error {
		fmt.Printf("DATA: %s\n", task.Data())
		return nil
	}
	reverseStatus := func(task *gearman.Task, _ any) error {
		fmt.Printf("STATUS: %s - %d/%d\n", task.JobHandle(), task.TaskNumerator(), task.TaskDenominator())
		return nil
	}
	reverseComplete := func(task *gearman.Task, _ any) error {
		fmt.Printf("COMPLETE: %s, %s\n", task.JobHandle(), task.Data())
		return nil
	}
	reverseFail := func(task *gearman.Task, _ any) error {
		fmt.Println("FAILED:", task.JobHandle())
		return nil
	}
	// $gmc->setCreatedCallback("reverse_created"); and so on.
	if err := errors.Join(
		gmc.SetCreatedCallback(reverseCreated),
		gmc.SetDataCallback(reverseData),
		gmc.SetStatusCallback(reverseStatus),
		gmc.SetCompleteCallback(reverseComplete),
		gmc.SetFailCallback(reverseFail),
	); err != nil {
		log.Fatal(err)
	}

	// $task = $gmc->addTask("reverse", "foo", $data); the manual never reads
	// its $data context, so none is passed here (ExampleClient_RunTasks uses one).
	if _, err := gmc.AddTask("reverse", []byte("foo"), nil, ""); err != nil {
		log.Fatal(err)
	}
	// $task2 = $gmc->addTaskLow("reverse", "bar", NULL);
	if _, err := gmc.AddTaskLow("reverse", []byte("bar"), nil, ""); err != nil {
		log.Fatal(err)
	}
	// if (!$gmc->runTasks()) { echo "ERROR " . $gmc->error() . "\n"; exit; }
	if err := gmc.RunTasks(); err != nil {
		fmt.Println("ERROR", err)
		return
	}
	fmt.Println("DONE")

	stopWorker()
	if err := <-workerDone; err != nil {
		log.Fatal(err)
	}
	// Output:
	// CREATED: H:example:1
	// CREATED: H:example:2
	// STATUS: H:example:1 - 1/3
	// DATA: f
	// STATUS: H:example:1 - 2/3
	// DATA: o
	// STATUS: H:example:1 - 3/3
	// DATA: o
	// COMPLETE: H:example:1, oof
	// STATUS: H:example:2 - 1/3
	// DATA: b
	// STATUS: H:example:2 - 2/3
	// DATA: a
	// STATUS: H:example:2 - 3/3
	// DATA: r
	// COMPLETE: H:example:2, rab
	// DONE
}

// ExampleClient_RunTasks is the usual fan-out with GearmanClient::addTask and
// runTasks: several jobs run in parallel and the complete callback collects
// their results. Results arrive in any order; the task's context (addTask's
// third argument) says where each one belongs.
func ExampleClient_RunTasks() {
	srv, err := gearmantest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	const workers = 2
	ctx, stopWorkers := context.WithCancel(context.Background())
	defer stopWorkers()
	workersDone := make(chan error, workers)
	for range workers {
		w, err := gearman.NewWorker()
		if err != nil {
			log.Fatal(err)
		}
		defer w.Close()
		if err := w.AddServer(srv.Host(), srv.Port()); err != nil {
			log.Fatal(err)
		}
		if err := w.AddFunction("square", func(job *gearman.Job, _ any) ([]byte, error) {
			n, err := strconv.Atoi(string(job.Workload()))
			if err != nil {
				return nil, err
			}
			return strconv.AppendInt(nil, int64(n*n), 10), nil
		}, nil, 0); err != nil {
			log.Fatal(err)
		}
		go func() { workersDone <- w.Run(ctx) }()
	}

	client, err := gearman.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if err := client.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}

	inputs := []int{3, 1, 4, 1, 5}
	squares := make([]string, len(inputs))
	// Callbacks run on the goroutine calling RunTasks, so squares needs no
	// lock.
	err = client.SetCompleteCallback(func(task *gearman.Task, index any) error {
		squares[index.(int)] = string(task.Data())
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	for i, n := range inputs {
		if _, err := client.AddTask("square", strconv.AppendInt(nil, int64(n), 10), i, ""); err != nil {
			log.Fatal(err)
		}
	}
	if err := client.RunTasks(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(squares)

	stopWorkers()
	for range workers {
		if err := <-workersDone; err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// [9 1 16 1 25]
}

// ExampleWorker_Run is the Go form of PHP's while ($worker->work()) loop in
// a service: Run serves jobs until its context ends, and ending it with
// SIGTERM (what systemd, Docker and Kubernetes send) lets the job in hand
// finish and deliver its result before Run returns.
func ExampleWorker_Run() {
	srv, err := gearmantest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()

	worker, err := gearman.NewWorker()
	if err != nil {
		log.Fatal(err)
	}
	defer worker.Close()
	if err := worker.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}
	err = worker.AddFunction("thumbnail", func(job *gearman.Job, _ any) ([]byte, error) {
		fmt.Printf("working on %s\n", job.Workload())
		// Here the service is told to stop in the middle of a job. The
		// example signals itself; NotifyContext is in force, so the signal
		// ends ctx instead of the process.
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			return nil, err
		}
		<-ctx.Done()
		fmt.Println("SIGTERM received, finishing the job")
		return []byte("thumb-" + string(job.Workload())), nil
	}, nil, 0)
	if err != nil {
		log.Fatal(err)
	}

	// A client elsewhere submits a job.
	client, err := gearman.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if err := client.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}
	reply := make(chan string)
	go func() {
		result, err := client.DoNormal("thumbnail", []byte("cat.jpg"), "")
		if err != nil {
			reply <- err.Error()
			return
		}
		reply <- string(result)
	}()

	// A service's main would end here: serve until SIGTERM.
	err = worker.Run(ctx)
	fmt.Println("Run returned:", err, "/ ctx:", ctx.Err())
	fmt.Println("client got:", <-reply)
	// Output:
	// working on cat.jpg
	// SIGTERM received, finishing the job
	// Run returned: <nil> / ctx: context canceled
	// client got: thumb-cat.jpg
}

// ExampleClient_DoNormal shows how PHP's checks of doNormal's outcome port:
// where PHP returns "" and leaves GEARMAN_WORK_FAIL or
// GEARMAN_WORK_EXCEPTION in $client->returnCode(), Go returns an error that
// errors.Is matches against the same constants. ReturnCode is still there.
func ExampleClient_DoNormal() {
	srv, err := gearmantest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	worker, err := gearman.NewWorker()
	if err != nil {
		log.Fatal(err)
	}
	defer worker.Close()
	if err := worker.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}
	err = worker.AddFunction("parse", func(job *gearman.Job, _ any) ([]byte, error) {
		switch string(job.Workload()) {
		case "null":
			return nil, gearman.WorkFail // PHP: $job->sendFail()
		case "{":
			return nil, errors.New("unexpected end of input") // PHP: throw, or $job->sendException()
		}
		return []byte("ok"), nil
	}, nil, 0)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stopWorker := context.WithCancel(context.Background())
	defer stopWorker() // on early returns; the normal path stops it below
	workerDone := make(chan error, 1)
	go func() { workerDone <- worker.Run(ctx) }()

	client, err := gearman.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if err := client.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}

	for _, workload := range []string{"{}", "null", "{"} {
		result, err := client.DoNormal("parse", []byte(workload), "")
		var gerr *gearman.Error // carries the exception text PHP's doNormal drops
		switch {
		case err == nil:
			fmt.Printf("%q: result %s\n", workload, result)
		case errors.Is(err, gearman.WorkFail):
			fmt.Printf("%q: the worker failed the job\n", workload)
		case errors.As(err, &gerr) && gerr.Code == gearman.WorkException:
			fmt.Printf("%q: exception: %s\n", workload, gerr.Msg)
		default: // the server is unreachable, a timeout, ...
			fmt.Printf("%q: %v\n", workload, err)
		}
		// PHP: $client->returnCode()
		fmt.Println("  returnCode:", client.ReturnCode())
	}

	stopWorker()
	if err := <-workerDone; err != nil {
		log.Fatal(err)
	}
	// Output:
	// "{}": result ok
	//   returnCode: GEARMAN_SUCCESS
	// "null": the worker failed the job
	//   returnCode: GEARMAN_WORK_FAIL
	// "{": exception: unexpected end of input
	//   returnCode: GEARMAN_WORK_EXCEPTION
}

// ExampleWorker_AddFunction ports GearmanWorker::addFunction with its
// $context argument: the value given here is the second argument of every
// call of the function, as in PHP.
func ExampleWorker_AddFunction() {
	srv, err := gearmantest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	worker, err := gearman.NewWorker()
	if err != nil {
		log.Fatal(err)
	}
	defer worker.Close()
	if err := worker.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}
	greet := func(job *gearman.Job, greeting any) ([]byte, error) {
		return fmt.Appendf(nil, "%s, %s!", greeting.(string), job.Workload()), nil
	}
	// $worker->addFunction("greet", "greet", "Hello"); the last argument is
	// addFunction's $timeout (0: none).
	if err := worker.AddFunction("greet", greet, "Hello", 0); err != nil {
		log.Fatal(err)
	}
	ctx, stopWorker := context.WithCancel(context.Background())
	defer stopWorker() // on early returns; the normal path stops it below
	workerDone := make(chan error, 1)
	go func() { workerDone <- worker.Run(ctx) }()

	client, err := gearman.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if err := client.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}
	result, err := client.DoNormal("greet", []byte("Gearman"), "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", result)

	stopWorker()
	if err := <-workerDone; err != nil {
		log.Fatal(err)
	}
	// Output:
	// Hello, Gearman!
}
