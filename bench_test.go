package gearman_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// BenchmarkRunTasks50k adds 50 000 tasks and runs them with one RunTasks
// against one echo worker, reporting jobs/s. libgearman alone manages about
// 640 jobs/s here (its task matching is quadratic); the binding's window
// keeps that linear.
//
//	go test -run '^$' -bench RunTasks50k -benchtime 1x
func BenchmarkRunTasks50k(b *testing.B) {
	const n = 50000
	srv := gearmantest.NewServer(b)
	startWorker(b, srv, map[string]gearman.WorkerFunc{"echo": echo})
	c := newClient(b, srv)
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
	srv := gearmantest.NewServer(b)
	startWorker(b, srv, map[string]gearman.WorkerFunc{"echo": echo})
	c := newClient(b, srv)
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
