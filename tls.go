package gearman

import (
	"errors"
	"strings"
)

// tls.go is the honest side of libgearman's TLS switch. libgearman 1.1.20 as
// Debian and Ubuntu build it has no TLS at all: gearman_client_set_ssl and the
// SSL option bits only set a flag, and the connection stays plaintext. The
// binding therefore refuses to turn TLS on unless the linked library can do
// it, judged by what libgearman.so itself links (libssl or libwolfssl).

// ErrTLSUnsupported is wrapped by the error SetSSL, and the options ClientSsl
// and WorkerSsl, return when the linked libgearman was built without TLS.
var ErrTLSUnsupported = errors.New("TLS is not supported by this libgearman (it was built without SSL; connections would stay plaintext)")

// tlsFiles are the PEM files given to SetSSL; "" leaves one out.
type tlsFiles struct{ ca, cert, key string }

// libHasTLS reports whether the linked libgearman can make TLS connections.
// A static link answers false: the Debian archive's libgearman.a has no TLS
// either, and a TLS build would need its SSL library named at link time.
func libHasTLS() bool {
	needed, ok := libNeeded()
	if !ok {
		return false
	}
	for _, n := range needed {
		if strings.HasPrefix(n, "libssl.") || strings.HasPrefix(n, "libwolfssl.") {
			return true
		}
	}
	return false
}

func tlsUnsupported(op string) *Error { return wrapError(op, InvalidArgument, ErrTLSUnsupported) }

// SetSSL makes the client's connections use TLS with the given PEM files
// (Go only), through libgearman's gearman_client_set_ssl; PHP has no
// counterpart. caFile verifies the server, certificate and keyFile present a
// client certificate; "" leaves one out. With a libgearman built without TLS, as
// Debian's and Ubuntu's are, it changes nothing and returns an error wrapping
// ErrTLSUnsupported, rather than letting jobs go out in plaintext.
func (c *Client) SetSSL(caFile, certificate, keyFile string) error {
	const op = "SetSSL"
	if c.closed.Load() {
		return closedError(op)
	}
	if !libHasTLS() {
		return c.record(tlsUnsupported(op))
	}
	if err := c.acquire(contextBackground, op); err != nil {
		return err
	}
	defer c.release()
	c.tls = &tlsFiles{caFile, certificate, keyFile}
	c.lib.setSSL(*c.tls)
	c.mu.Lock()
	c.options |= ClientSsl
	c.mu.Unlock()
	return c.succeed(Success)
}

// SetSSL makes the worker's connections use TLS, as (*Client).SetSSL does
// (Go only), through libgearman's gearman_worker_set_ssl. libgearman 1.1.20
// declares that function without defining it, so the worker's TLS also needs
// a newer library; otherwise the error wraps ErrTLSUnsupported.
func (w *Worker) SetSSL(caFile, certificate, keyFile string) error {
	const op = "SetSSL"
	if w.closed.Load() {
		return closedError(op)
	}
	if !libHasTLS() || !workerSSLAvailable() {
		return w.record(tlsUnsupported(op))
	}
	if err := w.acquire(contextBackground, op); err != nil {
		return err
	}
	defer w.release()
	w.tls = &tlsFiles{caFile, certificate, keyFile}
	w.lib.setSSL(*w.tls)
	w.refreshOptions()
	return w.succeed(Success)
}
