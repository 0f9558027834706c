// The binding's view of libgearman's sockets and waits (wire.c): which
// libgearman connection is in the middle of a packet, and a poll() that never
// lets an interrupt or a timeout end a wait there.
#ifndef LIBGEARMAN_GO_WIRE_H
#define LIBGEARMAN_GO_WIRE_H

#include <libgearman-1.0/gearman.h>
#include <stdatomic.h>
#include <stdbool.h>

// A waiter stands for one libgearman object (a client or a worker) while the
// binding runs a call of it on some thread. libgearman 1.1.20 cannot resume a
// worker's half-received packet after a wait of it failed, nor a half-sent
// one on either side: a wait in the middle of a transfer must end only when
// the transfer moves on or the connection dies.
//
// An interrupt through the object's wakeup pipe is taken by the binding's
// poll, never by libgearman: at a packet boundary the poll drains the pipe and
// reports a timeout, which leaves the object fit for its next call, as the
// end of any timed wait does. libgearman's own way (SHUTDOWN_GRACEFUL, and the
// pipe signalled again) would leave it to be replaced.
typedef struct gm_waiter {
  gearman_id_t wake;     // the object's wakeup pipe; read_fd -1 for none
  atomic_bool closing;   // Close: its interrupt may cut a receive (the object is freed next)
  bool deferred;         // an interrupt came mid-transfer; it ends the wait at the next boundary
  bool cut;              // a wait ended mid-transfer: the object must never be used again
  bool lost;             // libgearman read an interrupt itself, in a poll the binding does not follow
} gm_waiter;

void gm_waiter_init(gm_waiter *w, gearman_id_t wake);

// gm_wait_enter makes w the waiter of this thread's libgearman calls until
// gm_wait_leave; it returns the one in force before (a job may run another
// Worker's Work), which gm_wait_leave restores. An interrupt still deferred
// when the call ends is dropped: it was meant for that call.
gm_waiter *gm_wait_enter(gm_waiter *w);
void gm_wait_leave(gm_waiter *w, gm_waiter *outer);

// Go code runs between gm_wait_park and gm_wait_unpark (a callback): its
// own polls are not libgearman's. gm_wait_parked is the waiter of the call
// the callback runs inside, for libgearman calls the callback makes on it.
gm_waiter *gm_wait_park(void);
void gm_wait_unpark(gm_waiter *w);
gm_waiter *gm_wait_parked(void);

// Waiting outside libgearman (non-blocking objects): while a recorder is set
// on a thread, a poll of that thread never waits. If nothing is ready yet,
// it records what libgearman would have waited for and returns 0, which
// libgearman takes for a timeout; the binding then waits in Go and calls
// again. gen tells a reused fd number from the socket recorded before.
enum { GM_RECORD_MAX = 64 };
typedef struct gm_pollreq {
  int fd;
  short events;
  unsigned gen;
} gm_pollreq;
typedef struct gm_recorder {
  int n;
  gm_pollreq fds[GM_RECORD_MAX];
  // For a caller that looks itself before its event loop waits: blind
  // records without the poll that would look first, and
  // ready (taken back by the poll that uses it) says the last record's
  // sockets are readable, which saves the poll that would say so. A socket
  // that was not readable after all reads nothing, and libgearman asks
  // again. A wait that includes writing, or one in the middle of a packet,
  // always polls.
  bool blind;
  bool ready;
  // timed: the caller's wait has a timeout or a context, which it sets
  // aside in the middle of a packet; such polls count as held waits.
  bool timed;
} gm_recorder;

gm_recorder *gm_record_begin(gm_recorder *r);  // returns the recorder it replaces
void gm_record_end(gm_recorder *outer);

// A caller alone with a non-blocking client lets libgearman wait itself,
// in poll(), with wake_fd among the fds: while gm_wake_begin is in force on
// a thread, a poll of that thread also ends when wake_fd is written (it is
// drained, and *woken set), and never times out while a packet is part way
// across one of its fds.
void gm_wake_begin(int wake_fd, bool *woken);
void gm_wake_end(void);

// gm_wire_busy reports whether a packet is part way across fd, either way,
// or a GRAB_JOB sent on it waits for its answer: a call must not give up on
// it then (a timeout would cut the transfer, or leave a job gearmand handed
// out).
bool gm_wire_busy(int fd);

// For tests: how many times a wait was held mid-transfer, a poll whose
// timeout the policy set aside or an interrupt it put off to the next
// boundary.
long gm_wire_held_waits(void);

// gm_waits_on_p(true) makes the waits of the binding's calls (a waiter's or a
// wake_fd's poll) begin in Go, in goWaitOnP, which may poll on the calling
// goroutine's P before the thread blocks (sched.go).
void gm_waits_on_p(bool on);
#endif
