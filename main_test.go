package gearman_test

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/libgearman-go/gearman/gearmantest"
)

// TestMain keeps a machine without gearmand usable for development. The
// tests skip themselves there (gearmantest.NewServer), but an Example cannot
// skip, so they are left out with -skip, saying so rather than pretending to
// have run. Under CI=true nothing is left out: a missing gearmand must fail
// loudly there.
//
// Run with LIBGEARMAN_GO_TEST_ECHO_WORKER set, the binary is only an echo
// worker (startEchoWorkerProcess).
func TestMain(m *testing.M) {
	if addr := os.Getenv(echoWorkerEnv); addr != "" {
		if err := runEchoWorkerProcess(addr); err != nil {
			fmt.Fprintln(os.Stderr, "echo worker process:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	flag.Parse()
	if _, err := gearmantest.Binary(); err != nil && os.Getenv("CI") != "true" {
		fmt.Fprintf(os.Stderr, "gearman_test: not running the Example functions: %v\n", err)
		skip := "^Example"
		if old := flag.Lookup("test.skip").Value.String(); old != "" {
			skip = old + "|" + skip // a top-level | keeps the user's pattern whole
		}
		if err := flag.Set("test.skip", skip); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}
