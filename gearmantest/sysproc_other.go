//go:build !linux

package gearmantest

import "syscall"

// sysProcAttr has no parent-death signal outside Linux; t.Cleanup is the only
// thing that stops gearmand there.
func sysProcAttr() *syscall.SysProcAttr { return nil }
