package gearman_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// The fuzz targets derive what is valid from the inputs alone, from the
// limits of libgearman 1.1.20 (libgearman-1.0/limits.h) spelled out here, not
// from the package's own validation. `go test` runs their seed corpus
// (testdata/fuzz/<FuzzName>/ and the f.Add calls) as ordinary tests;
// `go test -run '^$' -fuzz '^FuzzWorkloadRoundTrip$' -fuzztime 30s .` fuzzes.
const (
	fuzzFunctionMax   = 512 // GEARMAN_FUNCTION_MAX_SIZE: longest function name
	fuzzUniqueMax     = 64  // GEARMAN_UNIQUE_SIZE: longest unique key of a job
	fuzzHandleSize    = 64  // GEARMAN_JOB_HANDLE_SIZE, the terminating NUL included
	fuzzIdentifierMax = 254 // GEARMAN_MAX_IDENTIFIER: longest worker identifier

	fuzzMaxWorkload  = 1 << 20         // larger inputs are skipped
	fuzzCallDeadline = 5 * time.Second // context deadline of every blocking call
	fuzzHangGrace    = 5 * time.Second // a call still running this long after its deadline hangs
	fuzzEchoFunction = "fuzz_echo"
)

// checkFuzzLimits makes sure the limits above are the package's.
func checkFuzzLimits(f *testing.F) {
	require.Equal(f, fuzzFunctionMax, gearman.FunctionMaxSize)
	require.Equal(f, fuzzUniqueMax, gearman.UniqueSize)
	require.Equal(f, fuzzHandleSize, gearman.JobHandleSize)
}

func fuzzHasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

// fuzzValidName: a function name is 1 to 512 bytes without NUL.
func fuzzValidName(s string) bool {
	return s != "" && len(s) <= fuzzFunctionMax && !fuzzHasNUL(s)
}

// fuzzUniqueRejected: a job's unique key ("" = made up) must hold no NUL and
// at most 64 bytes.
func fuzzUniqueRejected(unique string) bool {
	return len(unique) > fuzzUniqueMax || fuzzHasNUL(unique)
}

// fuzzValidHandle: a job handle is 1 to 63 bytes without NUL (libgearman
// keeps it NUL-terminated in 64 bytes).
func fuzzValidHandle(h string) bool {
	return h != "" && len(h) < fuzzHandleSize && !fuzzHasNUL(h)
}

// ---- FuzzWorkloadRoundTrip ----

// roundTripSeeds are the target's key seeds; testdata/fuzz/FuzzWorkloadRoundTrip
// holds more.
func roundTripSeeds() []struct {
	workload []byte
	unique   string
	sel      byte
} {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := bytes.Repeat(all, 70_000/256+1) // more than one 64 KiB read
	return []struct {
		workload []byte
		unique   string
		sel      byte
	}{
		{[]byte("hello"), "", 0},
		{nil, "", 0},             // empty workload
		{[]byte{0}, "", 1},       // one NUL byte
		{all, "", 2},             // every byte value
		{[]byte("x"), "\x00", 3}, // NUL in the unique key: rejected
		{[]byte("x"), strings.Repeat("u", 63), 4},
		{[]byte("x"), strings.Repeat("u", 65), 5}, // too long: rejected
		{[]byte("\x00REQ\x00\x00\x00\x07\x00\x00\x00\x00"), "k", 0}, // a packet header
		{big, "big", 3},
	}
}

// FuzzWorkloadRoundTrip sends each workload through an echo worker on a real
// gearmand and requires it back byte for byte, with the unique key the
// worker saw equal to the one given. sel picks the call: DoNormal, DoHigh,
// DoLow, or AddTask, AddTaskHigh, AddTaskLow followed by RunTasks. A unique
// key longer than 64 bytes or holding a NUL must be
// refused with InvalidArgument before any job reaches the server; a 64-byte
// key may be. One gearmand, one echo worker and one client serve all inputs.
func FuzzWorkloadRoundTrip(f *testing.F) {
	checkFuzzLimits(f)
	for _, s := range roundTripSeeds() {
		f.Add(s.workload, s.unique, s.sel)
	}

	srv := gearmantest.NewServer(f)
	// seen is the unique key of the last job the worker ran; nil: none ran.
	var seen atomic.Pointer[string]
	startWorker(f, srv, map[string]gearman.WorkerFunc{
		fuzzEchoFunction: func(job *gearman.Job, ctx any) ([]byte, error) {
			u := job.Unique()
			seen.Store(&u)
			return echo(job, ctx)
		},
	})
	c := newClient(f, srv)

	f.Fuzz(func(t *testing.T, workload []byte, unique string, sel byte) {
		if len(workload) > fuzzMaxWorkload {
			t.Skip("workload larger than 1 MiB")
		}
		rejected := fuzzUniqueRejected(unique)
		// libgearman and gearmand 1.1.20 keep a unique key NUL-terminated
		// in 64 bytes: refusing a 64-byte key is as good as carrying it
		// intact. Cutting it to 63 bytes (two keys become one job) is not.
		mayRefuse := len(unique) == fuzzUniqueMax

		seen.Store(nil)
		ctx, cancel := context.WithTimeout(context.Background(), fuzzCallDeadline)
		defer cancel()
		var (
			got  []byte
			call string
			err  error
		)
		bounded(t, "round trip", func() { got, call, err = roundTrip(ctx, c, workload, unique, sel) })
		desc := fmt.Sprintf("%s(%d-byte workload, unique %q)", call, len(workload), unique)

		if rejected || (mayRefuse && err != nil) {
			require.Error(t, err, "%s must be refused", desc)
			e, ok := err.(*gearman.Error)
			require.True(t, ok, "%s: error %v is a %T, not a *gearman.Error", desc, err, err)
			require.ErrorIs(t, e, gearman.InvalidArgument, "%s: %v", desc, err)
			require.Nil(t, got, "%s returned a result with its error", desc)
			require.Nil(t, seen.Load(), "%s was refused, yet a job reached the worker", desc)
			return
		}
		require.NoError(t, err, desc)
		require.True(t, bytes.Equal(got, workload),
			"%s: the result differs from the workload: got %d bytes %s, want %d bytes %s",
			desc, len(got), abbrev(got), len(workload), abbrev(workload))
		ran := seen.Load()
		require.NotNil(t, ran, "%s returned without the worker running a job", desc)
		if unique == "#" {
			// libgearman's convention, inherited from PHP: the key "#"
			// stands for the murmur3 hash of the workload, in decimal.
			require.Regexp(t, `^[0-9]{1,10}$`, *ran, "%s: the key the worker saw for \"#\"", desc)
			return
		}
		if unique != "" {
			require.Equal(t, unique, *ran, "%s: the worker saw another unique key (%d bytes)", desc, len(*ran))
		}
	})
}

// roundTrip runs one job through the echo function the way sel says.
func roundTrip(ctx context.Context, c *gearman.Client, workload []byte, unique string, sel byte) ([]byte, string, error) {
	switch sel % 6 {
	case 0:
		res, err := c.DoNormalContext(ctx, fuzzEchoFunction, workload, unique)
		return res, "DoNormal", err
	case 1:
		res, err := c.DoHighContext(ctx, fuzzEchoFunction, workload, unique)
		return res, "DoHigh", err
	case 2:
		res, err := c.DoLowContext(ctx, fuzzEchoFunction, workload, unique)
		return res, "DoLow", err
	}
	adds := []struct {
		name string
		add  func(string, []byte, any, string) (*gearman.Task, error)
	}{{"AddTask", c.AddTask}, {"AddTaskHigh", c.AddTaskHigh}, {"AddTaskLow", c.AddTaskLow}}
	a := adds[sel%6-3]
	task, err := a.add(fuzzEchoFunction, workload, nil, unique)
	if err != nil {
		if task != nil {
			return nil, a.name, fmt.Errorf("%s returned a task with its error %w", a.name, err)
		}
		return nil, a.name, err
	}
	if err := c.RunTasksContext(ctx); err != nil {
		return nil, a.name + "+RunTasks", err
	}
	if rc := task.ReturnCode(); rc != gearman.Success {
		return nil, a.name + "+RunTasks", fmt.Errorf("RunTasks returned nil, but the task ended with %v", rc)
	}
	return task.Data(), a.name + "+RunTasks", nil
}

func abbrev(b []byte) string {
	if len(b) > 32 {
		return fmt.Sprintf("%q...", b[:32])
	}
	return fmt.Sprintf("%q", b)
}

// ---- FuzzArgumentValidation ----

// fuzzHosts are the hosts AddServer is tried with: each resolves without DNS
// (the package resolves the host at once), so the target stays hermetic.
// The last holds a NUL byte, which libgearman would cut the host at.
var fuzzHosts = []string{"", "127.0.0.1", "::1", "localhost", "0.0.0.0", "127.0.0.1\x00junk"}

// FuzzArgumentValidation calls every argument-taking method that needs no job
// server, on a fresh Client with no servers and a fresh Worker, and checks
// the precise contract: each call succeeds or returns a *gearman.Error (the
// returned value itself); arguments outside the documented limits give
// InvalidArgument (or, for an identifier, libgearman's ArgumentTooLarge);
// a valid job, status or ping without servers fails with NoServers at once;
// AddTask* queue; nothing panics or hangs. A failed call leaves its code in
// ReturnCode() and a message in LastError(), and libgearman's part of its
// message is about that failure, not an earlier one.
func FuzzArgumentValidation(f *testing.F) {
	checkFuzzLimits(f)
	long := func(n int) string { return strings.Repeat("n", n) }
	type seed struct {
		function, function2, unique, handle, id string
		workload                                []byte
		ms, port                                int
		host                                    byte
	}
	// Key seeds; testdata/fuzz/FuzzArgumentValidation holds more: limits,
	// regressions, and bug_* reproductions.
	for _, s := range []seed{
		{"reverse", "echo", "u-1", "H:host:1", "worker-1", []byte("x"), 0, 4730, 1},
		{"", "", "", "", "", nil, 0, 0, 0},
		{long(512), long(513), long(64), long(63), long(254), []byte{0}, -1, 65535, 2},
		{long(513), long(512), long(65), long(64), "w", []byte("w"), -2, 65536, 3},
		{"f\x00", "\x00", "u\x00", "H:\x00", "id\x00", []byte("\x00"), math.MaxInt, -1, 5},
		{"f", "g", "u", "H:h:1", "worker-2", []byte("x"), math.MinInt, math.MinInt, 4},
		{"f", "g", "#", "H:h:1", "worker-3", []byte("x"), 0, 0, 1}, // the hash key
	} {
		f.Add(s.function, s.function2, s.unique, s.handle, s.id, s.workload, s.ms, s.port, s.host)
	}

	f.Fuzz(func(t *testing.T, function, function2, unique, handle, id string, workload []byte, ms, port int, host byte) {
		if len(workload) > fuzzMaxWorkload {
			t.Skip("workload larger than 1 MiB")
		}
		h := fuzzHosts[int(host)%len(fuzzHosts)]
		fuzzClientArguments(t, function, unique, handle, workload, ms, h, port)
		fuzzWorkerArguments(t, function, function2, id, ms, h, port)
	})
}

func fuzzClientArguments(t *testing.T, function, unique, handle string, workload []byte, ms int, host string, port int) {
	c, err := gearman.NewClient()
	require.NoError(t, err)
	hung := false
	defer func() {
		if !hung { // a hung call holds the client: Close would wait for it
			require.NoError(t, c.Close())
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), fuzzCallDeadline)
	defer cancel()
	call := func(what string, fn func()) { hung = true; bounded(t, what, fn); hung = false }

	// A job: function, workload, unique key.
	jobBad := !fuzzValidName(function) || fuzzUniqueRejected(unique)
	job := succeeds()
	switch {
	case jobBad:
		job = failsWith(gearman.InvalidArgument)
	case len(unique) == fuzzUniqueMax: // see FuzzWorkloadRoundTrip
		job = job.orFailsWith(gearman.InvalidArgument)
	}
	noServers := func(o outcome) outcome {
		if o.ok {
			o.ok = false
			o.codes = append(o.codes, gearman.NoServers)
		}
		return o
	}
	desc := fmt.Sprintf("(%s, %d-byte workload, %s)", clip(function), len(workload), clip(unique))

	var h string
	call("DoBackground", func() { h, err = c.DoBackgroundContext(ctx, function, workload, unique) })
	checkOutcome(t, "DoBackground"+desc, err, noServers(job), c)
	require.Empty(t, h, "DoBackground failed, yet returned a job handle")

	var tasks []*gearman.Task
	for _, a := range []struct {
		name string
		add  func(string, []byte, any, string) (*gearman.Task, error)
	}{{"AddTask", c.AddTask}, {"AddTaskBackground", c.AddTaskBackground}} {
		task, err := a.add(function, workload, "ctx", unique)
		if checkOutcome(t, a.name+desc, err, job, c) == nil {
			require.NotNil(t, task, "%s succeeded without a task", a.name)
			require.Equal(t, function, task.FunctionName())
			switch unique {
			case "":
				require.NotEmpty(t, task.Unique(), "%s made up no unique key", a.name)
			case "#":
				// Task.Unique is the hash libgearman sends for "#", as PHP's
				// unique() (TestHashKeyIsLibgearmans checks its value).
				require.Regexp(t, `^[0-9]{1,10}$`, task.Unique(), "%s: Task.Unique for \"#\"", a.name)
			default:
				require.Equal(t, unique, task.Unique())
			}
			tasks = append(tasks, task)
		} else {
			require.Nil(t, task, "%s failed, yet returned a task", a.name)
		}
	}

	// A job handle.
	handleOK := fuzzValidHandle(handle)
	status := failsWith(gearman.InvalidArgument)
	if handleOK {
		status = succeeds()
	}
	task, err := c.AddTaskStatus(handle, nil)
	if checkOutcome(t, "AddTaskStatus("+clip(handle)+")", err, status, c) == nil {
		require.NotNil(t, task)
		tasks = append(tasks, task)
	} else {
		require.Nil(t, task)
	}
	var js gearman.JobStatus
	call("JobStatus", func() { js, err = c.JobStatusContext(ctx, handle) })
	checkOutcome(t, "JobStatus("+clip(handle)+")", err, noServers(status), c)
	require.Zero(t, js)

	// A unique key to look up: 1 to 63 bytes without NUL (see
	// JobStatusByUniqueKey: gearmand never answers for 64).
	byUnique := failsWith(gearman.InvalidArgument)
	if unique != "" && len(unique) < fuzzUniqueMax && !fuzzHasNUL(unique) {
		byUnique = failsWith(gearman.NoServers)
	}
	call("JobStatusByUniqueKey", func() { js, err = c.JobStatusByUniqueKeyContext(ctx, unique) })
	checkOutcome(t, "JobStatusByUniqueKey("+clip(unique)+")", err, byUnique, c)
	require.Zero(t, js)

	ping := failsWith(gearman.NoServers)
	if len(workload) == 0 {
		ping = failsWith(gearman.InvalidArgument)
	}
	call("Ping", func() { err = c.PingContext(ctx, workload) })
	checkOutcome(t, fmt.Sprintf("Ping(%d bytes)", len(workload)), err, ping, c)

	// The queued tasks cannot run: RunTasks fails and ends each of them.
	run := succeeds()
	if len(tasks) > 0 {
		run = failsWith(gearman.NoServers)
	}
	call("RunTasks", func() { err = c.RunTasksContext(ctx) })
	checkOutcome(t, fmt.Sprintf("RunTasks(%d tasks)", len(tasks)), err, run, c)
	for _, task := range tasks {
		require.Equal(t, gearman.NoServers, task.ReturnCode(), "a task RunTasks could not send")
	}

	before := c.Timeout()
	if checkOutcome(t, fmt.Sprintf("Client.SetTimeout(%d)", ms), c.SetTimeout(ms), timeoutOutcome(ms), c) == nil {
		require.Equal(t, ms, c.Timeout())
	} else {
		require.Equal(t, before, c.Timeout(), "a refused SetTimeout changed the timeout")
	}
	checkOutcome(t, fmt.Sprintf("Client.AddServer(%q, %d)", host, port), c.AddServer(host, port), addServerOutcome(host, port), c)

	// After Close every call fails, valid ones with ErrClosed (invalid
	// arguments may be refused first); Close stays idempotent.
	require.NoError(t, c.Close())
	_, err = c.DoBackgroundContext(ctx, "f", []byte("x"), "")
	requireClosed(t, "DoBackground after Close", err)
	_, err = c.AddTask("f", []byte("x"), nil, "")
	requireClosed(t, "AddTask after Close", err)
	task, err = c.AddTask(function, workload, nil, unique)
	checkOutcome(t, "AddTask"+desc+" after Close", err, failsWith(gearman.InvalidArgument), nil)
	require.Nil(t, task)
	require.NoError(t, c.Close())
}

func fuzzWorkerArguments(t *testing.T, function, function2, id string, ms int, host string, port int) {
	w, err := gearman.NewWorker()
	require.NoError(t, err)
	hung := false
	defer func() {
		if !hung { // a hung call holds the worker: Close would wait for it
			require.NoError(t, w.Close())
		}
	}()

	// libgearman's identifier: 1 to 254 printable, non-space ASCII bytes.
	var setID outcome
	graph := true
	for i := 0; i < len(id); i++ {
		graph = graph && id[i] > ' ' && id[i] < 0x7f
	}
	switch {
	case id == "":
		setID = failsWith(gearman.InvalidArgument)
	case len(id) > fuzzIdentifierMax && graph:
		setID = failsWith(gearman.ArgumentTooLarge)
	case len(id) > fuzzIdentifierMax:
		setID = failsWith(gearman.ArgumentTooLarge, gearman.InvalidArgument)
	case !graph:
		setID = failsWith(gearman.InvalidArgument)
	default:
		setID = succeeds()
	}
	checkOutcome(t, "SetId("+clip(id)+")", w.SetId(id), setID, w)

	// A function: a valid name, and a timeout of 0 (none) or more
	// milliseconds. libgearman carries 32 bits: a longer timeout may be
	// refused (it must not be cut short, which only a server can see).
	register := func(name string) outcome {
		switch {
		case !fuzzValidName(name) || ms < 0:
			return failsWith(gearman.InvalidArgument)
		case ms > math.MaxUint32:
			return succeeds().orFailsWith(gearman.InvalidArgument, gearman.ArgumentTooLarge)
		}
		return succeeds()
	}
	registered := map[string]bool{}
	if checkOutcome(t, fmt.Sprintf("AddFunction(%s, %d)", clip(function), ms),
		w.AddFunction(function, echo, nil, ms), register(function), w) == nil {
		registered[function] = true
		// Adding it again replaces it (with another timeout, if ms != 0).
		checkOutcome(t, fmt.Sprintf("AddFunction(%s, 0) again", clip(function)),
			w.AddFunction(function, reverse, nil, 0), succeeds(), w)
	}
	if checkOutcome(t, fmt.Sprintf("Register(%s, %d)", clip(function2), ms),
		w.Register(function2, ms), register(function2), w) == nil {
		registered[function2] = true
	}
	// Unregister succeeds for a function registered now, and only then;
	// UnregisterAll, when one is left.
	for _, name := range []string{function, function, function2} {
		var want outcome
		switch {
		case !fuzzValidName(name):
			want = failsWith(gearman.InvalidArgument)
		case registered[name]:
			want = succeeds()
		default:
			want = failsWith(gearman.NoRegisteredFunction)
		}
		if checkOutcome(t, "Unregister("+clip(name)+")", w.Unregister(name), want, w) == nil {
			delete(registered, name)
		}
	}
	unregisterAll := failsWith(gearman.NoRegisteredFunctions)
	if len(registered) > 0 {
		unregisterAll = succeeds()
	}
	checkOutcome(t, fmt.Sprintf("UnregisterAll(%d registered)", len(registered)), w.UnregisterAll(), unregisterAll, w)

	before := w.Timeout()
	if checkOutcome(t, fmt.Sprintf("Worker.SetTimeout(%d)", ms), w.SetTimeout(ms), timeoutOutcome(ms), w) == nil {
		require.Equal(t, ms, w.Timeout())
	} else {
		require.Equal(t, before, w.Timeout(), "a refused SetTimeout changed the timeout")
	}
	added := checkOutcome(t, fmt.Sprintf("Worker.AddServer(%q, %d)", host, port),
		w.AddServer(host, port), addServerOutcome(host, port), w) == nil

	// With nothing registered, Work fails at once, before connecting (to a
	// server that may not exist); an Unregister after it must not carry
	// its message.
	work := failsWith(gearman.NoServers)
	if added {
		work = failsWith(gearman.NoRegisteredFunctions)
	}
	ctx, cancel := context.WithTimeout(context.Background(), fuzzCallDeadline)
	defer cancel()
	hung = true
	bounded(t, "Work", func() { err = w.WorkContext(ctx) })
	hung = false
	checkOutcome(t, fmt.Sprintf("Work(nothing registered, server added: %v)", added), err, work, w)
	unregister := failsWith(gearman.NoRegisteredFunction)
	if !fuzzValidName(function) {
		unregister = failsWith(gearman.InvalidArgument)
	}
	checkOutcome(t, "Unregister("+clip(function)+") after Work", w.Unregister(function), unregister, w)

	require.NoError(t, w.Close())
	requireClosed(t, "Register after Close", w.Register("f", 0))
	requireClosed(t, "SetId after Close", w.SetId("id"))
}

// addServerOutcome: a port outside 0..65535 is refused, any other is added
// (0 means 4730).
func addServerOutcome(host string, port int) outcome {
	switch {
	case port < 0 || port > 65535:
		return failsWith(gearman.InvalidArgument)
	case fuzzHasNUL(host):
		// Not documented either way: libgearman would cut the host at the NUL.
		return succeeds().orFailsWith(gearman.InvalidArgument)
	}
	return succeeds()
}

// timeoutOutcome: a timeout is -1 (forever) or more milliseconds.
func timeoutOutcome(ms int) outcome {
	if ms < -1 {
		return failsWith(gearman.InvalidArgument)
	}
	return succeeds()
}

// ---- checking ----

// outcome is what a call is allowed to do: succeed (ok), or fail with one of
// codes.
type outcome struct {
	ok    bool
	codes []gearman.ReturnCode
}

func succeeds() outcome                             { return outcome{ok: true} }
func failsWith(codes ...gearman.ReturnCode) outcome { return outcome{codes: codes} }

func (o outcome) orFailsWith(codes ...gearman.ReturnCode) outcome {
	o.codes = append(o.codes[:len(o.codes):len(o.codes)], codes...)
	return o
}

func (o outcome) String() string {
	var s []string
	if o.ok {
		s = append(s, "success")
	}
	for _, c := range o.codes {
		s = append(s, c.String())
	}
	return strings.Join(s, " or ")
}

// recorder is a Client or a Worker: what a failed call leaves behind.
type recorder interface {
	ReturnCode() gearman.ReturnCode
	LastError() string
}

// libMessage matches the start of a libgearman error text, which names the
// code it is about: "gearman_set_identifier(GEARMAN_INVALID_ARGUMENT) ...".
var libMessage = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_:]*\((GEARMAN_[A-Z0-9_]+)\)`)

// checkOutcome fails t unless err is allowed by want, and returns err as a
// *gearman.Error (nil for success). A failure must be a *gearman.Error with
// one of want's codes; obj must report that code and a message; and a
// libgearman text in the error must name that code: one naming another
// belongs to an earlier call.
func checkOutcome(t *testing.T, call string, err error, want outcome, obj recorder) *gearman.Error {
	t.Helper()
	if err == nil {
		require.True(t, want.ok, "%s succeeded; want %v", call, want)
		return nil
	}
	e, ok := err.(*gearman.Error)
	require.True(t, ok, "%s: error %q is a %T, not a *gearman.Error", call, err, err)
	allowed := false
	for _, c := range want.codes {
		allowed = allowed || e.Code == c
	}
	require.True(t, allowed, "%s: %v; want %v", call, err, want)
	require.ErrorIs(t, err, e.Code)
	if m := libMessage.FindStringSubmatch(e.Msg); m != nil {
		require.Equal(t, e.Code.String(), m[1],
			"%s failed with %v, but its message is about another failure: %q", call, e.Code, e.Msg)
	}
	if obj != nil {
		require.Equal(t, e.Code, obj.ReturnCode(), "%s: ReturnCode() after the failure", call)
		require.NotEmpty(t, obj.LastError(), "%s: LastError() after the failure", call)
	}
	return e
}

func requireClosed(t *testing.T, call string, err error) {
	t.Helper()
	require.Error(t, err, call)
	_, ok := err.(*gearman.Error)
	require.True(t, ok, "%s: error %q is a %T, not a *gearman.Error", call, err, err)
	require.ErrorIs(t, err, gearman.ErrClosed, call)
	require.ErrorIs(t, err, gearman.InvalidArgument, call)
}

// bounded runs fn, and fails t if fn is still running fuzzHangGrace after
// the deadline of the context it was given: a hang, not a slow call.
func bounded(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	timer := time.NewTimer(fuzzCallDeadline + fuzzHangGrace)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("%s still running %v after its context's deadline: it hangs", what, fuzzHangGrace)
	}
}

// clip quotes s for a message, shortened when long.
func clip(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%q...(%d bytes)", s[:40], len(s))
	}
	return fmt.Sprintf("%q", s)
}
