//go:build linux

package gearmantest

import "syscall"

// sysProcAttr makes the kernel SIGKILL gearmand when the test binary dies,
// even if it crashes before t.Cleanup runs. (Pdeathsig is tied to the OS
// thread that forked the child; Go only retires threads whose goroutine exits
// while locked with runtime.LockOSThread, which test code does not normally
// do.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
