package admin_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libgearman-go/gearman/admin"
	"github.com/libgearman-go/gearman/gearmantest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Binary protocol packet types used by the tests.
const (
	pktCanDo       = 1
	pktSubmitJob   = 7
	pktJobCreated  = 8
	pktGrabJob     = 9
	pktNoJob       = 10
	pktWorkFail    = 14
	pktEchoReq     = 16
	pktEchoRes     = 17
	pktSubmitJobBG = 18
	pktError       = 19
	pktSetClientID = 22
	pktSubmitHigh  = 32 // SUBMIT_JOB_HIGH_BG
	pktSubmitLow   = 34 // SUBMIT_JOB_LOW_BG
)

// ioTimeout bounds every raw protocol exchange and admin call in the tests.
const ioTimeout = 10 * time.Second

// gearConn is a minimal binary-protocol connection for submitting jobs and
// registering workers without package gearman.
type gearConn struct {
	t  *testing.T
	nc net.Conn
}

// dialGear opens a binary-protocol connection to addr, closed at cleanup.
func dialGear(t *testing.T, addr string) *gearConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, ioTimeout)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	return &gearConn{t: t, nc: nc}
}

// send writes one request packet whose arguments are joined by NUL.
func (g *gearConn) send(typ uint32, args ...string) {
	g.t.Helper()
	data := strings.Join(args, "\x00")
	pkt := make([]byte, 12, 12+len(data))
	copy(pkt, "\x00REQ")
	binary.BigEndian.PutUint32(pkt[4:], typ)
	binary.BigEndian.PutUint32(pkt[8:], uint32(len(data)))
	pkt = append(pkt, data...)
	require.NoError(g.t, g.nc.SetDeadline(time.Now().Add(ioTimeout)))
	_, err := g.nc.Write(pkt)
	require.NoError(g.t, err)
}

// recv reads one response packet.
func (g *gearConn) recv() (uint32, string) {
	g.t.Helper()
	require.NoError(g.t, g.nc.SetDeadline(time.Now().Add(ioTimeout)))
	var hdr [12]byte
	_, err := io.ReadFull(g.nc, hdr[:])
	require.NoError(g.t, err)
	require.Equal(g.t, "\x00RES", string(hdr[:4]), "response magic")
	data := make([]byte, binary.BigEndian.Uint32(hdr[8:]))
	_, err = io.ReadFull(g.nc, data)
	require.NoError(g.t, err)
	return binary.BigEndian.Uint32(hdr[4:]), string(data)
}

// submit sends a submit packet of type typ and returns the job handle from
// JOB_CREATED.
func (g *gearConn) submit(typ uint32, fn, unique, data string) string {
	g.t.Helper()
	g.send(typ, fn, unique, data)
	rtyp, handle := g.recv()
	require.Equal(g.t, uint32(pktJobCreated), rtyp, "reply to submit: %q", handle)
	require.NotEmpty(g.t, handle)
	return handle
}

// submitBG submits a normal-priority background job and returns its handle.
func (g *gearConn) submitBG(fn, unique, data string) string {
	g.t.Helper()
	return g.submit(pktSubmitJobBG, fn, unique, data)
}

// sync waits until the server has processed everything sent so far.
func (g *gearConn) sync() {
	g.t.Helper()
	g.send(pktEchoReq, "sync")
	typ, data := g.recv()
	require.Equal(g.t, uint32(pktEchoRes), typ)
	require.Equal(g.t, "sync", data)
}

// newWorker connects a worker with the given client id (none if "") that
// registered fns, and waits until the server has registered them.
func newWorker(t *testing.T, addr, id string, fns ...string) *gearConn {
	t.Helper()
	w := dialGear(t, addr)
	if id != "" {
		w.send(pktSetClientID, id)
	}
	for _, fn := range fns {
		w.send(pktCanDo, fn)
	}
	w.sync()
	return w
}

// ctxT returns a context bounded by ioTimeout.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newAdmin starts gearmand and dials an admin Client to it.
func newAdmin(t *testing.T) (*gearmantest.Server, *admin.Client) {
	t.Helper()
	srv := gearmantest.NewServer(t)
	adm, err := admin.Dial(ctxT(t), srv.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { adm.Close() })
	return srv, adm
}

// findStatus returns the status line of fn.
func findStatus(t *testing.T, adm *admin.Client, fn string) (admin.FunctionStatus, bool) {
	t.Helper()
	st, err := adm.Status(ctxT(t))
	require.NoError(t, err)
	for _, s := range st {
		if s.Name == fn {
			return s, true
		}
	}
	return admin.FunctionStatus{}, false
}

// findJob returns the "show jobs" entry of handle.
func findJob(t *testing.T, adm *admin.Client, handle string) (admin.Job, bool) {
	t.Helper()
	jobs, err := adm.ShowJobs(ctxT(t))
	require.NoError(t, err)
	for _, j := range jobs {
		if j.Handle == handle {
			return j, true
		}
	}
	return admin.Job{}, false
}

func TestVersionAndGetpid(t *testing.T) {
	srv, adm := newAdmin(t)
	ctx := ctxT(t)

	v, err := adm.Version(ctx)
	require.NoError(t, err)
	raw, err := gearmantest.AdminCommand(srv.Addr(), "version", ioTimeout)
	require.NoError(t, err)
	assert.Equal(t, "OK "+v, raw)
	assert.Regexp(t, `^1\.`, v)
	t.Logf("version: %q", v)

	pid, err := adm.Getpid(ctx)
	require.NoError(t, err)
	assert.Equal(t, srv.Pid(), pid)
}

func TestStatusAndPriorityStatus(t *testing.T) {
	srv, adm := newAdmin(t)
	ctx := ctxT(t)

	st, err := adm.Status(ctx)
	require.NoError(t, err)
	assert.Empty(t, st, "a fresh gearmand knows no functions")
	ps, err := adm.PriorityStatus(ctx)
	require.NoError(t, err)
	assert.Empty(t, ps)

	const fn = "fn_status"
	cl := dialGear(t, srv.Addr())
	cl.submit(pktSubmitHigh, fn, "h1", "x")
	cl.submitBG(fn, "n1", "x")
	cl.submitBG(fn, "n2", "x")
	for i := range 3 {
		cl.submit(pktSubmitLow, fn, fmt.Sprintf("l%d", i), "x")
	}
	newWorker(t, srv.Addr(), "", fn)
	newWorker(t, srv.Addr(), "", fn, "fn_other")

	st, err = adm.Status(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []admin.FunctionStatus{
		{Name: fn, Total: 6, Running: 0, Workers: 2},
		{Name: "fn_other", Total: 0, Running: 0, Workers: 1},
	}, st)

	ps, err = adm.PriorityStatus(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []admin.PriorityStatus{
		{Name: fn, High: 1, Normal: 2, Low: 3, Workers: 2},
		{Name: "fn_other", Workers: 1},
	}, ps)
}

func TestWorkers(t *testing.T) {
	srv, adm := newAdmin(t)
	ctx := ctxT(t)

	newWorker(t, srv.Addr(), "test-worker-1", "fn_a", "fn_b")
	newWorker(t, srv.Addr(), "", "fn_c")
	newWorker(t, srv.Addr(), "idle-client") // an id, no functions

	raw, err := adm.Command(ctx, "workers")
	require.NoError(t, err)
	t.Logf("workers reply:\n%s", raw)

	ws, err := adm.Workers(ctx)
	require.NoError(t, err)
	require.Len(t, ws, 4, "three raw connections and the admin connection")
	byID := map[string][]admin.WorkerInfo{}
	for _, w := range ws {
		assert.Positive(t, w.FD)
		assert.Equal(t, "127.0.0.1", w.IP)
		byID[w.ClientID] = append(byID[w.ClientID], w)
	}
	require.Len(t, byID["test-worker-1"], 1)
	assert.ElementsMatch(t, []string{"fn_a", "fn_b"}, byID["test-worker-1"][0].Functions)
	require.Len(t, byID["idle-client"], 1)
	assert.Empty(t, byID["idle-client"][0].Functions)
	// No client id is shown as "-": the fn_c worker and the admin connection.
	require.Len(t, byID["-"], 2)
	var fns [][]string
	for _, w := range byID["-"] {
		fns = append(fns, w.Functions)
	}
	assert.ElementsMatch(t, [][]string{{"fn_c"}, {}}, fns)
}

func TestShowJobsAndUniqueJobs(t *testing.T) {
	srv, adm := newAdmin(t)
	ctx := ctxT(t)

	jobs, err := adm.ShowJobs(ctx)
	require.NoError(t, err)
	assert.Empty(t, jobs)
	uniques, err := adm.ShowUniqueJobs(ctx)
	require.NoError(t, err)
	assert.Empty(t, uniques)

	cl := dialGear(t, srv.Addr())
	h1 := cl.submitBG("fn_show", "unique-1", "a")
	h2 := cl.submitBG("fn_show", "unique-2", "b")

	raw, err := adm.Command(ctx, "show jobs")
	require.NoError(t, err)
	t.Logf("show jobs reply:\n%s", raw)

	jobs, err = adm.ShowJobs(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []admin.Job{
		{Handle: h1, Retries: 0, Ignore: false, Queued: true},
		{Handle: h2, Retries: 0, Ignore: false, Queued: true},
	}, jobs)

	uniques, err = adm.ShowUniqueJobs(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"unique-1", "unique-2"}, uniques)

	// A background job taken by a worker is running; Queued (gearmand's
	// job_queued: "in the queue store") stays set.
	w := newWorker(t, srv.Addr(), "", "fn_show")
	w.send(pktGrabJob)
	typ, data := w.recv()
	require.Equal(t, uint32(11), typ, "JOB_ASSIGN: %q", data) // JOB_ASSIGN
	running, _, _ := strings.Cut(data, "\x00")
	j, ok := findJob(t, adm, running)
	require.True(t, ok)
	assert.Equal(t, admin.Job{Handle: running, Queued: true}, j)
	st, ok := findStatus(t, adm, "fn_show")
	require.True(t, ok)
	assert.Equal(t, admin.FunctionStatus{Name: "fn_show", Total: 2, Running: 1, Workers: 1}, st)
}

func TestCancelJob(t *testing.T) {
	srv, adm := newAdmin(t)
	ctx := ctxT(t)
	const fn = "fn_cancel"

	cl := dialGear(t, srv.Addr())
	h := cl.submitBG(fn, "to-cancel", "payload")
	j, ok := findJob(t, adm, h)
	require.True(t, ok)
	assert.Equal(t, admin.Job{Handle: h, Queued: true}, j)

	require.NoError(t, adm.CancelJob(ctx, h))

	// gearmand 1.1.20 keeps the cancelled job, marked ignored and no longer
	// queued, until a worker for the function asks for work.
	j, ok = findJob(t, adm, h)
	require.True(t, ok)
	assert.Equal(t, admin.Job{Handle: h, Ignore: true, Queued: false}, j)
	st, ok := findStatus(t, adm, fn)
	require.True(t, ok)
	assert.Equal(t, 1, st.Total)

	// The worker does not get the job: the server drops it instead.
	w := newWorker(t, srv.Addr(), "", fn)
	w.send(pktGrabJob)
	typ, data := w.recv()
	assert.Equal(t, uint32(pktNoJob), typ, "GRAB_JOB after cancel answered %d %q", typ, data)

	_, ok = findJob(t, adm, h)
	assert.False(t, ok, "cancelled job still listed by show jobs")
	st, ok = findStatus(t, adm, fn)
	require.True(t, ok)
	assert.Equal(t, admin.FunctionStatus{Name: fn, Total: 0, Running: 0, Workers: 1}, st)

	// Cancelling again, or an unknown handle, is an UNKNOWN_JOB error.
	for _, handle := range []string{h, "H:nowhere:1"} {
		err := adm.CancelJob(ctx, handle)
		var se *admin.ServerError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, admin.CodeUnknownJob, se.Code)
		assert.Equal(t, "cancel job "+handle, se.Command)
	}

	for _, bad := range []string{"", "H:x 1", "H:x\t1", "H:x\r\n1"} {
		assert.ErrorIs(t, adm.CancelJob(ctx, bad), admin.ErrInvalidArgument, "handle %q", bad)
	}

	// The connection is still in step after the errors.
	_, err := adm.Version(ctx)
	require.NoError(t, err)
}

func TestCancelJobPersistentQueue(t *testing.T) {
	srv := gearmantest.NewServer(t, gearmantest.WithSQLiteQueue(filepath.Join(t.TempDir(), "queue.db")))
	adm, err := admin.Dial(ctxT(t), srv.Addr())
	require.NoError(t, err)
	defer adm.Close()

	cl := dialGear(t, srv.Addr())
	cancelled := cl.submitBG("fn_persist", "cancel-me", "x")
	cl.submitBG("fn_persist", "keep-me", "y")
	require.NoError(t, adm.CancelJob(ctxT(t), cancelled))

	srv.Restart() // the queue is replayed from SQLite
	uniques, err := adm.ShowUniqueJobs(ctxT(t))
	if err != nil { // the first call may fail on the old connection
		t.Logf("first call after restart: %v", err)
		uniques, err = adm.ShowUniqueJobs(ctxT(t))
	}
	require.NoError(t, err)
	assert.Equal(t, []string{"keep-me"}, uniques)
}

func TestCancelJobFailsWaitingClient(t *testing.T) {
	srv, adm := newAdmin(t)
	cl := dialGear(t, srv.Addr())
	h := cl.submit(pktSubmitJob, "fn_fg", "fg-1", "payload") // foreground
	j, ok := findJob(t, adm, h)
	require.True(t, ok)
	assert.Equal(t, admin.Job{Handle: h}, j, "a foreground job is not in the queue store")

	require.NoError(t, adm.CancelJob(ctxT(t), h))
	typ, data := cl.recv()
	assert.Equal(t, uint32(pktWorkFail), typ)
	assert.Equal(t, h, data)
}

func TestMaxQueue(t *testing.T) {
	srv, adm := newAdmin(t)
	ctx := ctxT(t)
	cl := dialGear(t, srv.Addr())

	// submitErr submits a background job of priority type typ and returns
	// the ERROR packet's text, or "" if the job was created.
	submitErr := func(typ uint32, fn, unique string) string {
		t.Helper()
		cl.send(typ, fn, unique, "x")
		rtyp, data := cl.recv()
		if rtyp == pktJobCreated {
			return ""
		}
		require.Equal(t, uint32(pktError), rtyp, "%q", data)
		return data
	}

	const fn = "fn_mq"
	_, err := adm.Command(ctx, "create function "+fn)
	require.NoError(t, err)

	require.NoError(t, adm.MaxQueue(ctx, fn, 1))
	assert.Empty(t, submitErr(pktSubmitJobBG, fn, "a"))
	assert.Contains(t, submitErr(pktSubmitJobBG, fn, "b"), "QUEUE_ERROR")

	require.NoError(t, adm.MaxQueue(ctx, fn)) // back to unlimited
	assert.Empty(t, submitErr(pktSubmitJobBG, fn, "b"))
	assert.Empty(t, submitErr(pktSubmitJobBG, fn, "c"))

	const fn3 = "fn_mq3"
	_, err = adm.Command(ctx, "create function "+fn3)
	require.NoError(t, err)
	require.NoError(t, adm.MaxQueue(ctx, fn3, 1, 0, 0)) // HIGH NORMAL LOW
	assert.Empty(t, submitErr(pktSubmitHigh, fn3, "h1"))
	assert.Contains(t, submitErr(pktSubmitHigh, fn3, "h2"), "QUEUE_ERROR")
	assert.Empty(t, submitErr(pktSubmitJobBG, fn3, "n1"), "normal priority is unlimited")
	assert.Empty(t, submitErr(pktSubmitLow, fn3, "l1"), "low priority is unlimited")

	// gearmand answers OK for functions it does not know.
	require.NoError(t, adm.MaxQueue(ctx, "fn_unknown", 5))

	for _, sizes := range [][]int{{1, 2}, {1, 2, 3, 4}, {-1}, {0, -1, 0}} {
		assert.ErrorIs(t, adm.MaxQueue(ctx, fn, sizes...), admin.ErrInvalidArgument, "sizes %v", sizes)
	}
	for _, bad := range []string{"", "a b", "a\nb"} {
		assert.ErrorIs(t, adm.MaxQueue(ctx, bad, 1), admin.ErrInvalidArgument, "function %q", bad)
	}
}

func TestCommand(t *testing.T) {
	_, adm := newAdmin(t)
	ctx := ctxT(t)

	v, err := adm.Command(ctx, "version")
	require.NoError(t, err)
	assert.Regexp(t, `^OK 1\.`, v)

	// CRLF is sent: "create function" strips two characters of its line.
	ok, err := adm.Command(ctx, "create function fn_cmd")
	require.NoError(t, err)
	assert.Equal(t, "OK", ok)
	st, err := adm.Command(ctx, "status")
	require.NoError(t, err)
	assert.Equal(t, "fn_cmd\t0\t0\t0", st)
	ok, err = adm.Command(ctx, "drop function fn_cmd")
	require.NoError(t, err)
	assert.Equal(t, "OK", ok)
	st, err = adm.Command(ctx, "STATUS")
	require.NoError(t, err)
	assert.Equal(t, "", st, "an empty list")

	verbose, err := adm.Command(ctx, "verbose")
	require.NoError(t, err)
	assert.Equal(t, "OK INFO", verbose)

	for cmd, code := range map[string]string{
		"shutdown":     admin.CodeUnknownCommand, // no shutdown in 1.1.20
		"no-such-cmd":  admin.CodeUnknownCommand,
		"show foo":     admin.CodeUnknownShowArguments,
		"maxqueue":     admin.CodeInvalidArguments,
		"cancel job x": admin.CodeUnknownJob,
	} {
		_, err := adm.Command(ctx, cmd)
		var se *admin.ServerError
		require.ErrorAs(t, err, &se, cmd)
		assert.Equal(t, code, se.Code, cmd)
		assert.Equal(t, cmd, se.Command)
		assert.Contains(t, se.Error(), code)
	}

	for _, bad := range []string{"status\r\n", "a\nb", "\x00x"} {
		_, err := adm.Command(ctx, bad)
		assert.ErrorIs(t, err, admin.ErrInvalidArgument, "%q", bad)
	}

	// gearmand 1.1.20 closes the connection instead of answering "maxqueue"
	// with four sizes; the Client dials a new connection for the next call.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = adm.Command(short, "maxqueue fn_x 1 2 3 4")
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	t.Logf("maxqueue with four sizes: %v", err)

	pid, err := adm.Getpid(ctx)
	require.NoError(t, err)
	assert.Positive(t, pid)
}

func TestConcurrentUse(t *testing.T) {
	srv, adm := newAdmin(t)
	dialGear(t, srv.Addr()).submitBG("fn_conc", "u", "x")
	var wg sync.WaitGroup
	errs := make(chan error, 8*30)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
			defer cancel()
			for i := range 30 {
				var err error
				switch (g + i) % 4 {
				case 0:
					var v string
					if v, err = adm.Version(ctx); err == nil && v == "" {
						err = errors.New("empty version")
					}
				case 1:
					var st []admin.FunctionStatus
					if st, err = adm.Status(ctx); err == nil && len(st) != 1 {
						err = fmt.Errorf("status: %v", st)
					}
				case 2:
					var jobs []admin.Job
					if jobs, err = adm.ShowJobs(ctx); err == nil && len(jobs) != 1 {
						err = fmt.Errorf("jobs: %v", jobs)
					}
				case 3:
					_, err = adm.Workers(ctx)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestReconnectAfterServerRestart(t *testing.T) {
	srv, adm := newAdmin(t)
	pid1, err := adm.Getpid(ctxT(t))
	require.NoError(t, err)

	srv.Restart()
	// The old connection is dead; at most one call fails on it, then the
	// Client dials again.
	pid2, err := adm.Getpid(ctxT(t))
	if err != nil {
		t.Logf("first call after restart: %v", err)
		pid2, err = adm.Getpid(ctxT(t))
	}
	require.NoError(t, err)
	assert.NotEqual(t, pid1, pid2)
	assert.Equal(t, srv.Pid(), pid2)
}

// fakeServer is a TCP listener whose connections are handled by handle(n,
// conn), n counting accepted connections from 0.
func fakeServer(t *testing.T, handle func(n int, c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(n, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// silent reads and discards everything, never answering.
func silent(_ int, c net.Conn) { _, _ = io.Copy(io.Discard, c) }

// scripted answers each command line with replies[line]; unknown commands
// get no answer.
func scripted(replies map[string]string) func(int, net.Conn) {
	return func(_ int, c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if r, ok := replies[strings.TrimRight(line, "\r\n")]; ok {
				if _, err := io.WriteString(c, r); err != nil {
					return
				}
			}
		}
	}
}

func TestDeadlineAgainstSilentServer(t *testing.T) {
	// The first connection never answers; later ones answer "version".
	addr := fakeServer(t, func(n int, c net.Conn) {
		if n == 0 {
			silent(n, c)
			return
		}
		scripted(map[string]string{"version": "OK 1.1.20+ds\n"})(n, c)
	})
	adm, err := admin.Dial(ctxT(t), addr)
	require.NoError(t, err)
	defer adm.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = adm.Status(ctx)
	elapsed := time.Since(start)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, elapsed, 2*time.Second)
	t.Logf("Status against a silent server: %v after %v", err, elapsed.Round(time.Millisecond))

	// The Client stays usable: it dials again.
	v, err := adm.Version(ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, "1.1.20+ds", v)

	// An expired context fails at once, without touching the connection.
	_, err = adm.Version(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	v, err = adm.Version(ctxT(t))
	require.NoError(t, err)
	assert.Equal(t, "1.1.20+ds", v)
}

func TestCancelAgainstSilentServer(t *testing.T) {
	adm, err := admin.Dial(ctxT(t), fakeServer(t, silent))
	require.NoError(t, err)
	defer adm.Close()

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = adm.Workers(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestWaitingForConnectionHonoursContext(t *testing.T) {
	adm, err := admin.Dial(ctxT(t), fakeServer(t, silent))
	require.NoError(t, err)
	defer adm.Close()

	slowCtx, cancelSlow := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelSlow()
	slowDone := make(chan error, 1)
	go func() {
		_, err := adm.Version(slowCtx)
		slowDone <- err
	}()
	time.Sleep(100 * time.Millisecond) // let it take the connection

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = adm.Status(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Second)

	cancelSlow()
	require.ErrorIs(t, <-slowDone, context.Canceled)
}

func TestClose(t *testing.T) {
	adm, err := admin.Dial(ctxT(t), fakeServer(t, silent))
	require.NoError(t, err)

	// Close interrupts a call in progress.
	done := make(chan error, 1)
	go func() {
		_, err := adm.ShowJobs(context.Background())
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, adm.Close())
	select {
	case err := <-done:
		assert.ErrorIs(t, err, admin.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not interrupt ShowJobs")
	}

	require.NoError(t, adm.Close(), "Close is idempotent")
	_, err = adm.Version(ctxT(t))
	assert.ErrorIs(t, err, admin.ErrClosed)
	assert.ErrorIs(t, adm.CancelJob(ctxT(t), "H:x:1"), admin.ErrClosed)
}

func TestDialError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()

	_, err = admin.Dial(ctxT(t), addr)
	var opErr *net.OpError
	require.ErrorAs(t, err, &opErr)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = admin.Dial(ctx, addr)
	require.ErrorIs(t, err, context.Canceled)
}

func TestParsingEdgeCases(t *testing.T) {
	addr := fakeServer(t, scripted(map[string]string{
		"workers": "7 ::1 - :\n" +
			"8 10.0.0.1  : f1\n" + // empty client id
			"9 127.0.0.1 id with spaces : f1 f2\n" +
			".\n",
		"status":            "tab\tname\t3\t1\t2\n.\n",
		"prioritystatus":    "fn\t1\t2\t3\t4\n.\n",
		"show jobs":         "H:h:1\t255\t1\t1\n.\n",
		"show unique jobs":  "u1\nu2\tH:h:2\n.\n",
		"getpid":            "OK 42\n",
		"version":           "OK\r\n", // no version text
		"cancel job H:h:1":  "ERR UNKNOWN_JOB\r\n",
		"maxqueue fn 1":     "OK 7\r\n", // not a plain OK
		"create function x": "ERR CREATE_FUNCTION some+message here\r\n",
	}))
	adm, err := admin.Dial(ctxT(t), addr)
	require.NoError(t, err)
	defer adm.Close()
	ctx := ctxT(t)

	ws, err := adm.Workers(ctx)
	require.NoError(t, err)
	assert.Equal(t, []admin.WorkerInfo{
		{FD: 7, IP: "::1", ClientID: "-", Functions: []string{}},
		{FD: 8, IP: "10.0.0.1", ClientID: "", Functions: []string{"f1"}},
		{FD: 9, IP: "127.0.0.1", ClientID: "id with spaces", Functions: []string{"f1", "f2"}},
	}, ws)

	st, err := adm.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, []admin.FunctionStatus{{Name: "tab\tname", Total: 3, Running: 1, Workers: 2}}, st)

	ps, err := adm.PriorityStatus(ctx)
	require.NoError(t, err)
	assert.Equal(t, []admin.PriorityStatus{{Name: "fn", High: 1, Normal: 2, Low: 3, Workers: 4}}, ps)

	jobs, err := adm.ShowJobs(ctx)
	require.NoError(t, err)
	assert.Equal(t, []admin.Job{{Handle: "H:h:1", Retries: 255, Ignore: true, Queued: true}}, jobs)

	u, err := adm.ShowUniqueJobs(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"u1", "u2\tH:h:2"}, u)

	pid, err := adm.Getpid(ctx)
	require.NoError(t, err)
	assert.Equal(t, 42, pid)

	var se *admin.ServerError
	err = adm.CancelJob(ctx, "H:h:1")
	require.ErrorAs(t, err, &se)
	assert.Equal(t, admin.ServerError{Command: "cancel job H:h:1", Code: "UNKNOWN_JOB"}, *se)
	assert.Equal(t, `admin: "cancel job H:h:1": server error UNKNOWN_JOB`, err.Error())

	_, err = adm.Command(ctx, "create function x")
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "CREATE_FUNCTION", se.Code)
	assert.Equal(t, "some+message here", se.Message)

	_, err = adm.Version(ctx)
	assert.ErrorIs(t, err, admin.ErrProtocol)
	assert.ErrorIs(t, adm.MaxQueue(ctx, "fn", 1), admin.ErrProtocol)

	// Still usable after protocol errors (the connection was replaced).
	pid, err = adm.Getpid(ctx)
	require.NoError(t, err)
	assert.Equal(t, 42, pid)
}

func TestMalformedLists(t *testing.T) {
	addr := fakeServer(t, scripted(map[string]string{
		"workers":          "not a worker line\n.\n",
		"status":           "fn\t1\tx\t2\n.\n",
		"prioritystatus":   "fn\t1\t2\n.\n",
		"show jobs":        "H:h:1\t0\t0\n.\n",
		"show unique jobs": "u1\n", // connection closes before "."
	}))
	adm, err := admin.Dial(ctxT(t), addr)
	require.NoError(t, err)
	defer adm.Close()
	ctx := ctxT(t)

	_, err = adm.Workers(ctx)
	assert.ErrorIs(t, err, admin.ErrProtocol)
	_, err = adm.Status(ctx)
	assert.ErrorIs(t, err, admin.ErrProtocol)
	_, err = adm.PriorityStatus(ctx)
	assert.ErrorIs(t, err, admin.ErrProtocol)
	_, err = adm.ShowJobs(ctx)
	assert.ErrorIs(t, err, admin.ErrProtocol)

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = adm.ShowUniqueJobs(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a list without its final line")
}
