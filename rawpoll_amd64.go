//go:build cgo && linux

package gearman

import (
	"syscall"
	"unsafe"
)

// rawPoll polls fds for up to ms milliseconds (-1: no end) without telling
// the scheduler: it returns how many are ready, 0 when the time ran out, or
// -1 when a signal cut it short. poll(2) takes the milliseconds as they are,
// where ppoll(2) converts a timespec both ways (bench/notes.md).
func rawPoll(fds []rawPollFd, ms int) int {
	r, _, e := syscall.RawSyscall(syscall.SYS_POLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(ms))
	if e != 0 {
		return -1
	}
	return int(r)
}
