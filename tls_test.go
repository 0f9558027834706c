package gearman_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/libgearman-go/gearman"
	"github.com/libgearman-go/gearman/gearmantest"
)

// Debian's libgearman has no TLS: SetSSL and the SSL options say so and
// change nothing, and the client and worker go on working in plaintext.
func TestSetSSLRefusedWithoutTLS(t *testing.T) {
	srv := gearmantest.NewServer(t)
	c := newClient(t, srv)
	startWorker(t, srv, map[string]gearman.WorkerFunc{"echo": echo})

	err := c.SetSSL("", "", "")
	require.ErrorIs(t, err, gearman.ErrTLSUnsupported)
	assert.Contains(t, c.LastError(), "not supported by this libgearman")
	require.ErrorIs(t, c.SetSSL("/nonexistent/ca.pem", "/nonexistent/cert.pem", "/nonexistent/key.pem"), gearman.ErrTLSUnsupported)
	require.ErrorIs(t, c.SetOptions(gearman.ClientSsl), gearman.ErrTLSUnsupported)
	require.ErrorIs(t, c.AddOptions(gearman.ClientSsl), gearman.ErrTLSUnsupported)
	assert.Zero(t, c.Options()&gearman.ClientSsl)
	out, err := c.DoNormal("echo", []byte("plain"), "")
	require.NoError(t, err)
	assert.Equal(t, "plain", string(out))

	w, err := gearman.NewWorker()
	require.NoError(t, err)
	defer w.Close()
	require.ErrorIs(t, w.SetSSL("", "", ""), gearman.ErrTLSUnsupported)
	require.ErrorIs(t, w.SetOptions(gearman.WorkerSsl), gearman.ErrTLSUnsupported)
	require.ErrorIs(t, w.AddOptions(gearman.WorkerSsl), gearman.ErrTLSUnsupported)
	assert.Zero(t, w.Options()&gearman.WorkerSsl)

	require.NoError(t, c.Close())
	require.ErrorIs(t, c.SetSSL("", "", ""), gearman.ErrClosed)
}
