//go:build cgo && linux

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
	fn := cgo.Handle(h).Value().(*workerFunction)
	return C.gearman_return_t(fn.run(cJob{job}))
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

// goWaitOnP is how a wait in wire.c's poll begins while waits are on the P
// (sched.go): it returns what poll would, and in *left the part of timeout
// (ms, -1 for none) that the thread then blocks for in C.
//
//export goWaitOnP
func goWaitOnP(fds *C.struct_pollfd, n C.int, timeout C.int, left *C.int) C.int {
	ready, rest := waitOnP(rawPoller(fds, int(n)), int(timeout))
	*left = C.int(rest)
	return C.int(ready)
}
