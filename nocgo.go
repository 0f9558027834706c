//go:build !cgo || !linux

package gearman

import "runtime"

// Without cgo, or outside Linux, there is no libgearman: the package still
// compiles, so that code importing it builds everywhere, and every
// constructor says why it cannot work. Outside Linux the C files would not
// work as they are: they interpose libc's socket calls the ELF way (README,
// Platforms).

func newClientLib() (clientLib, error) { return nil, errNoCgo("NewClient") }
func newEventMask() (eventMask, error) { return nil, errNoCgo("NewClient") }
func newWorkerLib() (workerLib, error) { return nil, errNoCgo("NewWorker") }

// No libgearman is linked: Version and Linkage return "".
const linkage = ""

func libVersion() string            { return "" }
func libBugReport() string          { return "" }
func libVerboseName(Verbose) string { return "" }

func errNoCgo(op string) error {
	if runtime.GOOS != "linux" {
		return newError(op, NotConnected, "libgearman-go supports Linux only (this program was built for "+runtime.GOOS+"): it needs cgo and the system libgearman there")
	}
	return newError(op, NotConnected, "libgearman-go was built without cgo: it needs CGO_ENABLED=1, a C compiler and libgearman (Debian/Ubuntu: apt-get install libgearman-dev)")
}

func setSendBufferFix(bool) {}
func sendBufferFix() bool   { return false }

// handle stands in for cgo.Handle; nothing is ever handed to C without cgo.
type handle uintptr

func newHandle(any) handle { return 0 }
func deleteHandle(handle)  {}

func libNeeded() ([]string, bool) { return nil, false }
func workerSSLAvailable() bool    { return false }

func wireHeldWaits() int64 { return 0 }

func wireBusy(int) bool         { return false }
func pollReady(int, int16) bool { return false }
func waitsOnP(bool)             {}

func waitFDs([]pollRequest, *[]rawPollFd, int, int) (int, error) { return 0, errNoCgo("RunTasks") }
