//go:build cgo && linux && !amd64

package gearman

// Other architectures have no poll(2): rawPoll uses ppoll(2).
const (
	hasPoll   = false
	sysPollNr = uintptr(0)
)
