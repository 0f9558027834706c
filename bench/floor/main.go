//go:build cgo

// Command floor is the least a Go worker over libgearman has to do: an echo
// worker with the binding's libgearman calls and nothing else. Its CPU per
// job against the C worker's and the binding's (bench/workerratio.sh, rev
// "floor") tells the cost of crossing into Go at all from the cost of the
// binding's own bookkeeping (bench/notes.md, "The floor of a cgo worker").
//
//	floor worker HOST PORT
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
	if len(os.Args) != 4 || os.Args[1] != "worker" {
		fmt.Fprintln(os.Stderr, "usage: floor worker HOST PORT")
		os.Exit(2)
	}
	port, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor: bad port:", err)
		os.Exit(2)
	}
	mode := os.Getenv("FLOOR_MODE")
	switch mode {
	case "":
		mode = "go"
	case "go", "inline", "c", "cloop":
	default:
		fmt.Fprintln(os.Stderr, "floor: FLOOR_MODE must be go, inline, c or cloop")
		os.Exit(2)
	}
	host, cmode := C.CString(os.Args[2]), C.CString(mode)
	w := C.floor_worker(host, C.int(port), cmode)
	if w == 0 {
		fmt.Fprintln(os.Stderr, "floor: cannot set up the worker")
		os.Exit(1)
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
