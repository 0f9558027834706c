package gearman_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"

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
// against one echo worker, reporting jobs/s. libgearman alone manages about
// 640 jobs/s here (its task matching is quadratic); the binding's window
// keeps that linear.
//
//	go test -run '^$' -bench RunTasks50k -benchtime 1x
func BenchmarkRunTasks50k(b *testing.B) {
	const n = 50000
	c := benchClient(b)
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
