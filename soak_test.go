//go:build cgo && linux

package gearman

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman/gearmantest"
)

// TestSoak pushes GEARMAN_SOAK_JOBS jobs through one client and one worker,
// half as sequential DoNormal calls and half as tasks in RunTasks batches,
// and checks that memory stays flat and every cgo.Handle is released. It is
// not part of the default run (docs/reliability.md):
//
//	GEARMAN_SOAK_JOBS=1000000 go test -run TestSoak -timeout 2h -v .
//
// With a small count under AddressSanitizer it also proves that no C memory
// leaks (Go 1.25+ reports leaks at exit with -asan):
//
//	GEARMAN_SOAK_JOBS=20000 go test -asan -run TestSoak -v .
func TestSoak(t *testing.T) {
	total, _ := strconv.Atoi(os.Getenv("GEARMAN_SOAK_JOBS"))
	if total <= 0 {
		t.Skip("set GEARMAN_SOAK_JOBS to run the soak (docs/reliability.md)")
	}
	srv := gearmantest.NewServer(t)
	handlesBefore := liveHandles.Load()

	w, err := NewWorker()
	require.NoError(t, err)
	require.NoError(t, w.AddServer(srv.Host(), srv.Port()))
	require.NoError(t, w.AddFunction("echo", func(j *Job, _ any) ([]byte, error) { return j.Workload(), nil }, nil, 0))
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- w.Run(ctx) }()

	c, err := NewClient()
	require.NoError(t, err)
	require.NoError(t, c.AddServer(srv.Host(), srv.Port()))
	completed := 0
	require.NoError(t, c.SetCompleteCallback(func(*Task, any) error { completed++; return nil }))

	payload := []byte(strings.Repeat("x", 100))
	const batch = 1000
	done := 0
	run := func(n int) {
		for done < n {
			if (done/batch)%2 == 0 {
				for i := 0; i < batch; i++ {
					res, err := c.DoNormal("echo", payload, "")
					require.NoError(t, err)
					require.Len(t, res, len(payload))
				}
			} else {
				want := completed + batch
				for i := 0; i < batch; i++ {
					_, err := c.AddTask("echo", payload, nil, "")
					require.NoError(t, err)
				}
				require.NoError(t, c.RunTasks())
				require.Equal(t, want, completed)
			}
			done += batch
		}
	}

	start := time.Now()
	const warm = 100000 // the RSS baseline: after the first 100 000 jobs
	run(min(warm, total))
	rssWarm := settledRSS(t)
	t.Logf("after %d jobs: RSS %d KiB, %d live handles (%.0f jobs/s)", done, rssWarm, liveHandles.Load()-handlesBefore,
		float64(done)/time.Since(start).Seconds())
	run(total)
	rssEnd := settledRSS(t)
	t.Logf("after %d jobs: RSS %d KiB (%+.1f%%), %d live handles (%.0f jobs/s overall)", done, rssEnd,
		100*float64(rssEnd-rssWarm)/float64(rssWarm), liveHandles.Load()-handlesBefore, float64(done)/time.Since(start).Seconds())

	require.NoError(t, c.Close())
	stop()
	require.NoError(t, <-served)
	require.NoError(t, w.Close())
	require.Equal(t, handlesBefore, liveHandles.Load(), "every cgo.Handle released")
	if total > warm {
		require.LessOrEqual(t, float64(rssEnd), 1.10*float64(rssWarm), "RSS within 10% of the figure after 100 000 jobs")
	}
}

// settledRSS returns the process's resident set in KiB after a GC.
func settledRSS(t *testing.T) int64 {
	t.Helper()
	runtime.GC()
	data, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int64
			_, err := fmt.Sscan(rest, &kib)
			require.NoError(t, err)
			return kib
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}
