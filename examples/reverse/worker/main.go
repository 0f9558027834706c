// Command worker is the PHP manual's basic "reverse" worker ported line for
// line to package gearman; each block quotes the PHP line it ports. It
// registers the function "reverse", and for every job sends one status update
// and one data packet per byte of the workload, then returns the reversed
// workload. Run it next to ../client:
//
//	go run ./examples/reverse/worker -host 127.0.0.1 -port 4730 &
//	go run ./examples/reverse/client -host 127.0.0.1 -port 4730
//
// Go additions: the flags below, and errors reported instead of ignored.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/libgearman-go/gearman"
)

var (
	host  = flag.String("host", "localhost", "gearmand host (PHP's addServer() default is localhost)")
	port  = flag.Int("port", 4730, "gearmand port (PHP's addServer() default is 4730)")
	delay = flag.Duration("delay", time.Second, "pause after each byte (PHP: sleep(1))")
	count = flag.Int("count", 0, "exit after this many jobs (0 = run forever)")
)

// jobsDone counts finished jobs for -count. reverseFn runs inside Work, on
// the goroutine that calls Work, so no locking is needed.
var jobsDone int

func main() {
	flag.Parse()
	os.Exit(run())
}

func run() int {
	// $gmworker= new GearmanWorker();
	gmworker, err := gearman.NewWorker()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer gmworker.Close()

	// $gmworker->addServer();
	if err := gmworker.AddServer(*host, *port); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	// $gmworker->addFunction("reverse", "reverse_fn");
	if err := gmworker.AddFunction("reverse", reverseFn, nil, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	// print "Waiting for job...\n";
	fmt.Print("Waiting for job...\n")

	// while($gmworker->work()) {
	for {
		if err := gmworker.Work(); err != nil {
			// PHP's loop ends silently when work() returns false; Go says why.
			fmt.Fprintln(os.Stderr, "work:", err)
			return 1
		}
		// if ($gmworker->returnCode() != GEARMAN_SUCCESS) {
		if gmworker.ReturnCode() != gearman.Success {
			// echo "return_code: " . $gmworker->returnCode() . "\n"; break;
			fmt.Printf("return_code: %v\n", gmworker.ReturnCode())
			break
		}
		// Go addition: -count N stops after N jobs.
		if *count > 0 && jobsDone >= *count {
			break
		}
	}
	return 0
}

// function reverse_fn($job)
func reverseFn(job *gearman.Job, _ any) ([]byte, error) {
	// echo "Received job: " . $job->handle() . "\n";
	fmt.Printf("Received job: %s\n", job.Handle())

	// $workload = $job->workload();
	workload := job.Workload()
	// $workload_size = $job->workloadSize();
	workloadSize := job.WorkloadSize()

	// echo "Workload: $workload ($workload_size)\n";
	fmt.Printf("Workload: %s (%d)\n", workload, workloadSize)

	// for ($x= 0; $x < $workload_size; $x++) {
	for x := 0; x < workloadSize; x++ {
		// echo "Sending status: " . ($x + 1) . "/$workload_size complete\n";
		fmt.Printf("Sending status: %d/%d complete\n", x+1, workloadSize)
		// $job->sendStatus($x+1, $workload_size);
		if err := job.SendStatus(x+1, workloadSize); err != nil {
			return nil, err
		}
		// $job->sendData(substr($workload, $x, 1));
		if err := job.SendData(workload[x : x+1]); err != nil {
			return nil, err
		}
		// sleep(1);
		time.Sleep(*delay)
	}

	// $result= strrev($workload);
	result := strrev(workload)
	// echo "Result: $result\n";
	fmt.Printf("Result: %s\n", result)

	jobsDone++
	// return $result;
	return result, nil
}

// strrev is PHP's strrev: the bytes of s in reverse order, in a new slice.
func strrev(s []byte) []byte {
	r := make([]byte, len(s))
	for i, b := range s {
		r[len(s)-1-i] = b
	}
	return r
}
