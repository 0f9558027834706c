//go:build cgo

// Command floor is the least a Go worker over libgearman has to do: an echo
// worker with the binding's libgearman calls and nothing else. Its CPU per
// job against the C worker's and the binding's (bench/workerratio.sh, rev
// "floor") tells the cost of crossing into Go at all from the cost of the
// binding's own bookkeeping (bench/notes.md, "The floor of a cgo worker").
//
//	floor worker HOST PORT
//	floor client HOST PORT N SIZE
//
// The client runs W1 (N sequential gearman_client_do of SIZE bytes), its
// whole loop in one cgo call, and prints its rate as bench/go does:
// bench/ceiling.sh runs it to tell what a Go runtime that is merely present
// costs a client. FLOOR_MODE is the worker's only.
//
// Like the binding's worker it waits without a poll timeout, runs the
// function through a v2 callback into Go, copies the workload into Go
// memory, sends the result from Go memory, and yields to the scheduler every
// 8 ms. Unlike it, it has no Job, no locks, no context, no slice watchdog
// and no error handling: it is a measuring device, not a worker to use.
//
// FLOOR_MODE takes it apart (workerratio.sh rev "floor:MODE"), to tell
// where the floor's own cost lies:
//
//	go      the above (the default)
//	inline  the callback copies the workload into a buffer on the C stack,
//	        and C sends it: the callback alone, without a Go allocation or
//	        a second cgo call
//	c       the function runs in C, without a callback: one cgo call per
//	        job and the yields
//	cloop   one cgo call that never returns: the Go runtime present but
//	        idle, a process with several threads
package main

/*
#cgo pkg-config: gearmand
#include <libgearman-1.0/gearman.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern gearman_return_t floorEcho(gearman_job_st *job, void *workload, size_t size);
extern size_t floorCopy(void *workload, size_t size, void *buf, size_t cap);

static gearman_return_t floor_go(gearman_job_st *job, void *context) {
  (void)context;
  return floorEcho(job, (void *)gearman_job_workload(job), gearman_job_workload_size(job));
}

static gearman_return_t floor_inline(gearman_job_st *job, void *context) {
  (void)context;
  char buf[4096];
  size_t n = floorCopy((void *)gearman_job_workload(job), gearman_job_workload_size(job), buf, sizeof buf);
  return gearman_job_send_complete(job, buf, n);
}

static gearman_return_t floor_c(gearman_job_st *job, void *context) {
  (void)context;
  return gearman_job_send_complete(job, gearman_job_workload(job), gearman_job_workload_size(job));
}

static uintptr_t floor_worker(const char *host, int port, const char *mode) {
  gearman_worker_st *w = gearman_worker_create(NULL);
  if (w == NULL) return 0;
  if (gearman_worker_add_server(w, host, (in_port_t)port) != GEARMAN_SUCCESS) return 0;
  gearman_function_fn *f = floor_go;
  if (strcmp(mode, "inline") == 0) f = floor_inline;
  if (strcmp(mode, "c") == 0 || strcmp(mode, "cloop") == 0) f = floor_c;
  gearman_function_t fn = gearman_function_create_v2(f);
  if (gearman_worker_define_function(w, "echo", 4, fn, 0, NULL) != GEARMAN_SUCCESS) return 0;
  gearman_worker_set_timeout(w, -1);
  return (uintptr_t)w;
}

static gearman_return_t floor_work(uintptr_t w) {
  return gearman_worker_work((gearman_worker_st *)w);
}

static void floor_work_for_ever(uintptr_t w) {
  for (;;) gearman_worker_work((gearman_worker_st *)w);
}

// The client side: gearman_client_do as the C client's W1 does it (no unique
// key of its own, so libgearman makes one).
static uintptr_t floor_client(const char *host, int port) {
  gearman_client_st *c = gearman_client_create(NULL);
  if (c == NULL) return 0;
  if (gearman_client_add_server(c, host, (in_port_t)port) != GEARMAN_SUCCESS) return 0;
  gearman_client_set_timeout(c, -1);
  return (uintptr_t)c;
}

// floor_do_n runs n jobs in one call, checking each result; it returns how
// many came back right.
static long floor_do_n(uintptr_t c, const void *payload, size_t size, long n) {
  for (long i = 0; i < n; i++) {
    size_t got = 0;
    gearman_return_t rc;
    void *result = gearman_client_do((gearman_client_st *)c, "echo", NULL, payload, size, &got, &rc);
    int ok = rc == GEARMAN_SUCCESS && got == size && (size == 0 || memcmp(result, payload, size) == 0);
    free(result);
    if (!ok) return i;
  }
  return n;
}

static gearman_return_t floor_complete(gearman_job_st *job, const void *result, size_t size) {
  return gearman_job_send_complete(job, result, size);
}
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

//export floorEcho
func floorEcho(job *C.gearman_job_st, workload unsafe.Pointer, size C.size_t) C.gearman_return_t {
	if size == 0 {
		return C.floor_complete(job, nil, 0)
	}
	result := make([]byte, int(size))
	copy(result, unsafe.Slice((*byte)(workload), int(size)))
	return C.floor_complete(job, unsafe.Pointer(&result[0]), size)
}

//export floorCopy
func floorCopy(workload unsafe.Pointer, size C.size_t, buf unsafe.Pointer, capacity C.size_t) C.size_t {
	n := int(min(size, capacity))
	copy(unsafe.Slice((*byte)(buf), n), unsafe.Slice((*byte)(workload), n))
	return C.size_t(n)
}

func main() {
	mode := os.Getenv("FLOOR_MODE")
	switch mode {
	case "":
		mode = "go"
	case "go", "inline", "c", "cloop":
	default:
		fail(2, "FLOOR_MODE must be go, inline, c or cloop")
	}
	switch {
	case len(os.Args) == 4 && os.Args[1] == "worker":
		worker(os.Args[2], atoi(os.Args[3]), mode)
	case len(os.Args) == 6 && os.Args[1] == "client":
		client(os.Args[2], atoi(os.Args[3]), atoi(os.Args[4]), atoi(os.Args[5]))
	default:
		fail(2, "usage: floor worker HOST PORT | floor client HOST PORT N SIZE")
	}
}

func fail(code int, msg string) {
	fmt.Fprintln(os.Stderr, "floor:", msg)
	os.Exit(code)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fail(2, err.Error())
	}
	return n
}

func worker(host string, port int, mode string) {
	chost, cmode := C.CString(host), C.CString(mode)
	w := C.floor_worker(chost, C.int(port), cmode)
	if w == 0 {
		fail(1, "cannot set up the worker")
	}
	if mode == "cloop" {
		C.floor_work_for_ever(w)
	}
	last := time.Now()
	for {
		if now := time.Now(); now.Sub(last) >= 8*time.Millisecond {
			last = now
			runtime.Gosched()
		}
		C.floor_work(w)
	}
}

// client runs W1 (n sequential jobs of size bytes) in one cgo call and
// prints its rate and CPU as bench/go does.
func client(host string, port, n, size int) {
	chost := C.CString(host)
	c := C.floor_client(chost, C.int(port))
	if c == 0 {
		fail(1, "cannot set up the client")
	}
	payload := C.malloc(C.size_t(max(size, 1)))
	C.memset(payload, 'x', C.size_t(max(size, 1)))
	if C.floor_do_n(c, payload, C.size_t(size), 1) != 1 { // warm-up
		fail(1, "warm-up job failed")
	}
	cpu0, start := cpuSec(), time.Now()
	if got := C.floor_do_n(c, payload, C.size_t(size), C.long(n)); got != C.long(n) {
		fail(1, fmt.Sprintf("job %d failed", got))
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("jobs_per_sec=%.3f cpu_sec=%.3f procs=%d\n", float64(n)/secs, cpuSec()-cpu0, runtime.GOMAXPROCS(0))
}

func cpuSec() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
