// Package admin is a client for the text admin protocol of the gearmand job
// server: the commands that gearadmin sends ("status", "workers",
// "prioritystatus", "show jobs", "cancel job", "maxqueue", ...) on the normal
// Gearman port.
//
// It is plain Go (no cgo) and independent of package gearman, so it can be
// used next to any Gearman client or worker, and in tools that cannot link
// libgearman.
//
// # Cancelling queued jobs
//
// With libgearman 1.1.20, [Client.CancelJob] is THE way to cancel a job that
// is queued on the server. gearman_client_cancel_job (and every binding that
// wraps it) is ineffective there: it sends WORK_FAIL as a client request and
// the server answers JOB_NOT_FOUND. The admin command "cancel job HANDLE",
// sent to the server that holds the job, does work: gearmand sends WORK_FAIL
// to the clients waiting for the job and marks it as ignored, so no worker
// will run it.
//
//	adm, err := admin.Dial(ctx, "127.0.0.1:4730")
//	if err != nil {
//		return err
//	}
//	defer adm.Close()
//	// handle is the job handle returned when the job was submitted,
//	// e.g. "H:host:42".
//	if err := adm.CancelJob(ctx, handle); err != nil {
//		var se *admin.ServerError
//		if errors.As(err, &se) && se.Code == admin.CodeUnknownJob {
//			// no such job on this server (finished, or never existed)
//		}
//		return err
//	}
//
// A cancelled job is not freed at once: gearmand 1.1.20 keeps listing it in
// "status" (in Total) and in "show jobs" (with Ignore set and Queued clear)
// until a worker for its function asks for work, at which point the server
// drops it instead of handing it out. Cancelling also removes the job from a
// persistent queue (e.g. SQLite), so it is not replayed after a restart. A job
// that a worker is already running is not interrupted: its clients get
// WORK_FAIL at once, but the worker is not told and runs it to the end.
//
// # Protocol notes (gearmand 1.1.20)
//
// Commands are single lines sent with CRLF ("create function" strips two
// characters, so a bare LF would eat a letter of the name). Replies are either
// a single line starting with "OK" or "ERR" ("OK"/"ERR" lines end with CRLF,
// but "version", "getpid" and "verbose" answer "OK value" with a bare LF), or a
// list of LF-terminated lines ended by a line holding a single ".". An "ERR
// CODE message" reply is returned as a *[ServerError]. There is no "shutdown"
// command in 1.1.20 (it answers ERR UNKNOWN_COMMAND).
//
// # Connections, concurrency and contexts
//
// A [Client] uses one TCP connection, opened by [Dial], and serializes the
// commands of concurrent callers on it; it is safe for concurrent use.
//
// Every method honours its context: its deadline becomes the connection's
// I/O deadline, and cancelling it interrupts a call that is waiting for the
// connection or for the server. Such a call returns promptly with an error
// that wraps ctx.Err() (so errors.Is(err, context.DeadlineExceeded) works).
// Because the reply stream may then be out of step, the connection is
// discarded after any network error, protocol error or interrupted call; the
// Client stays usable and the next call dials the server again. Only
// [Client.Close] makes a Client unusable.
package admin
