//go:build linux

package main

import "syscall"

// sysProcAttr has the kernel kill a child when the demo dies without cleaning
// up (SIGKILL), as gearmantest does for gearmand.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
