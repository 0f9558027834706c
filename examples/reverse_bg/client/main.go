// Command client is the PHP manual's background "reverse" client ported line
// for line to package gearman; each block quotes the PHP line it ports. It
// submits "this is a test" to the function "reverse" as a background job, then
// asks the server for the job's status every -poll until the server no longer
// knows the job, and prints "done!". The job is served by the basic reverse
// worker, ../../reverse/worker; this example has no worker of its own:
//
//	go run ./examples/reverse/worker -host 127.0.0.1 -port 4730 &
//	go run ./examples/reverse_bg/client -host 127.0.0.1 -port 4730
//
// The PHP text is Example #1 of GearmanClient::doBackground, "Submit and
// monitor a background job" (php.net/manual/en/gearmanclient.dobackground.php).
// The manual's Examples chapter has the same client under "Basic Gearman client
// and worker, background" (gearman.examples-reverse-bg), but there it stops
// after the returnCode check and prints "done!" at once; the monitoring loop
// below is the method page's.
//
// Go additions: the flags below, errors reported instead of ignored, and a
// non-zero exit status when the job cannot be submitted or its status cannot
// be read.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/libgearman-go/gearman"
)

var (
	host = flag.String("host", "localhost", "gearmand host (PHP's addServer() default is localhost)")
	port = flag.Int("port", 4730, "gearmand port (PHP's addServer() default is 4730)")
	poll = flag.Duration("poll", 3*time.Second, "pause before each status request (PHP: sleep(3))")
)

func main() {
	flag.Parse()
	os.Exit(run())
}

func run() int {
	// $gmclient= new GearmanClient();
	gmclient, err := gearman.NewClient()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer gmclient.Close()

	// $gmclient->addServer();
	if err := gmclient.AddServer(*host, *port); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	// $job_handle = $gmclient->doBackground("reverse", "this is a test");
	jobHandle, err := gmclient.DoBackground("reverse", []byte("this is a test"), "")

	// if ($gmclient->returnCode() != GEARMAN_SUCCESS)
	if gmclient.ReturnCode() != gearman.Success || err != nil {
		// echo "bad return code\n"; exit;
		fmt.Print("bad return code\n")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		return 1 // PHP's exit; ends with status 0: exit 1 so scripts notice
	}

	// $done = false;
	done := false
	// do {
	for {
		// sleep(3);
		time.Sleep(*poll)
		// $stat = $gmclient->jobStatus($job_handle);
		stat, err := gmclient.JobStatus(jobHandle)
		if err != nil {
			// PHP warns and gets an empty array, which ends the loop as
			// "not known"; Go says why and exits 1.
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// if (!$stat[0]) // the job is known so it is not done
		if !stat.Known {
			// $done = true;
			done = true
		}
		// echo "Running: " . ($stat[1] ? "true" : "false") . ", numerator: " . $stat[2] .
		//      ", denominator: " . $stat[3] . "\n";
		fmt.Printf("Running: %t, numerator: %d, denominator: %d\n", stat.Running, stat.Numerator, stat.Denominator)

		// } while(!$done);
		if done {
			break
		}
	}

	// echo "done!\n";
	fmt.Print("done!\n")
	return 0
}
