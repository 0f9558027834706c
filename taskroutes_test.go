package gearman_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// RunTasks with several servers spreads its tasks over them, as the Do*
// calls do, and still runs its callbacks one at a time on its goroutine.

// perServerEcho starts one echo worker on each server and returns how many
// jobs each ran.
func perServerEcho(t *testing.T, srvs []*gearmantest.Server, function string) []*atomic.Int64 {
	t.Helper()
	counts := make([]*atomic.Int64, len(srvs))
	for i, s := range srvs {
		if s == nil {
			continue
		}
		n := &atomic.Int64{}
		counts[i] = n
		w := fltWorker(t, s.Addr())
		require.NoError(t, w.AddFunction(function, func(job *gearman.Job, _ any) ([]byte, error) {
			n.Add(1)
			return job.Workload(), nil
		}, nil, 0))
		fltRun(t, w)
		fltWaitWorkers(t, s.Addr(), 5*time.Second, function)
	}
	return counts
}

// callbackWatch records the results of complete callbacks, and whether two
// callbacks ever ran at once.
type callbackWatch struct {
	running, overlaps atomic.Int32
	mu                sync.Mutex
	results           map[string]string // unique → data
}

func (cw *callbackWatch) complete(task *gearman.Task, _ any) error {
	if cw.running.Add(1) > 1 {
		cw.overlaps.Add(1)
	}
	defer cw.running.Add(-1)
	time.Sleep(10 * time.Microsecond) // widen the window an overlap would need
	cw.mu.Lock()
	cw.results[task.Unique()] = string(task.Data())
	cw.mu.Unlock()
	return nil
}

func TestRunTasksSpreadsOverServers(t *testing.T) {
	srvs, list := threeServers(t)
	ran := perServerEcho(t, srvs, "rt-spread")
	c := fltClient(t, list)
	cw := &callbackWatch{results: map[string]string{}}
	require.NoError(t, c.SetCompleteCallback(cw.complete))
	const n = 600
	want := map[string]string{}
	for i := range n {
		task, err := c.AddTask("rt-spread", fmt.Appendf(nil, "job %d", i), nil, "")
		require.NoError(t, err)
		want[task.Unique()] = fmt.Sprintf("job %d", i)
	}
	_, err := fltCallErr(t, 60*time.Second, "RunTasks", c.RunTasks)
	require.NoError(t, err)
	require.Equal(t, want, cw.results, "every task completed with its own data")
	require.Zero(t, cw.overlaps.Load(), "callbacks ran at once")
	var total int64
	for i, r := range ran {
		got := r.Load()
		total += got
		require.True(t, got >= n*20/100 && got <= n*46/100, "server %d ran %d of %d jobs (%d, %d, %d)", i, got, n, ran[0].Load(), ran[1].Load(), ran[2].Load())
	}
	require.EqualValues(t, n, total)
}

// Background tasks land on every server; those with one unique key make one
// job; JobStatus knows every handle, asking the server that issued it.
func TestRunTasksBackgroundSpreadAndStatus(t *testing.T) {
	srvs, list := threeServers(t)
	c := fltClient(t, list)
	const n = 900
	var tasks []*gearman.Task
	for range n {
		task, err := c.AddTaskBackground("rt-bg", []byte("x"), nil, "")
		require.NoError(t, err)
		tasks = append(tasks, task)
	}
	for range 30 {
		_, err := c.AddTaskBackground("rt-one", []byte("x"), nil, "rt-one-key")
		require.NoError(t, err)
	}
	_, err := fltCallErr(t, 60*time.Second, "RunTasks", c.RunTasks)
	require.NoError(t, err)

	counts := queued(t, srvs, "rt-bg")
	require.Equal(t, n, counts[0]+counts[1]+counts[2], "jobs held: %v", counts)
	for i, k := range counts {
		require.True(t, k >= n*20/100 && k <= n*46/100, "server %d holds %d of %d jobs (%v)", i, k, n, counts)
	}
	one := queued(t, srvs, "rt-one")
	require.Equal(t, 1, one[0]+one[1]+one[2], "jobs with one unique key, per server: %v", one)

	for _, task := range tasks {
		st, err := c.JobStatus(task.JobHandle())
		require.NoError(t, err)
		require.True(t, st.Known, "JobStatus(%s)", task.JobHandle())
	}
}

// A server that is down when RunTasks starts costs nothing but a connect:
// its tasks go to the others, and every task completes.
func TestRunTasksSkipsDeadServer(t *testing.T) {
	srvs, list := threeServers(t)
	srvs[1].Stop()
	ran := perServerEcho(t, []*gearmantest.Server{srvs[0], nil, srvs[2]}, "rt-dead")
	c := fltClient(t, list)
	cw := &callbackWatch{results: map[string]string{}}
	require.NoError(t, c.SetCompleteCallback(cw.complete))
	const n = 300
	for i := range n {
		_, err := c.AddTask("rt-dead", fmt.Appendf(nil, "%d", i), nil, "")
		require.NoError(t, err)
	}
	_, err := fltCallErr(t, 60*time.Second, "RunTasks", c.RunTasks)
	require.NoError(t, err)
	require.Len(t, cw.results, n, "completed tasks")
	require.EqualValues(t, n, ran[0].Load()+ran[2].Load())
	require.Positive(t, ran[0].Load())
	require.Positive(t, ran[2].Load())
}

// With ClientNonBlocking, RunTasks returns IOWait and Wait waits on the
// sockets of every server, as PHP code drives a non-blocking client.
func TestNonBlockingRunTasksSpread(t *testing.T) {
	srvs, list := threeServers(t)
	ran := perServerEcho(t, srvs, "rt-nb")
	c := fltClient(t, list)
	require.NoError(t, c.AddOptions(gearman.ClientNonBlocking))
	cw := &callbackWatch{results: map[string]string{}}
	require.NoError(t, c.SetCompleteCallback(cw.complete))
	const n = 150
	for i := range n {
		_, err := c.AddTask("rt-nb", fmt.Appendf(nil, "%d", i), nil, "")
		require.NoError(t, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		require.NoError(t, c.RunTasks())
		if c.ReturnCode() != gearman.IOWait {
			break
		}
		require.True(t, time.Now().Before(deadline), "the tasks did not finish within 60 s")
		require.NoError(t, c.Wait())
	}
	require.Len(t, cw.results, n, "completed tasks")
	for i, r := range ran {
		require.Positive(t, r.Load(), "server %d ran none of the jobs", i)
	}
}

// A callback's Pause stops RunTasks with several servers too, and the next
// RunTasks delivers the same packet again, then the rest of every task.
func TestRunTasksSpreadPause(t *testing.T) {
	srvs, list := threeServers(t)
	for _, s := range srvs {
		w := fltWorker(t, s.Addr())
		require.NoError(t, w.AddFunction("rt-chatty", chatty, nil, 0))
		fltRun(t, w)
		fltWaitWorkers(t, s.Addr(), 5*time.Second, "rt-chatty")
	}
	c := fltClient(t, list)
	chunks := map[string][]string{}
	var pausedOn string
	require.NoError(t, c.SetDataCallback(func(task *gearman.Task, _ any) error {
		chunks[task.Unique()] = append(chunks[task.Unique()], string(task.Data()))
		if pausedOn == "" {
			pausedOn = task.Unique()
			return gearman.Pause
		}
		return nil
	}))
	const n = 12
	for range n {
		_, err := c.AddTask("rt-chatty", []byte("p"), nil, "")
		require.NoError(t, err)
	}
	require.NoError(t, c.RunTasks())
	require.Equal(t, gearman.Pause, c.ReturnCode())
	require.Equal(t, []string{"chunk-1"}, chunks[pausedOn])

	_, err := fltCallErr(t, 60*time.Second, "RunTasks", c.RunTasks)
	require.NoError(t, err)
	require.Equal(t, gearman.Success, c.ReturnCode())
	require.Len(t, chunks, n)
	for unique, got := range chunks {
		want := []string{"chunk-1", "chunk-2"}
		if unique == pausedOn {
			want = []string{"chunk-1", "chunk-1", "chunk-2"}
		}
		require.Equal(t, want, got, "task %s", unique)
	}
}

// A context's end abandons the tasks on every server, whose jobs the servers
// drop, and the Client stays usable.
func TestRunTasksSpreadContextCancel(t *testing.T) {
	srvs, list := threeServers(t)
	c := fltClient(t, list)
	var tasks []*gearman.Task
	for range 300 { // more than one window; nobody serves them
		task, err := c.AddTask("rt-nobody", []byte("x"), nil, "")
		require.NoError(t, err)
		tasks = append(tasks, task)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Once every server holds some of the jobs. Not queued: this
		// goroutine must not fail the test.
		eventually(10*time.Second, func() bool {
			for _, s := range srvs {
				if total, _, _, ok := fltStatus(s.Addr(), "rt-nobody"); !ok || total == 0 {
					return false
				}
			}
			return true
		})
		cancel()
	}()
	_, err := fltCallErr(t, 30*time.Second, "RunTasksContext", func() error { return c.RunTasksContext(ctx) })
	require.ErrorIs(t, err, context.Canceled)
	for _, task := range tasks {
		require.Equal(t, gearman.ShutdownGraceful, task.ReturnCode(), "abandoned tasks say why")
	}
	// gearmand drops a foreground job whose client left when a worker asks
	// for it: the abandoned jobs never run.
	abandonedRuns := perServerEcho(t, srvs, "rt-nobody")
	require.True(t, eventually(10*time.Second, func() bool {
		k := queued(t, srvs, "rt-nobody")
		return k[0]+k[1]+k[2] == 0
	}), "the servers still hold abandoned jobs: %v", queued(t, srvs, "rt-nobody"))
	for i, r := range abandonedRuns {
		require.Zero(t, r.Load(), "server %d ran abandoned jobs", i)
	}

	ran := perServerEcho(t, srvs, "rt-after")
	for range 30 {
		_, err := c.AddTask("rt-after", []byte("y"), nil, "")
		require.NoError(t, err)
	}
	_, err = fltCallErr(t, 30*time.Second, "RunTasks", c.RunTasks)
	require.NoError(t, err)
	require.EqualValues(t, 30, ran[0].Load()+ran[1].Load()+ran[2].Load())
}

// kill -9 of one of three servers in the middle of RunTasks: the run ends
// within bounds; every task either completed or was lost with the killed
// server, which had acknowledged it, and the error names the lost ones; the
// others went on elsewhere.
func TestRunTasksSpreadServerKilled(t *testing.T) {
	srvs, list := threeServers(t)
	for _, s := range srvs {
		w := fltWorker(t, s.Addr())
		require.NoError(t, w.AddFunction("rt-kill", func(job *gearman.Job, _ any) ([]byte, error) {
			time.Sleep(2 * time.Millisecond)
			return job.Workload(), nil
		}, nil, 0))
		require.NoError(t, w.SetConcurrency(4))
		fltRun(t, w)
		fltWaitWorkers(t, s.Addr(), 5*time.Second, "rt-kill")
	}
	c := fltClient(t, list)
	var completed atomic.Int32
	var once sync.Once
	require.NoError(t, c.SetCompleteCallback(func(*gearman.Task, any) error {
		if completed.Add(1) == 150 {
			once.Do(func() { go srvs[1].Kill() })
		}
		return nil
	}))
	const n = 900
	var tasks []*gearman.Task
	for i := range n {
		task, err := c.AddTask("rt-kill", fmt.Appendf(nil, "%d", i), nil, "")
		require.NoError(t, err)
		tasks = append(tasks, task)
	}
	_, err := fltCallErr(t, 60*time.Second, "RunTasks", c.RunTasks)
	lost := 0
	for _, task := range tasks {
		switch task.ReturnCode() {
		case gearman.Success:
		case gearman.LostConnection:
			lost++
			// Its job handle says which server had acknowledged it.
			require.True(t, strings.HasPrefix(task.JobHandle(), "S1"),
				"task %s was lost with handle %q, not one of the killed server's", task.Unique(), task.JobHandle())
		default:
			t.Fatalf("task %s ended with %v", task.Unique(), task.ReturnCode())
		}
	}
	t.Logf("completed %d, lost %d", completed.Load(), lost)
	require.EqualValues(t, n-lost, completed.Load())
	require.Less(t, lost, n/3, "only tasks the killed server had acknowledged are lost")
	if lost > 0 {
		require.ErrorIs(t, err, gearman.LostConnection)
	} else {
		require.NoError(t, err)
	}
}

// Close ends a RunTasks waiting on several servers at once, and RunTasks
// returns ErrClosed.
func TestRunTasksSpreadEndsAtClose(t *testing.T) {
	srvs, list := threeServers(t)
	c, err := gearman.NewClient()
	require.NoError(t, err)
	require.NoError(t, c.AddServers(list))
	for range 30 { // nobody serves them
		_, err := c.AddTask("rt-closed", []byte("x"), nil, "")
		require.NoError(t, err)
	}
	ran := make(chan error, 1)
	go func() { ran <- c.RunTasks() }()
	require.True(t, eventually(10*time.Second, func() bool {
		k := queued(t, srvs, "rt-closed")
		return k[0]+k[1]+k[2] == 30
	}), "the tasks reached the servers")
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	require.ErrorIs(t, endedWithin(t, 10*time.Second, "RunTasks, at Close,", ran), gearman.ErrClosed)
	require.NoError(t, endedWithin(t, 10*time.Second, "Close", closed))
}

// A handle from another Client is found by JobStatus, which asks each server
// until one knows it and remembers that server: AddTaskStatus then asks it,
// where it would otherwise ask the servers in turn, two of which do not know
// the job.
func TestStatusTaskForForeignHandleAfterJobStatus(t *testing.T) {
	srvs, list := threeServers(t)
	other := newClient(t, srvs[1])
	handle, err := other.DoBackground("rt-foreign", []byte("x"), "")
	require.NoError(t, err)

	c := fltClient(t, list)
	st, err := c.JobStatus(handle)
	require.NoError(t, err)
	require.True(t, st.Known, "JobStatus(%s) over three servers", handle)

	var mu sync.Mutex
	var unknown int
	require.NoError(t, c.SetStatusCallback(func(task *gearman.Task, _ any) error {
		if !task.IsKnown() {
			mu.Lock()
			unknown++
			mu.Unlock()
		}
		return nil
	}))
	for range 9 {
		_, err := c.AddTaskStatus(handle, nil)
		require.NoError(t, err)
	}
	_, err = fltCallErr(t, 30*time.Second, "RunTasks", c.RunTasks)
	require.NoError(t, err)
	require.Zero(t, unknown, "status tasks answered by a server that does not know %s", handle)
}
