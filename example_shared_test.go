package gearman_test

import (
	"context"
	"fmt"
	"log"
	"slices"
	"strings"
	"sync"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/admin"
	"github.com/libgearman-go/gearman/gearmantest"
)

// Example_sharedClient is the Go way to use the package in a service: one
// Client shared by every goroutine, as a *sql.DB is, and one Worker that
// serves several jobs at once (SetConcurrency). The eight calls below are in
// flight together on the Client's one connection; none waits for another.
func Example_sharedClient() {
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
	if err := worker.SetConcurrency(4); err != nil {
		log.Fatal(err)
	}
	err = worker.AddFunction("upper", func(job *gearman.Job, _ any) ([]byte, error) {
		return []byte(strings.ToUpper(string(job.Workload()))), nil
	}, nil, 0)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error)
	go func() { served <- worker.Run(ctx) }()

	client, err := gearman.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if err := client.AddServer(srv.Host(), srv.Port()); err != nil {
		log.Fatal(err)
	}

	var mu sync.Mutex
	var results []string
	var wg sync.WaitGroup
	for _, word := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := client.DoNormal("upper", []byte(word), "")
			if err != nil {
				log.Print(err)
				return
			}
			mu.Lock()
			results = append(results, string(out))
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(results)
	fmt.Println(results)

	stop()
	fmt.Println("Run returned:", <-served)
	// Output:
	// [A B C D E F G H]
	// Run returned: <nil>
}

// ExampleClient_AddServers shows how a Client spreads its jobs over several
// job servers: jobs without a unique key take turns, and jobs with one go to
// the server its hash picks, so that the server coalesces them into one job.
func ExampleClient_AddServers() {
	var addrs []string
	for range 3 {
		srv, err := gearmantest.Start()
		if err != nil {
			log.Fatal(err)
		}
		defer srv.Close()
		addrs = append(addrs, srv.Addr())
	}

	client, err := gearman.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if err := client.AddServers(strings.Join(addrs, ",")); err != nil {
		log.Fatal(err)
	}
	for range 30 {
		if _, err := client.DoBackground("resize", []byte("img"), ""); err != nil {
			log.Fatal(err)
		}
		if _, err := client.DoBackground("report", []byte("daily"), "report-2026-12-07"); err != nil {
			log.Fatal(err)
		}
	}

	// No worker runs: every job stays queued where it went.
	for i, addr := range addrs {
		queued := map[string]int{}
		ac, err := admin.Dial(context.Background(), addr)
		if err != nil {
			log.Fatal(err)
		}
		status, err := ac.Status(context.Background())
		ac.Close()
		if err != nil {
			log.Fatal(err)
		}
		for _, f := range status {
			queued[f.Name] = f.Total
		}
		fmt.Printf("server %d: %d resize jobs\n", i+1, queued["resize"])
	}
	st, err := client.JobStatusByUniqueKey("report-2026-12-07")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("the report job is known:", st.Known)
	// Output:
	// server 1: 10 resize jobs
	// server 2: 10 resize jobs
	// server 3: 10 resize jobs
	// the report job is known: true
}
