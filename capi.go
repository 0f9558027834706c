//go:build cgo && linux

package gearman

// capi.go implements boundary.go over libgearman: what the library is and
// can do, and the worker and its jobs; capi_client.go the client and its
// tasks. They are the only Go files, with trampolines.go, that use C or
// unsafe.

/*
#include "callbacks.h"
#include "sockopt.h"
*/
import "C"

import (
	"strings"
	"syscall"
	"unsafe"
)

func init() { C.gm_sndbuf_init() }

func setSendBufferFix(on bool) {
	if on {
		C.gm_sndbuf_fix = 1
	} else {
		C.gm_sndbuf_fix = 0
	}
}

func sendBufferFix() bool { return C.gm_sndbuf_fix != 0 }

func libVersion() string   { return C.GoString(C.gearman_version()) }
func libBugReport() string { return C.GoString(C.gearman_bugreport()) }

// libNeeded lists the libraries the loaded libgearman.so needs; ok is false
// when libgearman is not a shared object in this process (a static link).
func libNeeded() (needed []string, ok bool) {
	var buf [4096]C.char
	n := int(C.gm_lib_needed(&buf[0], C.size_t(len(buf))))
	if n < 0 {
		return nil, false
	}
	if n == 0 {
		return nil, true
	}
	return strings.Split(C.GoString(&buf[0]), "\n"), true
}

// cHeapInUse returns the bytes of C memory in use in this process (malloc's
// count): tests prove with it that jobs leave no C memory behind.
func cHeapInUse() int { return int(C.gm_heap_in_use()) }

// wireHeldWaits counts the waits wire.c held past an interrupt or a
// timeout because a transfer was under way.
func wireHeldWaits() int64 { return int64(C.gm_wire_held_waits()) }

// grabbedJobsLive counts the C records of grabbed jobs not yet freed.
func grabbedJobsLive() int { return int(C.gm_jobs_live()) }

func workerSSLAvailable() bool { return bool(C.gm_worker_ssl_available()) }

func libVerboseName(v Verbose) string {
	if v < 0 || v >= VerboseMax {
		return ""
	}
	return C.GoString(C.gearman_verbose_name(C.gearman_verbose_t(v)))
}

// cstring returns a NUL-terminated C copy of s, or NULL for "". Free it with
// cfree.
func cstring(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

func cfree(p *C.char) { C.free(unsafe.Pointer(p)) }

// cbytes points C at b's backing array for the duration of one call; every
// libgearman call given it copies what it keeps.
func cbytes(b []byte) (*C.char, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// ---- worker ----

type cWorker struct {
	p       *C.gearman_worker_st
	wstate  *C.gm_wstate // of p's waits
	handles []handle     // one per define: C keeps the context until free
	rec     *C.gm_recorder
	reqs    []pollRequest
	logGen  uint64 // the logSink generation its log hook was set from
}

func newWorkerLib() (workerLib, error) {
	p := C.gm_worker_create()
	if p == nil {
		return nil, newError("NewWorker", MemoryAllocationFailure, "gearman_worker_create failed")
	}
	wstate := C.gm_wstate_new(p)
	if wstate == nil {
		C.gearman_worker_free(p)
		return nil, newError("NewWorker", MemoryAllocationFailure, "out of memory")
	}
	return &cWorker{p: p, wstate: wstate}, nil
}

// wstateAddr is the wstate as an integer: cgo checks every pointer argument
// for Go pointers, a cost paid at every call, and this is a C pointer.
func (w *cWorker) wstateAddr() C.uintptr_t { return C.uintptr_t(uintptr(unsafe.Pointer(w.wstate))) }

// interrupt writes to the worker's wakeup pipe, which every wait inside
// libgearman polls: the binding's poll ends the wait as a timeout, at once
// or, in the middle of a transfer, at its next packet boundary (wire.c). It
// touches only the pipe and the wstate, so it is safe while another thread is
// inside libgearman.
func (w *cWorker) interrupt(closing bool) { C.gm_worker_interrupt(w.wstateAddr(), C.bool(closing)) }

func (w *cWorker) clearInterrupt() bool { return bool(C.gm_worker_clear_interrupt(w.wstateAddr())) }

func (w *cWorker) free() {
	C.gearman_worker_free(w.p)
	w.p = nil
	C.gm_wstate_free(w.wstate)
	w.wstate = nil
	for _, h := range w.handles {
		deleteHandle(h)
	}
	w.handles = nil
}

func (w *cWorker) addServer(host string, port int) ReturnCode {
	h := cstring(host)
	defer cfree(h)
	return ReturnCode(C.gearman_worker_add_server(w.p, h, C.in_port_t(port)))
}

func (w *cWorker) addServers(servers string) ReturnCode {
	s := cstring(servers)
	defer cfree(s)
	return ReturnCode(C.gearman_worker_add_servers(w.p, s))
}

func (w *cWorker) errorText() string { return C.GoString(C.gm_worker_error(w.p, w.wstateAddr())) }
func (w *cWorker) errno() int        { return int(C.gearman_worker_errno(w.p)) }

func (w *cWorker) options() WorkerOptions {
	return WorkerOptions(C.gearman_worker_options(w.p))
}
func (w *cWorker) setOptions(o WorkerOptions) {
	C.gearman_worker_set_options(w.p, C.gearman_worker_options_t(o))
}
func (w *cWorker) addOptions(o WorkerOptions) {
	C.gearman_worker_add_options(w.p, C.gearman_worker_options_t(o))
}
func (w *cWorker) removeOptions(o WorkerOptions) {
	C.gearman_worker_remove_options(w.p, C.gearman_worker_options_t(o))
}

func (w *cWorker) setLog(h handle, v Verbose, gen uint64) {
	C.gm_worker_set_log(w.p, C.uintptr_t(h), C.int(v))
	w.logGen = gen
}

func (w *cWorker) loggedGen() uint64 { return w.logGen }

func (w *cWorker) setSSL(t tlsFiles) {
	withTLSFiles(t, func(ca, cert, key *C.char) { C.gm_worker_set_ssl(w.p, ca, cert, key) })
}

func (w *cWorker) setIdentifier(id string) ReturnCode {
	p, n := cbytes([]byte(id))
	return ReturnCode(C.gearman_worker_set_identifier(w.p, p, n))
}

func (w *cWorker) enableExceptions() bool {
	return bool(C.gm_worker_set_exceptions(w.p, w.wstateAddr()))
}

func (w *cWorker) define(name string, timeout int, fn *workerFunction) ReturnCode {
	n := cstring(name)
	defer cfree(n)
	h := newHandle(fn)
	rc := ReturnCode(C.gm_worker_define(w.p, n, C.size_t(len(name)), C.uint32_t(timeout), C.uintptr_t(h)))
	if rc != Success {
		deleteHandle(h)
		return rc
	}
	w.handles = append(w.handles, h)
	return rc
}

func (w *cWorker) register(name string, timeout int) ReturnCode {
	n := cstring(name)
	defer cfree(n)
	return ReturnCode(C.gearman_worker_register(w.p, n, C.uint32_t(timeout)))
}

func (w *cWorker) unregister(name string) ReturnCode {
	n := cstring(name)
	defer cfree(n)
	return ReturnCode(C.gearman_worker_unregister(w.p, n))
}

func (w *cWorker) unregisterAll() ReturnCode {
	return ReturnCode(C.gearman_worker_unregister_all(w.p))
}

// work runs one job, or a batch (gm_worker_work); a negative timeoutMs
// waits without a limit. The worker goes to C as an integer, as its wstate
// does (wstateAddr).
func (w *cWorker) work(timeoutMs int) ReturnCode {
	return ReturnCode(C.gm_worker_work(C.uintptr_t(uintptr(unsafe.Pointer(w.p))), w.wstateAddr(), C.int(timeoutMs)))
}

func (w *cWorker) step(waitFirst, asleep, ready, timed bool) (ReturnCode, []pollRequest) {
	if w.rec == nil {
		w.rec = new(C.gm_recorder) // Go memory without Go pointers, which C may use during a call
		w.rec.blind = true         // the netpoller's epoll reports what came before the wait
	}
	w.rec.ready, w.rec.timed = C.bool(ready), C.bool(timed)
	rc := ReturnCode(C.gm_worker_step(C.uintptr_t(uintptr(unsafe.Pointer(w.p))), w.wstateAddr(),
		C.bool(waitFirst), C.bool(asleep), w.rec))
	if rc != IOWait && rc != NoJobs {
		return rc, nil
	}
	reqs := w.reqs[:0]
	for i := range int(w.rec.n) {
		q := w.rec.fds[i]
		reqs = append(reqs, pollRequest{fd: int(q.fd), events: int16(q.events), gen: uint32(q.gen)})
	}
	w.reqs = reqs
	return rc, reqs
}

func (w *cWorker) grabJob(timeoutMs int) (jobLib, ReturnCode) {
	var rc C.gearman_return_t
	j := C.gm_worker_grab_job(w.p, w.wstateAddr(), C.int(timeoutMs), &rc)
	if j == nil {
		return nil, ReturnCode(rc)
	}
	return cJob{j}, ReturnCode(rc)
}

func (w *cWorker) echo(data []byte, timeoutMs int) ReturnCode {
	p, n := cbytes(data)
	return ReturnCode(C.gm_worker_echo(w.p, w.wstateAddr(), unsafe.Pointer(p), n, C.int(clampWait(timeoutMs))))
}

func (w *cWorker) wait(timeoutMs int) ReturnCode {
	return ReturnCode(C.gm_worker_wait(w.p, w.wstateAddr(), C.int(clampWait(timeoutMs))))
}

// ---- job ----

// cJob is valid while the worker function that received it runs, or, for a
// grabbed job, until free.
type cJob struct{ j *C.gm_job }

func (j cJob) handle() string       { return C.GoString(C.gearman_job_handle(j.j.job)) }
func (j cJob) functionName() string { return C.GoString(C.gearman_job_function_name(j.j.job)) }
func (j cJob) unique() string       { return C.GoString(C.gearman_job_unique(j.j.job)) }
func (j cJob) errorText() string    { return C.GoString(C.gearman_job_error(j.j.job)) }
func (j cJob) detach()              { C.gm_job_detach(j.j) }

// workload copies the workload from C memory without calling C. It copies
// with Go's own copy rather than C.GoBytes, whose pointer argument cgo checks
// for Go pointers at every job.
func (j cJob) workload() []byte {
	if j.j.workload_size == 0 {
		return nil
	}
	b := make([]byte, int(j.j.workload_size)) // bytes.Clone would append, through growslice
	copy(b, unsafe.Slice((*byte)(j.j.workload), len(b)))
	return b
}

// send sends one packet of the job (gm_job_send).
func (j cJob) send(packet C.int, data []byte, numerator, denominator int) ReturnCode {
	p, n := cbytes(data)
	return ReturnCode(C.gm_job_send(j.j, packet, unsafe.Pointer(p), n,
		C.uint32_t(numerator), C.uint32_t(denominator)))
}

func (j cJob) sendData(data []byte) ReturnCode    { return j.send(C.GM_JOB_DATA, data, 0, 0) }
func (j cJob) sendWarning(data []byte) ReturnCode { return j.send(C.GM_JOB_WARNING, data, 0, 0) }

func (j cJob) sendStatus(numerator, denominator int) ReturnCode {
	return j.send(C.GM_JOB_STATUS, nil, numerator, denominator)
}

func (j cJob) sendComplete(data []byte) ReturnCode { return j.send(C.GM_JOB_COMPLETE, data, 0, 0) }

func (j cJob) completeOnReturn(data []byte) ReturnCode {
	if j.j.result == nil || len(data) > int(j.j.result_cap) {
		return j.sendComplete(data)
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(j.j.result)), len(data)), data)
	j.j.result_size = C.size_t(len(data))
	j.j.result_set = true
	return Success
}

func (j cJob) sendException(data []byte) ReturnCode {
	return j.send(C.GM_JOB_EXCEPTION, data, 0, 0)
}

func (j cJob) sendFail() ReturnCode { return j.send(C.GM_JOB_FAIL, nil, 0, 0) }

// pollReady reports whether fd is ready now for events (POLLIN, POLLOUT),
// with a poll that does not wait: the netpoller's wait (fdwait.go) checks
// before it parks, as epoll only reports readiness that comes later.
func pollReady(fd int, events int16) bool {
	p := struct {
		fd             int32
		events, revent int16
	}{int32(fd), events, 0}
	var ts syscall.Timespec
	n, _, _ := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&p)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	return n == 1
}

// wireBusy reports whether a packet is part way across fd, or a GRAB_JOB's
// answer is due on it (wire.c).
func wireBusy(fd int) bool { return bool(C.gm_wire_busy(C.int(fd))) }

// The enums shared with the C side, checked when the package compiles: each
// line indexes an array of one element with the difference between a Go
// constant and its C counterpart, which fails unless they are equal.
var (
	_ = [1]struct{}{}[eventWorkload-C.GM_EVENT_WORKLOAD]
	_ = [1]struct{}{}[eventCreated-C.GM_EVENT_CREATED]
	_ = [1]struct{}{}[eventData-C.GM_EVENT_DATA]
	_ = [1]struct{}{}[eventWarning-C.GM_EVENT_WARNING]
	_ = [1]struct{}{}[eventStatus-C.GM_EVENT_STATUS]
	_ = [1]struct{}{}[eventComplete-C.GM_EVENT_COMPLETE]
	_ = [1]struct{}{}[eventException-C.GM_EVENT_EXCEPTION]
	_ = [1]struct{}{}[eventFail-C.GM_EVENT_FAIL]
	_ = [1]struct{}{}[eventCount-C.GM_EVENT_COUNT]
	_ = [1]struct{}{}[kindForeground-C.GM_KIND_FOREGROUND]
	_ = [1]struct{}{}[kindBackground-C.GM_KIND_BACKGROUND]
	_ = [1]struct{}{}[kindStatus-C.GM_KIND_STATUS]
	_ = [1]struct{}{}[kindStatusUnique-C.GM_KIND_STATUS_UNIQUE]
	_ = [1]struct{}{}[JobPriorityHigh-C.GEARMAN_JOB_PRIORITY_HIGH]
	_ = [1]struct{}{}[JobPriorityNormal-C.GEARMAN_JOB_PRIORITY_NORMAL]
	_ = [1]struct{}{}[JobPriorityLow-C.GEARMAN_JOB_PRIORITY_LOW]
)

// waitFDs blocks the thread in poll() on reqs, which the steps of several
// non-blocking clients recorded, and on wakeFD (gm_wait_fds). It marks the
// requests that are ready, in place, and returns how many fds were; 0 when
// timeoutMs passed or wakeFD was written. fds is scratch kept by the caller.
func waitFDs(reqs []pollRequest, fds *[]rawPollFd, wakeFD, timeoutMs int) (int, error) {
	buf := (*fds)[:0]
	for _, r := range reqs {
		buf = append(buf, rawPollFd{fd: int32(r.fd), events: r.events})
	}
	*fds = buf
	n, err := C.gm_wait_fds((*C.struct_pollfd)(unsafe.Pointer(&buf[0])), C.int(len(buf)), C.int(wakeFD), C.int(timeoutMs))
	if n < 0 {
		return 0, err
	}
	for i := range reqs {
		reqs[i].ready = buf[i].revent != 0
	}
	return int(n), nil
}

// rawPoller polls n of C's struct pollfd at p, for up to d, without telling
// Go's scheduler: the goroutine keeps its P meanwhile, as if it computed.
// The poll returns the number ready, 0 at the end of d, or -1 when a signal
// (such as the runtime's preemption) cut it short.
func rawPoller(p *C.struct_pollfd, n int) func(ms int) int {
	fds := unsafe.Slice((*rawPollFd)(unsafe.Pointer(p)), n)
	return func(ms int) int { return rawPoll(fds, ms) }
}

// waitsOnP sets whether the waits of the binding's calls begin in
// goWaitOnP (wire.h).
func waitsOnP(on bool) { C.gm_waits_on_p(C.bool(on)) }

// rawPoll polls fds for up to ms milliseconds (-1: no end) without telling
// the scheduler: it returns how many are ready, 0 when the time ran out, or
// -1 when a signal cut it short.
func rawPoll(fds []rawPollFd, ms int) int {
	var r uintptr
	var e syscall.Errno
	if hasPoll {
		r, _, e = syscall.RawSyscall(sysPollNr, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(ms))
	} else {
		var ts *syscall.Timespec
		if ms >= 0 {
			t := syscall.NsecToTimespec(int64(ms) * 1e6)
			ts = &t
		}
		r, _, e = syscall.RawSyscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	}
	if e != 0 {
		return -1
	}
	return int(r)
}
