//go:build linux

// Where libgearman's connections stand in their byte streams, and the poll()
// that keeps a wait from ending in the middle of a packet.
//
// libgearman 1.1.20 leaves a connection mid-packet when a wait inside it
// fails: an interrupt through its wakeup pipe, or a poll timeout. A worker
// then frees the job it was receiving while the connection still points into
// it, and the next call reads the rest of the packet into freed memory; a
// half-sent packet stays queued with a pointer to data its sender may have
// freed. Neither can be repaired from outside. So the binding makes sure such
// a wait never ends there: libgearman calls connect, send, recv and poll
// through the dynamic linker, and the binding defines them (as sockopt.c
// does setsockopt). connect, send and recv pass every call through and follow
// the Gearman framing of each stream socket; poll, during a call the binding
// makes (a gm_waiter is in force on the thread), holds a libgearman wait that
// is mid-transfer until the transfer moves on: without a timeout, and with an
// interrupt taken out of the wakeup pipe and kept for the next packet
// boundary, where the wait ends as if timed out. Only Close cuts such a wait,
// and only while receiving: the object is freed right after.
//
// A connection is mid-transfer when part of a packet has crossed it in
// either direction, when libgearman waits to send (POLLOUT once it has sent on
// the socket), or when a worker waits for the answer to GRAB_JOB: libgearman
// receives that answer into a job it frees on failure, and the connection
// keeps a pointer to it even before the first byte.
//
// Static builds wrap the four calls with --wrap (link_static.go), as they do
// setsockopt. A socket whose bytes are not Gearman packets (TLS, or another
// library's) drops out of the tracking at its first packet header; a wait on
// it is left as it is.
#define _GNU_SOURCE
#include "wire.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include "_cgo_export.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

// ---- the streams ----

enum { GM_HEADER = 12 };

typedef struct gm_stream {
  unsigned char header[GM_HEADER];
  uint8_t have;    // header bytes seen of the packet under way
  uint32_t left;   // data bytes of the packet under way still to cross
  uint32_t command;
} gm_stream;

typedef struct gm_wire {
  unsigned gen;       // connects on this fd so far: tells a reused fd number apart
  bool gearman;       // a stream socket whose bytes so far were Gearman packets
  bool sent;          // libgearman has sent on it: it is connected
  bool awaiting_job;  // GRAB_JOB sent, its answer not yet whole
  gm_stream in, out;
} gm_wire;

// The table is indexed by fd, in chunks: a connect() must find its entry
// without a lock. The first chunk is static; the others, for processes with
// more than GM_CHUNK descriptors, are allocated on first use and kept for
// the life of the process, as the descriptors they describe come and go.
enum { GM_CHUNK = 1024, GM_CHUNKS = 1024 };
static gm_wire gm_first_chunk[GM_CHUNK];
static _Atomic(gm_wire *) gm_chunks[GM_CHUNKS] = {gm_first_chunk};

static gm_wire *gm_wire_of(int fd, bool create) {
  if (fd < 0 || fd >= GM_CHUNK * GM_CHUNKS) return NULL;
  _Atomic(gm_wire *) *slot = &gm_chunks[fd / GM_CHUNK];
  gm_wire *chunk = atomic_load_explicit(slot, memory_order_acquire);
  if (chunk == NULL) {
    if (!create) return NULL;
    gm_wire *fresh = calloc(GM_CHUNK, sizeof *fresh);
    if (fresh == NULL) return NULL;
    if (!atomic_compare_exchange_strong(slot, &chunk, fresh)) {
      free(fresh);  // another thread's chunk won; chunk holds it
    } else {
      chunk = fresh;
    }
  }
  return &chunk[fd % GM_CHUNK];
}

static uint32_t gm_be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool gm_is_grab(uint32_t command) {
  return command == GEARMAN_COMMAND_GRAB_JOB || command == GEARMAN_COMMAND_GRAB_JOB_UNIQ ||
         command == GEARMAN_COMMAND_GRAB_JOB_ALL;
}

static bool gm_answers_grab(uint32_t command) {
  return command == GEARMAN_COMMAND_NO_JOB || command == GEARMAN_COMMAND_JOB_ASSIGN ||
         command == GEARMAN_COMMAND_JOB_ASSIGN_UNIQ || command == GEARMAN_COMMAND_JOB_ASSIGN_ALL ||
         command == GEARMAN_COMMAND_ERROR;
}

static void gm_packet_whole(gm_wire *c, uint32_t command, bool inbound) {
  if (inbound && gm_answers_grab(command)) c->awaiting_job = false;
}

// gm_feed follows n bytes that crossed c in one direction.
static void gm_feed(gm_wire *c, bool inbound, const unsigned char *p, size_t n) {
  gm_stream *s = inbound ? &c->in : &c->out;
  while (n > 0 && c->gearman) {
    if (s->left > 0) {
      size_t k = n < s->left ? n : s->left;
      s->left -= (uint32_t)k;
      p += k;
      n -= k;
      if (s->left == 0) gm_packet_whole(c, s->command, inbound);
      continue;
    }
    size_t k = GM_HEADER - s->have;
    if (k > n) k = n;
    memcpy(s->header + s->have, p, k);
    s->have += (uint8_t)k;
    p += k;
    n -= k;
    if (s->have < GM_HEADER) return;
    s->have = 0;
    if (memcmp(s->header, inbound ? "\0RES" : "\0REQ", 4) != 0) {
      c->gearman = false;  // not libgearman's protocol: leave this socket alone
      return;
    }
    s->command = gm_be32(s->header + 4);
    s->left = gm_be32(s->header + 8);
    if (!inbound && gm_is_grab(s->command)) c->awaiting_job = true;
    if (s->left == 0) gm_packet_whole(c, s->command, inbound);
  }
}

static bool gm_mid_packet(const gm_wire *c) {
  return c->in.have || c->in.left || c->out.have || c->out.left || c->awaiting_job;
}

// ---- the real calls ----

#ifdef GM_STATIC
int __real_connect(int, const struct sockaddr *, socklen_t);
ssize_t __real_send(int, const void *, size_t, int);
ssize_t __real_recv(int, void *, size_t, int);
int __real_poll(struct pollfd *, nfds_t, int);
#define gm_real(name) __real_##name
#define gm_entry(name) __wrap_##name
#else
// The next definition after this executable's: libc's. dlsym is thread-safe
// and its answer never changes, so a race only looks it up twice.
#define gm_real(name) gm_next_##name()
#define gm_entry(name) name
#define gm_next(name, type)                                            \
  static type gm_next_##name(void) {                                   \
    static _Atomic(type) fn;                                           \
    type f = atomic_load_explicit(&fn, memory_order_relaxed);          \
    if (f == NULL) {                                                   \
      f = (type)dlsym(RTLD_NEXT, #name);                               \
      atomic_store_explicit(&fn, f, memory_order_relaxed);             \
    }                                                                  \
    return f;                                                          \
  }
typedef int (*gm_connect_fn)(int, const struct sockaddr *, socklen_t);
typedef ssize_t (*gm_send_fn)(int, const void *, size_t, int);
typedef ssize_t (*gm_recv_fn)(int, void *, size_t, int);
typedef int (*gm_poll_fn)(struct pollfd *, nfds_t, int);
gm_next(connect, gm_connect_fn)
gm_next(send, gm_send_fn)
gm_next(recv, gm_recv_fn)
gm_next(poll, gm_poll_fn)
#endif

// ---- waits that begin in Go ----

static atomic_bool gm_on_p;

void gm_waits_on_p(bool on) { atomic_store(&gm_on_p, on); }

// gm_block is every wait of a binding call's poll. While Go asks for it, the
// wait begins in Go (goWaitOnP), and only what is left of it blocks the
// thread here.
static int gm_block(struct pollfd *fds, nfds_t n, int timeout) {
  if (timeout == 0 || !atomic_load_explicit(&gm_on_p, memory_order_relaxed)) {
    return gm_real(poll)(fds, n, timeout);
  }
  int left = timeout;
  int ready = goWaitOnP(fds, (int)n, timeout, &left);
  if (ready != 0 || left == 0) return ready;
  return gm_real(poll)(fds, n, left);
}

int gm_entry(connect)(int fd, const struct sockaddr *addr, socklen_t len) {
  int type = 0;
  socklen_t size = sizeof type;
  int saved = errno;
  bool stream = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) == 0 && type == SOCK_STREAM;
  errno = saved;
  gm_wire *c = gm_wire_of(fd, stream);
  if (c != NULL) {
    unsigned gen = c->gen + 1;
    memset(c, 0, sizeof *c);
    c->gen = gen;
    c->gearman = stream;
  }
  return gm_real(connect)(fd, addr, len);
}

ssize_t gm_entry(send)(int fd, const void *buf, size_t n, int flags) {
  ssize_t sent = gm_real(send)(fd, buf, n, flags);
  gm_wire *c = gm_wire_of(fd, false);
  if (c != NULL && c->gearman) {
    int saved = errno;
    c->sent = true;
    if (sent > 0) gm_feed(c, false, buf, (size_t)sent);
    errno = saved;
  }
  return sent;
}

ssize_t gm_entry(recv)(int fd, void *buf, size_t n, int flags) {
  ssize_t got = gm_real(recv)(fd, buf, n, flags);
  if (got > 0 && !(flags & MSG_PEEK)) {
    gm_wire *c = gm_wire_of(fd, false);
    if (c != NULL && c->gearman) gm_feed(c, true, buf, (size_t)got);
  }
  return got;
}

// ---- the waits ----

static __thread gm_waiter *gm_current;
static __thread gm_recorder *gm_rec;
static __thread gm_waiter *gm_parked_waiter;
static atomic_long gm_held;

void gm_waiter_init(gm_waiter *w, gearman_id_t wake) {
  memset(w, 0, sizeof *w);
  w->wake = wake;
  atomic_init(&w->closing, false);
}

gm_waiter *gm_wait_enter(gm_waiter *w) {
  gm_waiter *outer = gm_current;
  gm_current = w;
  return outer;
}

void gm_wait_leave(gm_waiter *w, gm_waiter *outer) {
  gm_current = outer;
  if (outer != w && gm_parked_waiter != w) w->deferred = false;
}

gm_waiter *gm_wait_park(void) {
  gm_waiter *outer = gm_parked_waiter;
  gm_parked_waiter = gm_current;
  gm_current = NULL;
  return outer;
}

void gm_wait_unpark(gm_waiter *outer) {
  gm_current = gm_parked_waiter;
  gm_parked_waiter = outer;
}

gm_waiter *gm_wait_parked(void) { return gm_parked_waiter; }

long gm_wire_held_waits(void) { return atomic_load(&gm_held); }

// gm_wait_of finds what the poll is: libgearman's wait on w's connections
// (every fd one of them or w's wakeup pipe), whether one of them is
// mid-transfer, whether that includes sending, and where the pipe is.
// Anything else (a resolver's socket, a socket that left the tracking) makes
// it a poll to leave alone.
static bool gm_wait_of(const gm_waiter *w, const struct pollfd *fds, nfds_t n, bool *mid,
                       bool *sending, nfds_t *pipe_at) {
  *mid = *sending = false;
  *pipe_at = n;
  for (nfds_t i = 0; i < n; i++) {
    if (fds[i].fd < 0) continue;
    if (w->wake.read_fd >= 0 && fds[i].fd == w->wake.read_fd) {
      *pipe_at = i;
      continue;
    }
    gm_wire *c = gm_wire_of(fds[i].fd, false);
    if (c == NULL || !c->gearman) return false;
    bool out = c->out.have || c->out.left || ((fds[i].events & POLLOUT) && c->sent);
    if (out) *sending = true;
    if (out || gm_mid_packet(c)) *mid = true;
  }
  return true;
}

static void gm_drain(int fd) {
  char buf[16];
  while (read(fd, buf, sizeof buf) == (ssize_t)sizeof buf) {
  }
}

gm_recorder *gm_record_begin(gm_recorder *r) {
  gm_recorder *outer = gm_rec;
  gm_rec = r;
  return outer;
}

void gm_record_end(gm_recorder *outer) { gm_rec = outer; }

static __thread int gm_wake_fd = -1;
static __thread bool *gm_woken;

void gm_wake_begin(int wake_fd, bool *woken) {
  gm_wake_fd = wake_fd;
  gm_woken = woken;
}

void gm_wake_end(void) { gm_wake_fd = -1; }

// gm_wake_poll is a poll with the thread's wake fd added.
static int gm_wake_poll(struct pollfd *fds, nfds_t n, int timeout) {
  struct pollfd all[GM_RECORD_MAX + 1];
  if (n > GM_RECORD_MAX) return gm_real(poll)(fds, n, timeout);
  for (nfds_t i = 0; i < n; i++) {
    all[i] = fds[i];
    all[i].revents = 0;
    if (timeout >= 0 && fds[i].fd >= 0) {
      gm_wire *c = gm_wire_of(fds[i].fd, false);
      if ((fds[i].events & POLLOUT) ||
          (c != NULL && c->gearman && (c->in.have || c->in.left || c->out.have || c->out.left))) {
        timeout = -1;  // a timeout must not cut a packet
        atomic_fetch_add(&gm_held, 1);
      }
    }
  }
  all[n].fd = gm_wake_fd;
  all[n].events = POLLIN;
  all[n].revents = 0;
  int ready = gm_block(all, n + 1, timeout);
  if (ready <= 0) return ready;
  for (nfds_t i = 0; i < n; i++) fds[i].revents = all[i].revents;
  if (all[n].revents != 0) {
    gm_drain(gm_wake_fd);
    *gm_woken = true;
    ready--;
  }
  return ready;
}

// gm_wire_busy is what Go asks before a context or Close may end a wait on
// fd: the same answer as the binding's own poll policy (gm_mid_packet), so
// that a GRAB_JOB whose answer is due is never left either.
bool gm_wire_busy(int fd) {
  gm_wire *c = gm_wire_of(fd, false);
  return c != NULL && c->gearman && gm_mid_packet(c);
}

// gm_bytes_left reports whether a packet is part way across fd, which may
// have left bytes in the socket that no new edge will announce.
static bool gm_bytes_left(int fd) {
  gm_wire *c = gm_wire_of(fd, false);
  return c != NULL && c->gearman && (c->in.have || c->in.left || c->out.have || c->out.left);
}

// gm_record answers a poll of a non-blocking object: what is ready now, or
// else 0 with the request recorded.
static int gm_record(gm_recorder *r, struct pollfd *fds, nfds_t n) {
  // A packet part way across may have left bytes in the socket that no new
  // edge will announce: then the poll must look.
  bool trust = r->ready, look = false, mid = false;
  r->ready = false;
  for (nfds_t i = 0; i < n; i++) {
    if (fds[i].fd < 0) continue;
    if (gm_bytes_left(fds[i].fd)) mid = true;
    if (fds[i].events & POLLOUT) look = true;
  }
  if (mid) {
    look = true;
    if (r->timed) atomic_fetch_add(&gm_held, 1);
  }
  if (trust && !look) {
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
      gm_wire *c = fds[i].fd >= 0 ? gm_wire_of(fds[i].fd, false) : NULL;
      fds[i].revents = 0;
      bool pipe = gm_current != NULL && fds[i].fd == gm_current->wake.read_fd;
      if (!pipe && c != NULL && c->gearman && (fds[i].events & POLLIN)) {  // a pipe would read as a signal
        fds[i].revents = POLLIN;
        ready++;
      }
    }
    if (ready > 0) return ready;
  }
  if (!r->blind || look) {
    int ready = gm_real(poll)(fds, n, 0);
    if (ready != 0) return ready;
  }
  r->n = 0;
  for (nfds_t i = 0; i < n && r->n < GM_RECORD_MAX; i++) {
    if (fds[i].fd < 0) continue;
    gm_wire *c = gm_wire_of(fds[i].fd, false);
    gm_pollreq *q = &r->fds[r->n++];
    q->fd = fds[i].fd;
    q->events = fds[i].events;
    q->gen = c != NULL ? c->gen : 0;
  }
  return 0;
}

// gm_interrupted ends a wait at a packet boundary for an interrupt: libgearman
// sees a timeout there, and the sockets' readiness waits for its next poll.
static int gm_interrupted(struct pollfd *fds, nfds_t n) {
  for (nfds_t i = 0; i < n; i++) fds[i].revents = 0;
  return 0;
}

// gm_pipe_ready reports whether w's wakeup pipe is among fds and readable.
static bool gm_pipe_ready(const gm_waiter *w, const struct pollfd *fds, nfds_t n) {
  for (nfds_t i = 0; i < n; i++) {
    if (fds[i].fd >= 0 && fds[i].fd == w->wake.read_fd && fds[i].revents != 0) return true;
  }
  return false;
}

int gm_entry(poll)(struct pollfd *fds, nfds_t n, int timeout) {
  if (gm_rec != NULL) return gm_record(gm_rec, fds, n);
  if (gm_wake_fd >= 0) return gm_wake_poll(fds, n, timeout);
  gm_waiter *w = gm_current;
  bool mid, sending;
  nfds_t pipe_at;
  if (w == NULL) return gm_real(poll)(fds, n, timeout);
  if (!gm_wait_of(w, fds, n, &mid, &sending, &pipe_at)) {
    int ready = gm_real(poll)(fds, n, timeout);
    if (ready > 0 && gm_pipe_ready(w, fds, n)) w->lost = true;  // libgearman reads it
    return ready;
  }
  if (!mid) {
    if (w->deferred && pipe_at < n) {  // the boundary the interrupt waited for
      w->deferred = false;
      return gm_interrupted(fds, n);
    }
    int ready = gm_block(fds, n, timeout);
    if (ready > 0 && pipe_at < n && fds[pipe_at].revents != 0) {
      gm_drain(w->wake.read_fd);
      return gm_interrupted(fds, n);
    }
    return ready;
  }
  if (timeout >= 0) atomic_fetch_add(&gm_held, 1);
  for (;;) {
    int ready = gm_block(fds, n, -1);
    if (ready <= 0 || pipe_at == n || fds[pipe_at].revents == 0) return ready;
    // Close may drop a job on its way in (gearmand gives it to another
    // worker), never a packet going out: that may be a job's result, and
    // the job would run again.
    if (atomic_load(&w->closing) && !sending) {
      w->cut = true;
      return ready;
    }
    // Interrupted mid-transfer: keep the interrupt for the next boundary
    // and wait on for the connections.
    atomic_fetch_add(&gm_held, 1);
    gm_drain(w->wake.read_fd);
    w->deferred = true;
    fds[pipe_at].revents = 0;
    if (--ready > 0) return ready;
  }
}
