package gearman_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// benchServer returns the address of a gearmand that has an "echo" worker:
// $GEARMAN_BENCH_SERVER (host:port) when set, so that the server and worker
// can run in other processes pinned to another CPU, else a gearmand and a
// worker process started here (so that allocs/op counts the client's only).
func benchServer(b *testing.B) (host string, port int) {
	if addr := os.Getenv("GEARMAN_BENCH_SERVER"); addr != "" {
		h, p, err := net.SplitHostPort(addr)
		require.NoError(b, err)
		port, err := strconv.Atoi(p)
		require.NoError(b, err)
		return h, port
	}
	srv := gearmantest.NewServer(b)
	startEchoWorkerProcess(b, srv)
	return srv.Host(), srv.Port()
}

func benchClient(b *testing.B) *gearman.Client {
	host, port := benchServer(b)
	c, err := gearman.NewClient()
	require.NoError(b, err)
	b.Cleanup(func() { c.Close() })
	require.NoError(b, c.AddServer(host, port))
	return c
}

// BenchmarkRunTasks50k adds 50 000 tasks and runs them with one RunTasks
// against one echo worker, reporting jobs/s. libgearman alone is far slower
// here (its task matching is quadratic; docs/benchmarks.md); the binding's
// window keeps that linear.
//
//	go test -run '^$' -bench RunTasks50k -benchtime 1x
func BenchmarkRunTasks50k(b *testing.B) {
	benchRunTasks(b, benchClient(b), 50000)
}

// benchRunTasks runs b.N rounds of n 100-byte "echo" tasks on c, one
// RunTasks a round, and reports jobs/s.
func benchRunTasks(b *testing.B, c *gearman.Client, n int) {
	payload := make([]byte, 100)
	completed := 0
	require.NoError(b, c.SetCompleteCallback(func(*gearman.Task, any) error { completed++; return nil }))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < n; j++ {
			if _, err := c.AddTask("echo", payload, nil, ""); err != nil {
				b.Fatal(err)
			}
		}
		if err := c.RunTasks(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	require.Equal(b, n*b.N, completed)
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "jobs/s")
}

// BenchmarkRunTasksServers runs 3 000 tasks with one RunTasks against one
// job server and against three, with three echo worker processes either way
// (one per server, or all on the one), reporting jobs/s: what spreading the
// tasks over the servers (taskroutes.go) costs or gains on one machine.
//
//	go test -run '^$' -bench RunTasksServers -benchtime 5x -count 5
func BenchmarkRunTasksServers(b *testing.B) {
	for _, servers := range []int{1, 3} {
		b.Run(strconv.Itoa(servers), func(b *testing.B) {
			var addrs []string
			var srvs []*gearmantest.Server
			for i := range servers {
				srv := gearmantest.NewServer(b, gearmantest.WithArgs("--job-handle-prefix=B"+strconv.Itoa(i)))
				srvs = append(srvs, srv)
				addrs = append(addrs, srv.Addr())
			}
			for i := range 3 {
				startEchoWorkerProcess(b, srvs[i%servers])
			}
			c, err := gearman.NewClient()
			require.NoError(b, err)
			b.Cleanup(func() { c.Close() })
			require.NoError(b, c.AddServers(strings.Join(addrs, ",")))
			const n = 3000
			cpu := fltCPU(b)
			benchRunTasks(b, c, n)
			b.ReportMetric(float64((fltCPU(b)-cpu).Microseconds())/float64(n*b.N), "client-cpu-µs/job")
		})
	}
}

// BenchmarkDoNormal runs sequential 100-byte DoNormal calls against one echo
// worker and counts Go allocations per call.
func BenchmarkDoNormal(b *testing.B) {
	c := benchClient(b)
	payload := make([]byte, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.DoNormalContext(context.Background(), "echo", payload, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}

// BenchmarkDoNormal1MiB runs sequential 1 MiB DoNormal calls with the
// large-payload fix on and off (SetSendBufferFix).
func BenchmarkDoNormal1MiB(b *testing.B) {
	payload := make([]byte, 1<<20)
	defer gearman.SetSendBufferFix(gearman.SendBufferFix())
	for _, fix := range []bool{true, false} {
		name := map[bool]string{true: "fix", false: "pinned"}[fix]
		b.Run(name, func(b *testing.B) {
			gearman.SetSendBufferFix(fix)
			c := benchClient(b) // connects with this setting
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.DoNormal("echo", payload, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
		})
	}
}

// benchSleepWorker runs a Worker with n slots of a function "sleep50" that
// holds each job 50 ms, and waits until gearmand lists it.
func benchSleepWorker(b *testing.B, srv *gearmantest.Server, n int) {
	w, err := gearman.NewWorker()
	require.NoError(b, err)
	require.NoError(b, w.AddServer(srv.Host(), srv.Port()))
	require.NoError(b, w.SetConcurrency(n))
	require.NoError(b, w.AddFunction("sleep50", sleepFunction(50*time.Millisecond), nil, 0))
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		w.Run(ctx)
	}()
	b.Cleanup(func() {
		stop()
		<-ran
		w.Close()
	})
	require.True(b, eventually(concurrencyLimit, func() bool {
		_, _, workers, _ := fltStatus(srv.Addr(), "sleep50")
		return workers >= 1
	}), "the worker registered")
}

// sleepFunction is a worker function that holds each job for d.
func sleepFunction(d time.Duration) gearman.WorkerFunc {
	return func(job *gearman.Job, _ any) ([]byte, error) {
		time.Sleep(d)
		return job.Workload(), nil
	}
}

// BenchmarkSharedClient16x4 is issue 17's first target: 16 goroutines share
// one Client and each makes 4 DoNormal calls in turn, of jobs that take
// 50 ms, against 16 worker slots. One op is the whole round (ideal: 0.2 s).
func BenchmarkSharedClient16x4(b *testing.B) {
	srv := gearmantest.NewServer(b)
	benchSleepWorker(b, srv, 16)
	c := newClient(b, srv)
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 4 {
					_, err := c.DoNormal("sleep50", []byte("x"), "")
					require.NoError(b, err)
				}
			}()
		}
		wg.Wait()
	}
}

// BenchmarkConcurrency8 is issue 17's SetConcurrency target: 32 Clients each
// submit one job of 50 ms to one Worker with SetConcurrency(8). One op is the
// whole round (ideal: 0.2 s).
func BenchmarkConcurrency8(b *testing.B) {
	srv := gearmantest.NewServer(b)
	benchSleepWorker(b, srv, 8)
	clients := make([]*gearman.Client, 32)
	for i := range clients {
		clients[i] = newClient(b, srv)
	}
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.DoNormal("sleep50", []byte("x"), "")
				require.NoError(b, err)
			}()
		}
		wg.Wait()
	}
}
