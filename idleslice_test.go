package gearman_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// A worker asleep waiting for a job asks again after each idle slice
// (worknet.go), as libgearman's poll timeout once made it do. These tests
// hold the slices to the three things that timeout did or must not do.

// A worker idling on one server registers with another that comes up
// meanwhile: only a new GRAB_JOB reconnects, so without the slices the
// worker would sleep on the first server for ever.
func TestIdleWorkerFindsServerThatCameUp(t *testing.T) {
	s0, s1 := gearmantest.NewServer(t), gearmantest.NewServer(t)
	s1.Stop()
	w := fltWorker(t, s0.Addr()+","+s1.Addr())
	require.NoError(t, w.AddFunction("dog-up", echo, nil, 0))
	fltRun(t, w)
	fltWaitWorkers(t, s0.Addr(), 5*time.Second, "dog-up")
	time.Sleep(300 * time.Millisecond) // asleep on s0, in a wait without a poll timeout
	requireServedOnceUp(t, s1, "dog-up")
}

// requireServedOnceUp starts srv again and requires an echo worker that was
// idling on another server to register with it and run a job there.
func requireServedOnceUp(t *testing.T, srv *gearmantest.Server, function string) {
	t.Helper()
	srv.Restart()
	fltWaitWorkers(t, srv.Addr(), 10*time.Second, function)
	c := fltClient(t, srv.Addr())
	out, d, err := fltCall(t, 10*time.Second, "DoNormal on the server that came up", func() ([]byte, error) {
		return c.DoNormal(function, []byte("late"), "")
	})
	require.NoError(t, err, "after %v", d)
	require.Equal(t, "late", string(out))
}

// A plain Work waits across several slices for its job, on the connection it
// started with: the end of a slice is not treated as an error, and the
// libgearman worker is not rebuilt for it.
func TestWorkWaitsAcrossSlices(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w := fltWorker(t, srv.Addr())
	ran := make(chan string, 1)
	require.NoError(t, w.AddFunction("dog-wait", func(job *gearman.Job, _ any) ([]byte, error) {
		ran <- string(job.Workload())
		return job.Workload(), nil
	}, nil, 0))

	worked := make(chan error, 1)
	go func() { worked <- w.Work() }()
	waitForWorker(t, srv, "dog-wait")
	before := establishedTo(t, srv.Port())
	require.Len(t, before, 1, "the worker's connections to gearmand")

	time.Sleep(4500 * time.Millisecond) // two slices of 2 s
	select {
	case err := <-worked:
		t.Fatalf("Work returned %v with no job submitted", err)
	default:
	}
	require.Equal(t, before, establishedTo(t, srv.Port()), "the worker reconnected while idle")

	c := fltClient(t, srv.Addr())
	_, err := c.DoBackground("dog-wait", []byte("after the slices"), "")
	require.NoError(t, err)
	select {
	case err := <-worked:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Work did not run the job within 10 s")
	}
	require.Equal(t, "after the slices", <-ran)
}

// A slice never interrupts a running job: a job that outlasts the slice
// and then sends a result too large for the socket buffers (so that
// libgearman waits while sending it) still delivers the whole result.
func TestSliceSparesJobOutlastingIt(t *testing.T) {
	srv := gearmantest.NewServer(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 24<<20/16)
	startWorker(t, srv, map[string]gearman.WorkerFunc{
		"dog-long": func(job *gearman.Job, _ any) ([]byte, error) {
			time.Sleep(2600 * time.Millisecond) // past the 2 s slice
			if err := job.SendData(big[:8<<20]); err != nil {
				return nil, err
			}
			return big, nil
		},
	})
	c := newClient(t, srv)
	require.NoError(t, c.SetTimeout(30000))
	out, d, err := fltCall(t, 40*time.Second, "DoNormal of a long job", func() ([]byte, error) {
		return c.DoNormal("dog-long", []byte("x"), "")
	})
	require.NoError(t, err, "after %v", d)
	want := append(big[:8<<20:8<<20], big...) // DoNormal returns the WORK_DATA chunk, then the result
	require.Equal(t, len(want), len(out))
	require.True(t, bytes.Equal(want, out), "the result arrived changed")
}

// establishedTo lists the local ports of this machine's established IPv4
// TCP connections to 127.0.0.1:port, from /proc/net/tcp.
func establishedTo(t *testing.T, port int) []string {
	t.Helper()
	f, err := os.Open("/proc/net/tcp")
	require.NoError(t, err)
	defer f.Close()
	remote := fmt.Sprintf("0100007F:%04X", port)
	var local []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// sl local_address rem_address st ...; st 01 is ESTABLISHED
		if len(fields) > 3 && fields[2] == remote && fields[3] == "01" {
			local = append(local, fields[1])
		}
	}
	require.NoError(t, sc.Err())
	return local
}
