//go:build !linux

package main

import "syscall"

// sysProcAttr has no parent-death signal outside Linux; the demo's own
// clean-up is all there is.
func sysProcAttr() *syscall.SysProcAttr { return nil }
