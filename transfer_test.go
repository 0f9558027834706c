package gearman_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// TestLargeJobsCrossSliceEndsUnderLoad sends large jobs to fresh workers on
// a loaded machine, timed so that their transfer is under way when the
// worker's idle slice ends. Every interrupt that lands in the
// middle of a transfer must wait for the transfer: each job runs once, and
// its result comes back byte for byte (libgearman 1.1.20 reads the rest of
// an interrupted job into freed memory).
func TestLargeJobsCrossSliceEndsUnderLoad(t *testing.T) {
	const slice = 300 * time.Millisecond
	trials := uint64(40)
	if raceDetector {
		trials = 12
	}
	defer gearman.ShortenIdleSliceForTest(slice)()
	startBusyLoops(t, 2)
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	runs := &runCounter{seen: map[uint64]int{}}

	heldBefore := gearman.WireHeldWaits()
	for trial := range trials {
		size := 16 << 20
		if trial%2 == 0 {
			size = 64 << 20
		}
		workload := patterned(trial, size)
		w, stop, done := runFreshWorker(t, srv, "xfer", runs.echo)
		// The worker's wait began about now: start the transfer somewhere
		// in its first slice, so that the slice ends while bytes flow.
		time.Sleep(time.Duration(rand.Int64N(int64(slice))))
		got, err := c.DoNormal("xfer", workload, "")
		require.NoError(t, err, "trial %d (%d MiB)", trial, size>>20)
		require.True(t, bytes.Equal(workload, got), "trial %d (%d MiB): the result differs from the workload at byte %d",
			trial, size>>20, firstDifference(workload, got))
		require.Equal(t, 1, runs.count(trial), "trial %d: runs of the job", trial)
		stop()
		require.NoError(t, <-done)
		require.NoError(t, w.Close())
	}
	// A job handed back by a dropped connection would run again later.
	badRequireQueues(t, srv, map[string]int{"xfer": 0})
	for trial := range trials {
		require.Equal(t, 1, runs.count(trial), "trial %d: runs of the job at the end", trial)
	}
	t.Logf("waits held past an interrupt or a timeout mid-transfer: %d", gearman.WireHeldWaits()-heldBefore)
	require.Positive(t, gearman.WireHeldWaits()-heldBefore,
		"no slice ended during a transfer: the test did not test what it is for")
}

// runFreshWorker starts a new worker that serves fn as function with Run
// until stop is called or it is closed, and waits until gearmand lists it;
// done reports what Run returned. Unlike startWorker, the test controls
// when it ends.
func runFreshWorker(t *testing.T, srv *gearmantest.Server, function string,
	fn gearman.WorkerFunc) (w *gearman.Worker, stop context.CancelFunc, done <-chan error) {
	t.Helper()
	w = newWorker(t, srv)
	require.NoError(t, w.AddFunction(function, fn, nil, 0))
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	ran := make(chan error, 1)
	go func() { ran <- w.Run(ctx) }()
	waitForWorker(t, srv, function)
	return w, stop, ran
}

// runCounter counts the runs of each job, keyed by the number its workload
// starts with.
type runCounter struct {
	mu      sync.Mutex
	seen    map[uint64]int
	damaged map[uint64]bool // the workload was not patterned(id, its size)
}

func (r *runCounter) echo(job *gearman.Job, _ any) ([]byte, error) {
	in := job.Workload()
	if len(in) >= 8 {
		id := binary.BigEndian.Uint64(in)
		intact := isPatterned(in)
		r.mu.Lock()
		r.seen[id]++
		if !intact {
			if r.damaged == nil {
				r.damaged = map[uint64]bool{}
			}
			r.damaged[id] = true
		}
		r.mu.Unlock()
	}
	return in, nil
}

func (r *runCounter) intact(id uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.damaged[id]
}

func (r *runCounter) count(id uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id]
}

// patterned returns size bytes that start with id and hold no zero byte
// and no period short of 16 MiB, so that a lost or zeroed stretch shows.
func patterned(id uint64, size int) []byte {
	b := bytes.Clone(pattern(size))
	binary.BigEndian.PutUint64(b, id)
	return b
}

// isPatterned reports whether b is patterned(id, len(b)) for its id.
func isPatterned(b []byte) bool {
	return len(b) >= 8 && bytes.Equal(b[8:], pattern(len(b))[8:])
}

var patterns sync.Map // size -> []byte, made once: a byte loop is slow under -race

func pattern(size int) []byte {
	if p, ok := patterns.Load(size); ok {
		return p.([]byte)
	}
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7+i>>16) | 1
	}
	p, _ := patterns.LoadOrStore(size, b)
	return p.([]byte)
}

func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// startBusyLoops keeps n processes spinning on the CPUs until the test ends:
// the load under which the bugs these tests guard against were found.
func startBusyLoops(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		cmd := exec.Command("sh", "-c", "while :; do :; done")
		require.NoError(t, cmd.Start(), "busy loop %d", i)
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Errorf("busy loop: %v", err)
			}
		})
	}
}

// TestTimeoutsSpareTransfersUnderLoad sends large jobs to a worker whose
// timeout is 1 ms, on a loaded machine, where the bytes of a job arrive with
// gaps longer than that. A gap inside a packet must not end the wait: the
// worker's timeout is for waiting for a job, and libgearman cannot go on from
// a packet cut there.
func TestTimeoutsSpareTransfersUnderLoad(t *testing.T) {
	trials := uint64(10)
	if raceDetector {
		trials = 4
	}
	startBusyLoops(t, 2)
	srv := gearmantest.NewServer(t)
	runs := &runCounter{seen: map[uint64]int{}}
	w := newWorker(t, srv)
	require.NoError(t, w.SetTimeout(1))
	require.NoError(t, w.AddFunction("xfer", runs.echo, nil, 0))
	serve(t, srv, w, "xfer")
	c := newClient(t, srv)

	for trial := range trials {
		size := 16 << 20
		if trial%2 == 0 {
			size = 64 << 20
		}
		workload := patterned(trial, size)
		got, err := c.DoNormal("xfer", workload, "")
		require.NoError(t, err, "trial %d: %d MiB to a worker with a 1 ms timeout", trial, size>>20)
		require.True(t, bytes.Equal(workload, got), "trial %d (%d MiB): the result differs at byte %d",
			trial, size>>20, firstDifference(workload, got))
		require.Equal(t, 1, runs.count(trial), "trial %d: runs of the job", trial)
	}
	badRequireQueues(t, srv, map[string]int{"xfer": 0})
	for trial := range trials {
		require.Equal(t, 1, runs.count(trial), "trial %d: runs at the end", trial)
	}
}

// TestTransfersOutlastStalledServer pauses gearmand in the middle of a
// transfer for longer than the timeouts of the client sending a large job
// and of the worker receiving it. Neither gives up on the packet: the job
// arrives whole and runs once.
func TestTransfersOutlastStalledServer(t *testing.T) {
	srv := gearmantest.NewServer(t)
	proc, err := os.FindProcess(srv.Pid())
	require.NoError(t, err)
	stall := func() {
		t.Helper()
		require.NoError(t, proc.Signal(syscall.SIGSTOP))
		time.Sleep(600 * time.Millisecond) // three times both timeouts
		require.NoError(t, proc.Signal(syscall.SIGCONT))
	}
	runs := &runCounter{seen: map[uint64]int{}}
	c := newClient(t, srv)
	require.NoError(t, c.SetTimeout(200))

	// The client's send: its waits for the socket to drain are held.
	const sent = 1
	held := gearman.WireHeldWaits()
	submitted := make(chan error, 1)
	go func() {
		_, err := c.DoBackground("xfer", patterned(sent, 64<<20), "")
		submitted <- err
	}()
	require.True(t, eventually(30*time.Second, func() bool { return gearman.WireHeldWaits() > held }),
		"the client never waited in the middle of its submission")
	stall()
	require.NoError(t, <-submitted, "DoBackground with a 200 ms timeout across a 600 ms stall")

	// The worker's receive: it starts once the worker asks for the job.
	w := newWorker(t, srv)
	require.NoError(t, w.SetTimeout(200))
	require.NoError(t, w.AddFunction("xfer", runs.echo, nil, 0))
	held = gearman.WireHeldWaits()
	serve(t, srv, w, "xfer")
	require.True(t, eventually(30*time.Second, func() bool { return gearman.WireHeldWaits() > held || runs.count(sent) > 0 }),
		"the worker never waited in the middle of the job")
	require.Zero(t, runs.count(sent), "the job ran before gearmand was paused: nothing was tested")
	stall()
	require.True(t, eventually(60*time.Second, func() bool { return runs.count(sent) > 0 }), "the job never ran")
	require.True(t, runs.intact(sent), "the job's workload arrived damaged")
	badRequireQueues(t, srv, map[string]int{"xfer": 0})
	require.Equal(t, 1, runs.count(sent), "runs of the job")
}

// TestRunStopServesJobInTransfer ends Run's context while a large job is on
// its way to the worker: the job in hand runs, its result is sent, Run
// returns nil, and the worker keeps its connection. The trials go on until
// one ended the context mid-transfer.
func TestRunStopServesJobInTransfer(t *testing.T) {
	const maxTrials = 8
	startBusyLoops(t, 2)
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	runs := &runCounter{seen: map[uint64]int{}}
	hits := 0
	for trial := uint64(0); trial < maxTrials && hits == 0; trial++ {
		w, stop, done := runFreshWorker(t, srv, "xfer", runs.echo)
		workload := patterned(trial, 64<<20)
		result := doNormalHandedOut(t, c, srv, "xfer", workload)
		held := gearman.WireHeldWaits()
		conns := establishedTo(t, srv.Port())
		stop()
		select {
		case err := <-done:
			require.NoError(t, err, "trial %d: Run", trial)
		case <-time.After(60 * time.Second):
			t.Fatalf("trial %d: Run did not stop", trial)
		}
		require.ElementsMatch(t, conns, establishedTo(t, srv.Port()), "trial %d: Run's stop changed connections", trial)
		got := <-result
		require.True(t, bytes.Equal(workload, got), "trial %d: the result differs at byte %d", trial, firstDifference(workload, got))
		require.Equal(t, 1, runs.count(trial), "trial %d: runs of the job", trial)
		if gearman.WireHeldWaits() > held {
			hits++
		}
		require.NoError(t, w.Close())
	}
	require.Positive(t, hits, "no trial ended Run's context while the job was in transfer")
}

// TestCloseDuringTransfer closes a worker while a large job is on its way to
// it. Close may cut the transfer (the libgearman worker is freed, never
// reused); the job then goes to the next worker, and runs once.
func TestCloseDuringTransfer(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	runs := &runCounter{seen: map[uint64]int{}}
	first, _, done := runFreshWorker(t, srv, "xfer", runs.echo)
	workload := patterned(7, 64<<20)
	result := doNormalHandedOut(t, c, srv, "xfer", workload)
	closed := make(chan error, 1)
	go func() { closed <- first.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return")
	}
	require.ErrorIs(t, <-done, gearman.ErrClosed)

	startWorker(t, srv, map[string]gearman.WorkerFunc{"xfer": runs.echo})
	got := <-result
	require.True(t, bytes.Equal(workload, got), "the result differs at byte %d", firstDifference(workload, got))
	require.Equal(t, 1, runs.count(7), "runs of the job")
}

// TestCloseDuringResult closes a worker while its job's large result is on
// its way out. Close must not cut that: the job would go back to gearmand
// and run again.
func TestCloseDuringResult(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	big := patterned(9, 64<<20)
	var runs sync.Map // workload -> *atomic.Int32
	returning := make(chan struct{}, 1)
	result := func(job *gearman.Job, _ any) ([]byte, error) {
		n, _ := runs.LoadOrStore(string(job.Workload()), new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		select {
		case returning <- struct{}{}:
		default:
		}
		return big, nil
	}
	first, _, done := runFreshWorker(t, srv, "result", result)

	got := make(chan []byte, 1)
	go func() {
		out, err := c.DoNormal("result", []byte("once"), "")
		if err != nil {
			t.Errorf("DoNormal: %v", err)
		}
		got <- out
	}()
	<-returning // the result is about to leave
	require.NoError(t, first.Close())
	require.ErrorIs(t, <-done, gearman.ErrClosed)

	startWorker(t, srv, map[string]gearman.WorkerFunc{"result": result})
	out := <-got
	require.True(t, bytes.Equal(big, out), "the result differs at byte %d", firstDifference(big, out))
	badRequireQueues(t, srv, map[string]int{"result": 0})
	n, _ := runs.Load("once")
	require.Equal(t, int32(1), n.(*atomic.Int32).Load(), "runs of the job")
}

// jobsRunning is the number of jobs of function that gearmand has handed
// to a worker.
func jobsRunning(srv *gearmantest.Server, function string) int {
	out, err := gearmantest.AdminCommand(srv.Addr(), "status", time.Second)
	if err != nil {
		return -1
	}
	_, running, _, ok := functionStatus(out, function)
	if !ok {
		return 0
	}
	return running
}

// doNormalHandedOut starts a DoNormal of workload and returns once gearmand
// has handed the job to a worker; the result (nil on error, which is
// reported) arrives on the channel.
func doNormalHandedOut(t *testing.T, c *gearman.Client, srv *gearmantest.Server, function string, workload []byte) <-chan []byte {
	t.Helper()
	result := make(chan []byte, 1)
	go func() {
		got, err := c.DoNormal(function, workload, "")
		if err != nil {
			t.Errorf("DoNormal: %v", err)
		}
		result <- got
	}()
	require.True(t, eventually(30*time.Second, func() bool { return jobsRunning(srv, function) == 1 }),
		"gearmand never handed the job out")
	return result
}

// A blocking RunTasks lets libgearman wait in poll() with a wake-up fd
// (tasks.go, runAlone), and its waits end at the user's timeout in the
// middle of large transfers: the tasks keep their place, the next RunTasks
// carries on, and every result arrives whole.
func TestRunTasksTimeoutsSpareLargeTransfers(t *testing.T) {
	srv := gearmantest.NewServer(t)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo})
	c := newClient(t, srv)
	require.NoError(t, c.SetTimeout(5))
	var mu sync.Mutex
	results := map[*gearman.Task][]byte{}
	require.NoError(t, c.SetCompleteCallback(func(task *gearman.Task, _ any) error {
		mu.Lock()
		defer mu.Unlock()
		results[task] = bytes.Clone(task.Data())
		return nil
	}))
	payloads := map[*gearman.Task][]byte{}
	for i := range 4 {
		p := bytes.Repeat([]byte{byte('a' + i)}, 16<<20)
		task, err := c.AddTask("echo", p, nil, "")
		require.NoError(t, err)
		payloads[task] = p
	}
	timeouts := 0
	for err := c.RunTasks(); err != nil; err = c.RunTasks() {
		require.ErrorIs(t, err, gearman.Timeout)
		timeouts++
		require.Less(t, timeouts, 100000, "RunTasks made no progress")
	}
	t.Logf("RunTasks timed out %d times on the way", timeouts)
	require.Len(t, results, len(payloads))
	for task, p := range payloads {
		require.True(t, bytes.Equal(p, results[task]), "result of a 16 MiB task arrived whole")
	}
}
