package gearman

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
)

// core is what a Client and a Worker share, written once: the turn that
// serializes their libgearman calls, close state, servers, timeout, logger,
// TLS files, what they must free, and PHP's last result (returnCode, error,
// getErrno). Each embeds one, as confluent-kafka-go's Producer and Consumer
// share a handle; their exported methods are one-line wrappers, so that each
// keeps its own documentation.
type core struct {
	turn   *turn // one libgearman call at a time; waiting for it honours a context
	closed atomic.Bool
	log    *logSink  // SetLogger's logger, installed in every libgearman object
	tls    *tlsFiles // SetSSL's files, given to every libgearman object; nil: plaintext
	own    *owned    // what Close, or GC without Close, frees

	// mu guards the plain state below, and the owner's own, readable from
	// callbacks and jobs while a call holds the turn.
	mu      sync.Mutex
	servers []serverSpec
	ret     ReturnCode
	lastErr string
	errno   int
	timeout int
}

func newCore(side string) core {
	return core{turn: newTurn(), log: &logSink{side: side}, timeout: -1}
}

// libObject is what core needs of a libgearman client or worker.
type libObject interface {
	errorText() string
	errno() int
	setLog(h handle, v Verbose, gen uint64)
	loggedGen() uint64
	setSSL(t tlsFiles)
}

// take begins a call: it waits for the turn, or fails when closed or when
// ctx ends first.
func (k *core) take(ctx context.Context, op string) error {
	if k.closed.Load() {
		return closedError(op)
	}
	if err := k.turn.take(ctx); err != nil {
		return k.record(contextError(op, err))
	}
	return nil
}

// settle gives a new libgearman object the settings it keeps itself: the
// logger and TLS. Only the goroutine that will use lib calls it.
func (k *core) settle(lib libObject) {
	k.log.install(lib)
	if k.tls != nil {
		lib.setSSL(*k.tls)
	}
}

// setLogger makes l the logger. It takes no turn, so it never waits for a
// call: every libgearman object takes l at its next step (refreshLog), the
// object's own at the next call (acquire), a Client's drivers, RunTasks's
// routes and the slots of a Worker's Run on their goroutines.
func (k *core) setLogger(l *slog.Logger) {
	k.log.logger.Store(l)
	k.log.gen.Add(1)
}

// refreshLog installs the last logger set in lib, if SetLogger was called
// since lib's was: only the goroutine that uses lib may call it.
func (k *core) refreshLog(lib libObject) {
	if lib.loggedGen() != k.log.generation() {
		k.log.install(lib)
	}
}

// failOn records the failure of a call on lib, with lib's message.
func (k *core) failOn(lib libObject, op string, rc ReturnCode) error {
	e := newError(op, rc, libMessage(lib.errorText(), rc))
	k.mu.Lock()
	k.errno = lib.errno()
	k.mu.Unlock()
	return k.record(e)
}

// record remembers err for ReturnCode and LastError, and returns it.
func (k *core) record(err error) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lastErr = phpErrorText(err)
	if e, ok := err.(*Error); ok {
		k.ret = e.Code
	}
	return err
}

func (k *core) succeed(rc ReturnCode) error {
	k.mu.Lock()
	k.ret = rc
	k.mu.Unlock()
	return nil
}

// interrupted returns the error that ends a wait in slices, or nil to wait
// on: the context ended, the object was closed, or the user's timeout passed
// without progress (then fail records it).
func (k *core) interrupted(ctx context.Context, op string, clock *idleClock, fail func(string, ReturnCode) error) error {
	switch {
	case ctx.Err() != nil:
		return k.record(contextError(op, ctx.Err()))
	case k.closed.Load():
		return closedError(op)
	case clock.expired():
		return fail(op, Timeout)
	}
	return nil
}

func (k *core) returnCode() ReturnCode {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ret
}

func (k *core) lastError() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lastErr
}

func (k *core) getErrno() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.errno
}

func (k *core) getTimeout() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.timeout
}

// setTimeout checks and stores ms; then, under the same lock, also runs.
func (k *core) setTimeout(ms int, also func()) error {
	if k.closed.Load() {
		return closedError("SetTimeout")
	}
	if ms < -1 {
		return k.record(newError("SetTimeout", InvalidArgument, "timeout must be -1 or more"))
	}
	k.mu.Lock()
	k.timeout = ms
	if also != nil {
		also()
	}
	k.mu.Unlock()
	return nil
}

// addedServer records s once libgearman took it, to be replayed whenever a
// libgearman object is rebuilt.
func (k *core) addedServer(s serverSpec) {
	k.mu.Lock()
	k.servers = append(k.servers, s)
	k.mu.Unlock()
}

func (k *core) hasServers() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.servers) > 0
}
