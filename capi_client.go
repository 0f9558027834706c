//go:build cgo && linux

package gearman

// capi_client.go implements boundary.go's client and task interfaces over
// libgearman (client_tasks.c).

/*
#include "callbacks.h"
*/
import "C"

import (
	"unsafe"
)

type cClient struct {
	p           *C.gearman_client_st
	progress    *C.uint64_t // gm_client_create's packet counter
	nonBlocking bool        // the NON_BLOCKING option as last set
	scratch     []byte      // NUL-terminated names for one call, reused
	rec         *C.gm_recorder
	reqs        []pollRequest
	logGen      uint64 // the logSink generation its log hook was set from
}

// cstrings gives C NUL-terminated copies of name and unique for the duration
// of one call, in the client's scratch buffer: a job then costs no C
// allocation and no malloc/free crossings for its names. An empty unique is
// NULL, or with fresh a new random UUID (uuid.go), written in place.
func (c *cClient) cstrings(name, unique string, fresh bool) (*C.char, *C.char) {
	b := append(append(c.scratch[:0], name...), 0)
	switch {
	case unique != "":
		b = append(append(b, unique...), 0)
	case fresh:
		b = append(appendUUID(b), 0)
	}
	c.scratch = b
	fn := (*C.char)(unsafe.Pointer(&b[0]))
	if len(b) == len(name)+1 {
		return fn, nil // no unique key: libgearman's NULL
	}
	return fn, (*C.char)(unsafe.Pointer(&b[len(name)+1]))
}

func newClientLib() (clientLib, error) {
	p := C.gm_client_create()
	if p == nil {
		return nil, newError("NewClient", MemoryAllocationFailure, "gearman_client_create failed")
	}
	return &cClient{p: p, progress: C.gm_client_progress(p)}, nil
}

// cEvents is an eventMask: one unsigned in C memory.
type cEvents struct{ p *C.unsigned }

func newEventMask() (eventMask, error) {
	p := C.gm_events_new()
	if p == nil {
		return nil, newError("NewClient", MemoryAllocationFailure, "allocating the callback set failed")
	}
	return cEvents{p}, nil
}

func (m cEvents) set(bits uint32) { C.gm_events_set(m.p, C.unsigned(bits)) }
func (m cEvents) free()           { C.free(unsafe.Pointer(m.p)) }

func (c *cClient) free() { C.gm_client_free(c.p); c.p, c.progress = nil, nil }

func (c *cClient) addServer(host string, port int) ReturnCode {
	h := cstring(host)
	defer cfree(h)
	return ReturnCode(C.gearman_client_add_server(c.p, h, C.in_port_t(port)))
}

func (c *cClient) addServers(servers string) ReturnCode {
	s := cstring(servers)
	defer cfree(s)
	return ReturnCode(C.gearman_client_add_servers(c.p, s))
}

func (c *cClient) errorText() string { return C.GoString(C.gearman_client_error(c.p)) }
func (c *cClient) errno() int        { return int(C.gearman_client_errno(c.p)) }

func (c *cClient) enableExceptions() bool { return bool(C.gm_client_set_exceptions(c.p)) }

func (c *cClient) submit(req taskRequest) (taskLib, ReturnCode) {
	name := req.function
	if req.kind == kindStatus || req.kind == kindStatusUnique {
		name = req.key
	}
	// Jobs get their unique key here rather than from libgearman (uuid.go).
	submitsJob := req.kind == kindForeground || req.kind == kindBackground
	fn, u := c.cstrings(name, req.unique, submitsJob)
	w, n := cbytes(req.workload)
	opts := C.gm_task_opts{
		kind:         C.int(req.kind),
		priority:     C.int(req.priority),
		accumulate:   C.bool(req.accumulate),
		caller_frees: C.bool(req.sink == nil),
	}
	var h handle
	if req.sink != nil {
		h = newHandle(req.sink)
		opts.go_task = C.uintptr_t(h)
		if m, ok := req.events.(cEvents); ok {
			opts.go_events = m.p
		}
	}
	var rc C.gearman_return_t
	t := C.gm_add_task(c.p, &opts, fn, u, w, n, &rc)
	if t == nil {
		if h != 0 {
			deleteHandle(h)
		}
		return nil, ReturnCode(rc)
	}
	return cTask{t}, Success
}

func (c *cClient) wait(timeoutMs, wakeFD int) ReturnCode {
	return ReturnCode(C.gm_client_wait(c.p, C.int(timeoutMs), C.int(wakeFD)))
}

func (c *cClient) setNonBlocking(on bool) {
	if on == c.nonBlocking {
		return
	}
	c.nonBlocking = on
	if on {
		C.gearman_client_add_options(c.p, C.GEARMAN_CLIENT_NON_BLOCKING)
	} else {
		C.gearman_client_remove_options(c.p, C.GEARMAN_CLIENT_NON_BLOCKING)
	}
}

func (c *cClient) setLog(h handle, v Verbose, gen uint64) {
	C.gm_client_set_log(c.p, C.uintptr_t(h), C.int(v))
	c.logGen = gen
}

func (c *cClient) loggedGen() uint64 { return c.logGen }

// withTLSFiles gives call C copies of the three paths ("" as NULL), freed
// when it returns.
func withTLSFiles(t tlsFiles, call func(ca, cert, key *C.char)) {
	ca, cert, key := cstring(t.ca), cstring(t.cert), cstring(t.key)
	defer cfree(ca)
	defer cfree(cert)
	defer cfree(key)
	call(ca, cert, key)
}

func (c *cClient) setSSL(t tlsFiles) {
	withTLSFiles(t, func(ca, cert, key *C.char) { C.gm_client_set_ssl(c.p, ca, cert, key) })
}

// packets reads the client's packet counter in place: only this client's
// calls, which Client serializes, write it.
func (c *cClient) packets() uint64 { return uint64(*c.progress) }

func (c *cClient) setTimeout(ms int) { C.gearman_client_set_timeout(c.p, C.int(ms)) }

func (c *cClient) step(waitFirst bool) (ReturnCode, []pollRequest) {
	rc := ReturnCode(C.gm_client_step(c.p, C.bool(waitFirst), c.recorder()))
	if rc != IOWait {
		return rc, nil
	}
	return rc, c.recorded()
}

// recorder is where libgearman's waits are recorded: Go memory without Go
// pointers, which C may use during a call.
func (c *cClient) recorder() *C.gm_recorder {
	if c.rec == nil {
		c.rec = new(C.gm_recorder)
	}
	return c.rec
}

// recorded returns what the last wait recorded, in a slice reused by the
// next call.
func (c *cClient) recorded() []pollRequest {
	reqs := c.reqs[:0]
	for i := range int(c.rec.n) {
		q := c.rec.fds[i]
		reqs = append(reqs, pollRequest{fd: int(q.fd), events: int16(q.events), gen: uint32(q.gen)})
	}
	c.reqs = reqs
	return reqs
}

func (c *cClient) runUntil(t taskLib, wakeFD, timeoutMs int) (rc ReturnCode, woken, timedOut bool) {
	var w, to C.bool
	var until *C.gm_task
	if t != nil {
		until = t.(cTask).p
	}
	rc = ReturnCode(C.gm_client_run_until(c.p, until, C.int(wakeFD), C.int(timeoutMs), &w, &to))
	return rc, bool(w), bool(to)
}

func (c *cClient) runTasks(timeoutMs int) ReturnCode {
	return ReturnCode(C.gm_run_tasks(c.p, C.int(timeoutMs)))
}

func (c *cClient) echo(data []byte, timeoutMs, wakeFD int) ReturnCode {
	p, n := cbytes(data)
	return ReturnCode(C.gm_echo(c.p, p, n, C.int(timeoutMs), C.int(wakeFD)))
}

// cTask is a gm_task: pointer-shaped, so boxing it in taskLib costs nothing.
type cTask struct{ p *C.gm_task }

func (t cTask) finished() bool     { return bool(t.p.finished) }
func (t cTask) packets() uint64    { return uint64(t.p.packets) }
func (t cTask) result() ReturnCode { return ReturnCode(t.p.result) }
func (t cTask) jobHandle() string  { return C.GoString(&t.p.job_handle[0]) }
func (t cTask) release()           { C.gm_task_release(t.p) }

func (t cTask) data() []byte {
	if t.p.data.len == 0 {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(t.p.data.ptr), C.int(t.p.data.len))
}

func (t cTask) status() JobStatus {
	return JobStatus{
		Known:       bool(t.p.known),
		Running:     bool(t.p.running),
		Numerator:   int(t.p.numerator),
		Denominator: int(t.p.denominator),
	}
}

// cLiveTask is the libgearman task a callback runs for.
type cLiveTask struct{ p *C.gearman_task_st }

func (t cLiveTask) jobHandle() string { return C.GoString(C.gearman_task_job_handle(t.p)) }

func (t cLiveTask) data() []byte {
	p := C.gearman_task_data(t.p)
	if p == nil {
		return nil
	}
	return C.GoBytes(p, C.int(C.gearman_task_data_size(t.p)))
}

func (t cLiveTask) status() JobStatus {
	return JobStatus{
		Known:       bool(C.gearman_task_is_known(t.p)),
		Running:     bool(C.gearman_task_is_running(t.p)),
		Numerator:   int(C.gearman_task_numerator(t.p)),
		Denominator: int(C.gearman_task_denominator(t.p)),
	}
}

func (t cLiveTask) sendWorkload(data []byte) (int, ReturnCode) {
	p, n := cbytes(data)
	// libgearman 1.1.20 leaves rc untouched on one failure path
	// (send_and_flush returns NOT_FLUSHING as the byte count), so it starts
	// out as a failure that only libgearman can turn into SUCCESS.
	rc := C.gearman_return_t(C.GEARMAN_NOT_FLUSHING)
	sent := C.gm_task_send_workload(t.p, unsafe.Pointer(p), n, &rc)
	if rc != C.GEARMAN_SUCCESS {
		sent = 0
	}
	return int(sent), ReturnCode(rc)
}

func (t cLiveTask) recvData(n int) ([]byte, ReturnCode) {
	if n <= 0 {
		return nil, InvalidArgument
	}
	buf := make([]byte, n)
	var rc C.gearman_return_t
	got := C.gm_task_recv_data(t.p, unsafe.Pointer(&buf[0]), C.size_t(n), &rc)
	return buf[:got], ReturnCode(rc)
}
