package gearman_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// recordingHandler keeps every record it is given.
type recordingHandler struct {
	level slog.Leveler
	mu    sync.Mutex
	recs  []slog.Record
	panic bool
}

func (h *recordingHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	if h.panic {
		panic("handler panics")
	}
	return nil
}

func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordingHandler) records() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]slog.Record(nil), h.recs...)
}

func attrs(r slog.Record) map[string]string {
	m := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	return m
}

// deadAddr returns a loopback port nothing listens on: a stopped server's.
func deadAddr(t *testing.T) (string, int) {
	srv := gearmantest.NewServer(t)
	srv.Stop()
	return srv.Host(), srv.Port()
}

// A failed connection reaches the logger as libgearman's own error line, at
// slog.LevelError, with the side, verbosity and code as attributes; the call
// still returns its error value.
func TestSetLoggerReceivesLibgearmanErrors(t *testing.T) {
	host, port := deadAddr(t)

	h := &recordingHandler{level: slog.LevelDebug}
	c, err := gearman.NewClient()
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetLogger(slog.New(h)))
	require.NoError(t, c.AddServer(host, port))
	_, err = c.DoNormal("f", []byte("x"), "")
	require.ErrorIs(t, err, gearman.CouldNotConnect)

	recs := h.records()
	require.NotEmpty(t, recs)
	r := recs[0]
	assert.Equal(t, slog.LevelError, r.Level)
	assert.Contains(t, r.Message, "GEARMAN_COULD_NOT_CONNECT")
	assert.Equal(t, map[string]string{"side": "client", "verbose": "ERROR", "code": "GEARMAN_COULD_NOT_CONNECT"}, attrs(r))

	hw := &recordingHandler{level: slog.LevelDebug}
	w, err := gearman.NewWorker()
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, w.SetLogger(slog.New(hw)))
	require.NoError(t, w.AddServer(host, port))
	require.NoError(t, w.Register("f", 0))
	require.ErrorIs(t, w.Work(), gearman.CouldNotConnect)
	recs = hw.records()
	require.NotEmpty(t, recs)
	assert.Equal(t, "worker", attrs(recs[0])["side"])
	assert.Equal(t, "GEARMAN_COULD_NOT_CONNECT", attrs(recs[0])["code"])
}

// Nothing is logged without SetLogger, after SetLogger(nil), or below the
// logger's level; and the binding's own short waits do not log a timeout
// line per slice.
func TestSetLoggerQuietCases(t *testing.T) {
	host, port := deadAddr(t)

	h := &recordingHandler{level: slog.LevelError + 8} // above LevelFatal
	c, err := gearman.NewClient()
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetLogger(slog.New(h)))
	require.NoError(t, c.AddServer(host, port))
	_, err = c.DoNormal("f", []byte("x"), "")
	require.Error(t, err)
	assert.Empty(t, h.records(), "a record below the logger's level")

	h2 := &recordingHandler{level: slog.LevelDebug}
	require.NoError(t, c.SetLogger(slog.New(h2)))
	require.NoError(t, c.SetLogger(nil))
	_, err = c.DoNormal("f", []byte("x"), "")
	require.Error(t, err)
	assert.Empty(t, h2.records(), "a record after SetLogger(nil)")

	srv := gearmantest.NewServer(t)
	h3 := &recordingHandler{level: gearman.LevelCrazy}
	c3 := newClient(t, srv)
	require.NoError(t, c3.SetLogger(slog.New(h3)))
	require.NoError(t, c3.SetTimeout(450)) // several wait slices, then a timeout
	_, err = c3.DoNormal("nobody-serves-this", []byte("x"), "")
	require.ErrorIs(t, err, gearman.Timeout)
	for _, r := range h3.records() {
		assert.NotContains(t, r.Message, "GEARMAN_TIMEOUT")
	}
}

// The logger follows the client into the libgearman object the binding
// builds after a connection failure, and into a Clone; a panicking handler
// costs the line, not the call.
func TestSetLoggerSurvivesRebuildCloneAndPanics(t *testing.T) {
	srv := gearmantest.NewServer(t)
	h := &recordingHandler{level: slog.LevelInfo}
	c := newClient(t, srv)
	require.NoError(t, c.SetLogger(slog.New(h)))
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo})
	_, err := c.DoNormal("echo", []byte("x"), "")
	require.NoError(t, err)

	srv.Stop()
	_, err = c.DoNormal("echo", []byte("x"), "")
	require.Error(t, err)
	n := len(h.records())
	require.NotZero(t, n)
	_, err = c.DoNormal("echo", []byte("x"), "") // on the rebuilt object
	require.Error(t, err)
	assert.Greater(t, len(h.records()), n)

	clone, err := c.Clone()
	require.NoError(t, err)
	defer clone.Close()
	n = len(h.records())
	_, err = clone.DoNormal("echo", []byte("x"), "")
	require.Error(t, err)
	assert.Greater(t, len(h.records()), n)

	hp := &recordingHandler{level: slog.LevelInfo, panic: true}
	require.NoError(t, clone.SetLogger(slog.New(hp)))
	done := make(chan error, 1)
	go func() { _, err := clone.DoNormal("echo", []byte("x"), ""); done <- err }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, gearman.CouldNotConnect)
	case <-time.After(10 * time.Second):
		t.Fatal("DoNormal did not return after the handler panicked")
	}
	assert.NotEmpty(t, hp.records())
}

// A logger set after the Client's first call reaches the libgearman object
// that call's driver keeps, and those of RunTasks's routes over several
// servers: the lost connection is logged by the object that lost it, which
// SetLogger itself never touches (the reconnection after it is logged by a
// new object, which would have the logger anyway).
func TestSetLoggerReachesConnectionsInUse(t *testing.T) {
	lostLogged := func(h *recordingHandler) bool {
		for _, r := range h.records() {
			if attrs(r)["code"] == "GEARMAN_LOST_CONNECTION" {
				return true
			}
		}
		return false
	}

	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	_, err := c.DoBackground("f", []byte("x"), "")
	require.NoError(t, err)
	h := &recordingHandler{level: slog.LevelInfo}
	require.NoError(t, c.SetLogger(slog.New(h)))
	srv.Stop()
	_, err = c.DoBackground("f", []byte("x"), "")
	require.Error(t, err)
	assert.True(t, lostLogged(h), "the driver's object logged nowhere")

	a, b := gearmantest.NewServer(t), gearmantest.NewServer(t)
	c2 := newClient(t, a)
	require.NoError(t, c2.AddServer(b.Host(), b.Port()))
	addTasks := func() {
		for i := range 20 {
			_, err := c2.AddTaskBackground("f", []byte("x"), nil, fmt.Sprint(i))
			require.NoError(t, err)
		}
	}
	addTasks()
	require.NoError(t, c2.RunTasks())
	h2 := &recordingHandler{level: slog.LevelInfo}
	require.NoError(t, c2.SetLogger(slog.New(h2)))
	a.Stop()
	b.Stop()
	addTasks()
	require.Error(t, c2.RunTasks())
	assert.True(t, lostLogged(h2), "the routes' objects logged nowhere")
}

func TestSetLoggerOnClosed(t *testing.T) {
	c, err := gearman.NewClient()
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.ErrorIs(t, c.SetLogger(slog.Default()), gearman.ErrClosed)
	w, err := gearman.NewWorker()
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.ErrorIs(t, w.SetLogger(slog.Default()), gearman.ErrClosed)
}

// TestWorkerFunctionFailuresLogged: with a logger, every error and panic of a
// worker function is logged at Warn, with the function, the job handle, the
// error and, for a panic, the stack; where PHP's exception would escape
// work() for the application to log.
func TestWorkerFunctionFailuresLogged(t *testing.T) {
	srv := gearmantest.NewServer(t)
	h := &recordingHandler{level: slog.LevelWarn}
	w, err := gearman.NewWorker()
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, w.AddServer(srv.Host(), srv.Port()))
	require.NoError(t, w.SetLogger(slog.New(h)))
	require.NoError(t, w.AddFunction("fails", func(*gearman.Job, any) ([]byte, error) {
		return nil, errors.New("disk full")
	}, nil, 0))
	require.NoError(t, w.AddFunction("refuses", func(*gearman.Job, any) ([]byte, error) {
		return nil, gearman.WorkFail
	}, nil, 0))
	require.NoError(t, w.AddFunction("panics", func(*gearman.Job, any) ([]byte, error) {
		panicInWorkerFunction()
		return nil, nil
	}, nil, 0))
	require.NoError(t, w.AddFunction("works", echo, nil, 0))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)

	c := newClient(t, srv)
	handles := map[string]string{}
	for _, fn := range []string{"fails", "refuses", "panics", "works"} {
		task, err := c.AddTask(fn, []byte("x"), nil, "")
		require.NoError(t, err)
		require.NoError(t, c.RunTasks())
		handles[fn] = task.JobHandle()
	}
	require.True(t, eventually(10*time.Second, func() bool { return len(h.records()) >= 3 }))
	recs := h.records()
	require.Len(t, recs, 3, "one record per failed job, none for the one that worked")
	byFunction := map[string]map[string]string{}
	for _, r := range recs {
		require.Equal(t, slog.LevelWarn, r.Level)
		a := attrs(r)
		a["msg"] = r.Message
		byFunction[a["function"]] = a
	}
	for fn, want := range map[string]string{"fails": "disk full", "refuses": "GEARMAN_WORK_FAIL", "panics": "panic: worker function blew up"} {
		a := byFunction[fn]
		require.NotNil(t, a, "no record for %s: %v", fn, recs)
		require.Equal(t, "worker", a["side"])
		require.Equal(t, handles[fn], a["handle"], fn)
		require.Contains(t, a["error"], want, fn)
	}
	require.Equal(t, "gearman: worker function panicked", byFunction["panics"]["msg"])
	require.Contains(t, byFunction["panics"]["stack"], "panicInWorkerFunction", "the stack of the panic")
	require.Equal(t, "gearman: worker function failed", byFunction["fails"]["msg"])
	require.Empty(t, byFunction["fails"]["stack"])
}

func panicInWorkerFunction() { panic("worker function blew up") }

// SetLogger during a Run with several slots returns at once, though every
// slot waits for a job, and reaches every slot: each of the failing jobs,
// whichever slot ran it, is logged.
func TestSetLoggerReachesRunSlots(t *testing.T) {
	srv := gearmantest.NewServer(t)
	w, err := gearman.NewWorker()
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, w.AddServer(srv.Host(), srv.Port()))
	require.NoError(t, w.SetConcurrency(3))
	var running, most atomic.Int32
	require.NoError(t, w.AddFunction("slow-fail", func(*gearman.Job, any) ([]byte, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(50 * time.Millisecond)
		return nil, errors.New("disk full")
	}, nil, 0))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	require.True(t, eventually(10*time.Second, func() bool {
		_, _, workers, _ := fltStatus(srv.Addr(), "slow-fail")
		return workers >= 3
	}), "three slots registered")

	h := &recordingHandler{level: slog.LevelWarn}
	set := make(chan error, 1)
	go func() { set <- w.SetLogger(slog.New(h)) }()
	select {
	case err := <-set:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("SetLogger waited for the idle Run")
	}
	c := newClient(t, srv)
	const n = 12
	for range n {
		_, err := c.DoBackground("slow-fail", []byte("x"), "")
		require.NoError(t, err)
	}
	require.True(t, eventually(20*time.Second, func() bool { return len(h.records()) >= n }),
		"%d of %d failures logged", len(h.records()), n)
	require.Len(t, h.records(), n)
	require.Equal(t, int32(3), most.Load(), "jobs running at once")
}
