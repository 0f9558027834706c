// Package gearmantest starts a real gearmand job server for tests, in the
// spirit of net/http/httptest.
//
// Each [NewServer] call launches its own gearmand child process listening on a
// free 127.0.0.1 port, with its log (and pid file) in a fresh t.TempDir(). The
// server is stopped automatically by t.Cleanup, and on Linux the child is also
// killed if the test binary dies, so no daemon is ever left behind.
//
//	func TestQueueSurvivesCrash(t *testing.T) {
//		db := filepath.Join(t.TempDir(), "queue.db")
//		srv := gearmantest.NewServer(t, gearmantest.WithSQLiteQueue(db))
//		client, err := gearman.NewClient()
//		require.NoError(t, err)
//		defer client.Close()
//		require.NoError(t, client.AddServer(srv.Host(), srv.Port())) // or AddServers(srv.Addr())
//		_, err = client.DoBackground("my_function", []byte("payload"), "")
//		require.NoError(t, err)
//		srv.Kill()    // simulate a crash (SIGKILL)
//		srv.Restart() // same port, new process; the queue is replayed from SQLite
//		status, err := gearmantest.AdminCommand(srv.Addr(), "status", time.Second)
//		require.NoError(t, err)
//		require.Contains(t, status, "my_function\t1\t0\t0")
//	} // t.Cleanup stops gearmand (SIGTERM, then SIGKILL)
//
// [AdminCommand] sends one admin command and returns the raw reply; package
// [github.com/libgearman-go/gearman/admin], which it wraps, also parses the
// replies.
//
// If no gearmand binary can be found (see [Binary]) the test is skipped, or
// fails when the CI environment variable is "true"; install it with
// `apt-get install gearman-job-server` or point $GEARMAND at a binary.
//
// Code without a testing.TB, such as an Example function or a TestMain, uses
// [Start] instead: it returns an error rather than skipping, and the caller
// stops the server with [Server.Close].
//
//	func Example() {
//		srv, err := gearmantest.Start()
//		if err != nil {
//			log.Fatal(err)
//		}
//		defer srv.Close()
//		// ... gearman.NewClient() and AddServer(srv.Host(), srv.Port())
//	}
//
// The package is plain Go (no cgo) and only talks to gearmand over TCP, so it
// can be used by the tests of any Gearman client or worker implementation.
package gearmantest
