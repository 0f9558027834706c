// Command client is the PHP manual's basic "reverse" client ported line for
// line to package gearman; each block quotes the PHP line it ports. It submits
// "Hello!" to the function "reverse" (served by ../worker) and prints what
// comes back:
//
//	go run ./examples/reverse/worker -host 127.0.0.1 -port 4730 &
//	go run ./examples/reverse/client -host 127.0.0.1 -port 4730
//
// Go additions: the flags below, errors reported instead of ignored, and a
// non-zero exit status when the job fails.
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

	// echo "Sending job\n";
	fmt.Print("Sending job\n")

	// do {
	for {
		// $result = $gmclient->doNormal("reverse", "Hello!");
		result, err := gmclient.DoNormal("reverse", []byte("Hello!"), "")

		// switch($gmclient->returnCode()) {
		switch gmclient.ReturnCode() {
		// case GEARMAN_WORK_DATA:
		case gearman.WorkData:
			// echo "Data: $result\n"; break;
			fmt.Printf("Data: %s\n", result)
		// case GEARMAN_WORK_STATUS:
		case gearman.WorkStatus:
			// list($numerator, $denominator)= $gmclient->doStatus();
			numerator, denominator := gmclient.DoStatus()
			// echo "Status: $numerator/$denominator complete\n"; break;
			fmt.Printf("Status: %d/%d complete\n", numerator, denominator)
		// case GEARMAN_WORK_FAIL:
		case gearman.WorkFail:
			// echo "Failed\n"; exit;
			fmt.Print("Failed\n")
			return 1 // PHP's exit; ends with status 0: exit 1 so scripts notice
		// case GEARMAN_SUCCESS:
		case gearman.Success:
			// echo "Success: $result\n"; break;
			fmt.Printf("Success: %s\n", result)
		// default:
		default:
			// echo "RET: " . $gmclient->returnCode() . "\n"; exit;
			fmt.Printf("RET: %v\n", gmclient.ReturnCode())
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
			return 1
		}

		// } while($gmclient->returnCode() != GEARMAN_SUCCESS);
		if gmclient.ReturnCode() == gearman.Success {
			break
		}
	}
	return 0
}
