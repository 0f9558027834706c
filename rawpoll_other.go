//go:build cgo && linux && !amd64

package gearman

import (
	"syscall"
	"time"
	"unsafe"
)

// rawPoll is rawpoll_amd64.go's, through ppoll(2): other architectures have
// no poll(2).
func rawPoll(fds []rawPollFd, ms int) int {
	var ts *syscall.Timespec
	if ms >= 0 {
		t := syscall.NsecToTimespec(int64(time.Duration(ms) * time.Millisecond))
		ts = &t
	}
	r, _, e := syscall.RawSyscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if e != 0 {
		return -1
	}
	return int(r)
}
