//go:build cgo && linux

package gearman

import "syscall"

// The wait on the P (rawPoll, in capi.go) uses poll(2) where the
// architecture has it: its timeout is plain milliseconds, where ppoll(2)
// converts a timespec both ways (bench/notes.md).
const (
	hasPoll   = true
	sysPollNr = uintptr(syscall.SYS_POLL)
)
