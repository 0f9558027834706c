//go:build cgo

package gearman

// trampolines.go holds the //export functions libgearman reaches through the
// shims in callbacks.c, and the cgo.Handle registry they resolve. Each one
// recovers its own panics: a Go panic must never unwind through C frames.

/*
#include "callbacks.h"
*/
import "C"

import (
	"runtime/cgo"
	"sync/atomic"
)

type handle = cgo.Handle

// liveHandles counts handles not yet deleted; tests use it to prove that
// nothing handed to C outlives its owner.
var liveHandles atomic.Int64

func newHandle(v any) handle {
	liveHandles.Add(1)
	return cgo.NewHandle(v)
}

func deleteHandle(h handle) {
	liveHandles.Add(-1)
	h.Delete()
}

// goWorkerFunction runs the Go function registered for job's function name.
// It returns the v2 code: SUCCESS once a terminal packet went out.
//
//export goWorkerFunction
func goWorkerFunction(job *C.gm_job, h C.uintptr_t) C.gearman_return_t {
	return C.gearman_return_t(workerFunctionOf(handle(h)).run(cJob{job}))
}

// recentFunctions remembers the worker functions of recent jobs by their
// handles. Value's lookup in cgo's handle map hashes an interface, 5 to 7%
// of the Go samples of a W1 job (bench/notes.md), and a worker
// usually runs the jobs of a few functions over and over. Handles are never
// reused, and a handle's entry goes when the handle is deleted
// (forgetFunction), so an entry that matches is the right one.
var recentFunctions [8]atomic.Pointer[functionEntry]

type functionEntry struct {
	h  handle
	fn *workerFunction
}

func workerFunctionOf(h handle) *workerFunction {
	slot := &recentFunctions[uintptr(h)%uintptr(len(recentFunctions))]
	if e := slot.Load(); e != nil && e.h == h {
		return e.fn
	}
	fn := h.Value().(*workerFunction)
	slot.Store(&functionEntry{h, fn})
	return fn
}

// forgetFunction deletes a worker function's handle, and its entry.
func forgetFunction(h handle) {
	slot := &recentFunctions[uintptr(h)%uintptr(len(recentFunctions))]
	if e := slot.Load(); e != nil && e.h == h {
		slot.CompareAndSwap(e, nil)
	}
	deleteHandle(h)
}

//export goTaskEvent
func goTaskEvent(h C.uintptr_t, task *C.gearman_task_st, ev C.int) C.gearman_return_t {
	sink := cgo.Handle(h).Value().(taskEventSink)
	return C.gearman_return_t(sink.taskEvent(taskEvent(ev), cLiveTask{task}))
}

//export goTaskFreed
func goTaskFreed(h C.uintptr_t, t *C.gm_task) {
	handle := cgo.Handle(h)
	sink := handle.Value().(taskEventSink)
	deleteHandle(handle)
	sink.taskFreed(cTask{t})
}

// goLog forwards one libgearman log line to the Go logger behind h.
//
//export goLog
func goLog(h C.uintptr_t, line *C.char, verbose C.int) {
	cgo.Handle(h).Value().(*logSink).log(C.GoString(line), Verbose(verbose))
}
