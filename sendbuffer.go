package gearman

// SetSendBufferFix turns the binding's large-payload fix on (the default) or
// off, for connections libgearman opens afterwards (Go only).
//
// libgearman 1.1.20 pins SO_SNDBUF to 32 KiB on each of its sockets, which
// stalls every full buffer for about 40 ms: a 1 MiB job takes over half a
// second. With the fix on, the binding ignores that one setsockopt call when
// libgearman makes it, and leaves the buffer to the kernel; nothing else is
// touched, and sockets of other code are never affected (sockopt.c). The
// environment variable LIBGEARMAN_GO_SNDBUF=pinned turns it off at start-up.
func SetSendBufferFix(on bool) { setSendBufferFix(on) }

// SendBufferFix reports whether the large-payload fix is on (Go only).
func SendBufferFix() bool { return sendBufferFix() }
