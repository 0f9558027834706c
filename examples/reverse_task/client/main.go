// Command client is the PHP manual's "reverse" client with tasks ported line
// for line to package gearman; each block quotes the PHP line it ports. It
// sets the created, data, status, complete and fail callbacks, adds two
// "reverse" tasks ("foo" at normal priority with some application data as
// context, "bar" at low priority), runs them, and prints what each callback
// sees. The tasks are served by the basic reverse worker, ../../reverse/worker,
// which already sends data back during processing as this example's worker
// does; this example has no worker of its own. Start the worker twice to run
// the two tasks in parallel, as the PHP comment assumes:
//
//	go run ./examples/reverse/worker -host 127.0.0.1 -port 4730 &
//	go run ./examples/reverse/worker -host 127.0.0.1 -port 4730 &
//	go run ./examples/reverse_task/client -host 127.0.0.1 -port 4730
//
// The PHP text is the manual's Examples chapter, "Basic Gearman client and
// worker, submitting tasks" (php.net/manual/en/gearman.examples-reverse-task.php).
//
// Go additions: the flags below, errors reported instead of ignored, and a
// non-zero exit status when the tasks cannot be added or run.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/libgearman-go/gearman"
)

var (
	host = flag.String("host", "localhost", "gearmand host (PHP's addServer() default is localhost)")
	port = flag.Int("port", 4730, "gearmand port (PHP's addServer() default is 4730)")
)

func main() {
	flag.Parse()
	os.Exit(run())
}

func run() int {
	// $gmc= new GearmanClient();
	gmc, err := gearman.NewClient()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer gmc.Close()

	// $gmc->addServer();
	if err := gmc.AddServer(*host, *port); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	// $gmc->setCreatedCallback("reverse_created");
	if err := gmc.SetCreatedCallback(reverseCreated); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// $gmc->setDataCallback("reverse_data");
	if err := gmc.SetDataCallback(reverseData); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// $gmc->setStatusCallback("reverse_status");
	if err := gmc.SetStatusCallback(reverseStatus); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// $gmc->setCompleteCallback("reverse_complete");
	if err := gmc.SetCompleteCallback(reverseComplete); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// $gmc->setFailCallback("reverse_fail");
	if err := gmc.SetFailCallback(reverseFail); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	// $data['foo'] = 'bar';
	data := map[string]string{"foo": "bar"}

	// $task= $gmc->addTask("reverse", "foo", $data);
	// (PHP keeps $task and $task2 but never uses them; Go discards them.)
	if _, err := gmc.AddTask("reverse", []byte("foo"), data, ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// $task2= $gmc->addTaskLow("reverse", "bar", NULL);
	if _, err := gmc.AddTaskLow("reverse", []byte("bar"), nil, ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	// if (! $gmc->runTasks())
	if err := gmc.RunTasks(); err != nil {
		// echo "ERROR " . $gmc->error() . "\n"; exit;
		fmt.Printf("ERROR %s\n", gmc.LastError())
		if gmc.LastError() == "" {
			fmt.Fprintln(os.Stderr, err) // a Go-side error libgearman never saw
		}
		return 1 // PHP's exit; ends with status 0: exit 1 so scripts notice
	}

	// echo "DONE\n";
	fmt.Print("DONE\n")
	return 0
}

// The PHP callbacks return nothing, which the extension takes as
// GEARMAN_SUCCESS; in Go that is a nil error.

// function reverse_created($task)
func reverseCreated(task *gearman.Task, _ any) error {
	// echo "CREATED: " . $task->jobHandle() . "\n";
	fmt.Printf("CREATED: %s\n", task.JobHandle())
	return nil
}

// function reverse_status($task)
func reverseStatus(task *gearman.Task, _ any) error {
	// echo "STATUS: " . $task->jobHandle() . " - " . $task->taskNumerator() .
	//      "/" . $task->taskDenominator() . "\n";
	fmt.Printf("STATUS: %s - %d/%d\n", task.JobHandle(), task.TaskNumerator(), task.TaskDenominator())
	return nil
}

// function reverse_complete($task)
func reverseComplete(task *gearman.Task, _ any) error {
	// echo "COMPLETE: " . $task->jobHandle() . ", " . $task->data() . "\n";
	fmt.Printf("COMPLETE: %s, %s\n", task.JobHandle(), task.Data())
	return nil
}

// function reverse_fail($task)
func reverseFail(task *gearman.Task, _ any) error {
	// echo "FAILED: " . $task->jobHandle() . "\n";
	fmt.Printf("FAILED: %s\n", task.JobHandle())
	return nil
}

// function reverse_data($task)
func reverseData(task *gearman.Task, _ any) error {
	// echo "DATA: " . $task->data() . "\n";
	fmt.Printf("DATA: %s\n", task.Data())
	return nil
}
