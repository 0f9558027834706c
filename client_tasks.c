//go:build linux

// C shims for the client and its tasks: the hooks that record what each
// packet says in the task's gm_task, the client's creation, the non-blocking
// steps the driver takes (driver.go), and the calls that still wait in C.
// See callbacks.h for the model.
#include "callbacks.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "_cgo_export.h"

static bool gm_buf_set(gm_buf *b, const void *p, size_t n, bool append) {
  size_t need = (append ? b->len : 0) + n;
  if (need > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    char *grown = realloc(b->ptr, cap);
    if (grown == NULL) return false;
    b->ptr = grown;
    b->cap = cap;
  }
  if (!append) b->len = 0;
  if (n) memcpy(b->ptr + b->len, p, n);
  b->len += n;
  return true;
}

// gm_record keeps what a packet says in the task's gm_task, after any Go
// callback accepted it (a callback that pauses sees the packet again).
static gearman_return_t gm_record(gm_task *t, gearman_task_st *task, int ev) {
  t->packets++;
  if (t->progress) (*t->progress)++;
  t->known = gearman_task_is_known(task);
  t->running = gearman_task_is_running(task);
  t->numerator = gearman_task_numerator(task);
  t->denominator = gearman_task_denominator(task);
  const char *handle = gearman_task_job_handle(task);
  if (handle != NULL && handle[0] != '\0') {
    strncpy(t->job_handle, handle, sizeof(t->job_handle) - 1);
    t->job_handle[sizeof(t->job_handle) - 1] = '\0';
  }

  const void *payload = gearman_task_data(task);
  size_t size = payload ? gearman_task_data_size(task) : 0;
  switch (ev) {
    case GM_EVENT_CREATED:
      if (t->kind == GM_KIND_BACKGROUND) {
        t->finished = true;
        t->result = GEARMAN_SUCCESS;
      }
      break;
    case GM_EVENT_STATUS:
      if (t->kind == GM_KIND_STATUS || t->kind == GM_KIND_STATUS_UNIQUE) {
        t->finished = true;
        t->result = GEARMAN_SUCCESS;
      }
      break;
    case GM_EVENT_DATA:
      if (!gm_buf_set(&t->data, payload, size, t->accumulate)) {
        return GEARMAN_MEMORY_ALLOCATION_FAILURE;
      }
      break;
    case GM_EVENT_WARNING:
      if (!t->accumulate && !gm_buf_set(&t->data, payload, size, false)) {
        return GEARMAN_MEMORY_ALLOCATION_FAILURE;
      }
      break;
    case GM_EVENT_COMPLETE:
    case GM_EVENT_EXCEPTION:
      // The exception text replaces any data gathered so far: it is what the
      // caller's error carries.
      if (!gm_buf_set(&t->data, payload, size,
                      t->accumulate && ev == GM_EVENT_COMPLETE)) {
        return GEARMAN_MEMORY_ALLOCATION_FAILURE;
      }
      t->finished = true;
      t->result = ev == GM_EVENT_COMPLETE ? GEARMAN_SUCCESS : GEARMAN_WORK_EXCEPTION;
      break;
    case GM_EVENT_FAIL:
      t->data.len = 0;
      t->finished = true;
      t->result = GEARMAN_WORK_FAIL;
      break;
  }
  return GEARMAN_SUCCESS;
}

unsigned *gm_events_new(void) { return calloc(1, sizeof(unsigned)); }

// Set by Go from any thread, read here while run_tasks runs on another.
void gm_events_set(unsigned *events, unsigned bits) {
  __atomic_store_n(events, bits, __ATOMIC_RELEASE);
}

static bool gm_go_wants(const gm_task *t, int ev) {
  return t->go_task != 0 && t->go_events != NULL &&
         (__atomic_load_n(t->go_events, __ATOMIC_ACQUIRE) & (1u << ev));
}

static gearman_return_t gm_on_event(gearman_task_st *task, int ev) {
  gm_task *t = gearman_task_context(task);
  if (t == NULL) return GEARMAN_SUCCESS;
  if (gm_go_wants(t, ev)) {
    gm_waiter *parked = gm_wait_park();
    gearman_return_t rc = goTaskEvent(t->go_task, task, ev);
    gm_wait_unpark(parked);
    if (rc != GEARMAN_SUCCESS) return rc;  // PAUSE or an error: stop run_tasks
  }
  return gm_record(t, task, ev);
}

static gearman_return_t gm_on_workload(gearman_task_st *task) { return gm_on_event(task, GM_EVENT_WORKLOAD); }
static gearman_return_t gm_on_created(gearman_task_st *task) { return gm_on_event(task, GM_EVENT_CREATED); }
static gearman_return_t gm_on_data(gearman_task_st *task) { return gm_on_event(task, GM_EVENT_DATA); }
static gearman_return_t gm_on_warning(gearman_task_st *task) { return gm_on_event(task, GM_EVENT_WARNING); }
static gearman_return_t gm_on_status(gearman_task_st *task) { return gm_on_event(task, GM_EVENT_STATUS); }
static gearman_return_t gm_on_complete(gearman_task_st *task) { return gm_on_event(task, GM_EVENT_COMPLETE); }
static gearman_return_t gm_on_exception(gearman_task_st *task) { return gm_on_event(task, GM_EVENT_EXCEPTION); }
static gearman_return_t gm_on_fail(gearman_task_st *task) { return gm_on_event(task, GM_EVENT_FAIL); }

// Called by libgearman whenever a task with a context is freed: after its
// last packet (GEARMAN_CLIENT_FREE_TASKS), by gm_task_release, or by
// gearman_client_free. A task added through AddTask* hands its final state to
// Go here, which may add the next task of its window: libgearman calls this
// before it unlinks the task, and adding only prepends to the list.
static void gm_task_context_free(gearman_task_st *task, void *context) {
  (void)task;
  gm_task *t = context;
  if (t == NULL) return;
  t->task = NULL;
  if (t->caller_frees) return;  // gm_task_release frees it
  if (t->go_task != 0) goTaskFreed(t->go_task, t);
  free(t->data.ptr);
  free(t);
}

// What the binding keeps beside each client, as its libgearman context.
typedef struct gm_client_state {
  uint64_t progress;  // packets seen, for timeouts measured in Go
  gm_waiter waiter;   // a client has no wakeup pipe: only timeouts end its waits
} gm_client_state;

static gm_waiter *gm_client_waiter(gearman_client_st *client) {
  return &((gm_client_state *)gearman_client_context(client))->waiter;
}

gearman_client_st *gm_client_create(void) {
  gm_client_state *state = calloc(1, sizeof(*state));
  if (state == NULL) return NULL;
  gearman_client_st *client = gearman_client_create(NULL);
  if (client == NULL) {
    free(state);
    return NULL;
  }
  gearman_id_t none = {-1, -1};
  gm_waiter_init(&state->waiter, none);
  gearman_client_set_context(client, state);
  // Finished tasks leave libgearman's list at once, which scans the whole
  // list for every packet it receives.
  gearman_client_add_options(client, GEARMAN_CLIENT_FREE_TASKS);
  // The binding installs every hook once, for every task: whether one reaches
  // Go is decided at each event by the client's gm_events (PHP too looks the
  // callback up when the event arrives).
  gearman_client_set_workload_fn(client, gm_on_workload);
  gearman_client_set_created_fn(client, gm_on_created);
  gearman_client_set_data_fn(client, gm_on_data);
  gearman_client_set_warning_fn(client, gm_on_warning);
  gearman_client_set_status_fn(client, gm_on_status);
  gearman_client_set_complete_fn(client, gm_on_complete);
  gearman_client_set_exception_fn(client, gm_on_exception);
  gearman_client_set_fail_fn(client, gm_on_fail);
  gearman_client_set_task_context_free_fn(client, gm_task_context_free);
  return client;
}

void gm_client_free(gearman_client_st *client) {
  gm_client_state *state = gearman_client_context(client);
  gearman_client_free(client);  // frees the remaining tasks first
  free(state);
}

// The counter lives as long as the client; Go reads it in place.
uint64_t *gm_client_progress(gearman_client_st *client) {
  return &((gm_client_state *)gearman_client_context(client))->progress;
}

gm_task *gm_add_task(gearman_client_st *client, const gm_task_opts *opts,
                     const char *function_name, const char *unique,
                     const char *workload, size_t workload_size,
                     gearman_return_t *ret) {
  gm_task *t = calloc(1, sizeof(*t));
  if (t == NULL) {
    *ret = GEARMAN_MEMORY_ALLOCATION_FAILURE;
    return NULL;
  }
  t->kind = opts->kind;
  t->accumulate = opts->accumulate;
  t->caller_frees = opts->caller_frees;
  t->go_task = opts->go_task;
  t->go_events = opts->go_events;
  t->progress = gm_client_progress(client);

  bool background = opts->kind == GM_KIND_BACKGROUND;
  switch (opts->kind) {
    case GM_KIND_STATUS:
      t->task = gearman_client_add_task_status(client, NULL, t, function_name, ret);
      break;
    case GM_KIND_STATUS_UNIQUE:
      // This variant takes no context argument; set it before the task runs.
      t->task = gearman_client_add_task_status_by_unique(client, NULL, function_name, ret);
      if (t->task != NULL) gearman_task_set_context(t->task, t);
      break;
    default: {
      gearman_task_st *(*add)(gearman_client_st *, gearman_task_st *, void *,
                              const char *, const char *, const void *, size_t,
                              gearman_return_t *);
      switch (opts->priority) {
        case GEARMAN_JOB_PRIORITY_HIGH:
          add = background ? gearman_client_add_task_high_background : gearman_client_add_task_high;
          break;
        case GEARMAN_JOB_PRIORITY_LOW:
          add = background ? gearman_client_add_task_low_background : gearman_client_add_task_low;
          break;
        default:
          add = background ? gearman_client_add_task_background : gearman_client_add_task;
          break;
      }
      t->task = add(client, NULL, t, function_name, unique, workload, workload_size, ret);
    }
  }
  if (t->task == NULL) {
    free(t);
    return NULL;
  }
  if (*ret != GEARMAN_SUCCESS) {
    // Freed without reaching Go: the caller still owns its handle.
    t->go_task = 0;
    t->caller_frees = true;
    gm_task_release(t);
    return NULL;
  }
  return t;
}

gearman_return_t gm_run_tasks(gearman_client_st *client, int timeout_ms) {
  gearman_client_set_timeout(client, gm_clamp_timeout(timeout_ms));
  gm_waiter *w = gm_client_waiter(client);
  gm_waiter *outer = gm_wait_enter(w);
  gearman_return_t rc = gearman_client_run_tasks(client);
  gm_wait_leave(w, outer);
  return rc;
}

gearman_return_t gm_echo(gearman_client_st *client, const char *data,
                         size_t size, int timeout_ms, int wake_fd) {
  gearman_client_set_timeout(client, timeout_ms < 0 ? -1 : gm_clamp_timeout(timeout_ms));
  bool woken = false;
  gm_wake_begin(wake_fd, &woken);
  gearman_return_t rc = gearman_client_echo(client, data, size);
  gm_wake_end();
  return rc;
}

bool gm_client_set_exceptions(gearman_client_st *client) {
  gm_waiter *w = gm_client_waiter(client);
  gm_waiter *outer = gm_wait_enter(w);
  bool ok = gearman_client_set_server_option(client, "exceptions", 10);
  gm_wait_leave(w, outer);
  return ok;
}

// A callback's task I/O runs under the waiter of the run_tasks it runs in.
size_t gm_task_send_workload(gearman_task_st *task, const void *data, size_t size,
                             gearman_return_t *ret) {
  gm_waiter *w = gm_wait_parked();
  gm_waiter *outer = gm_wait_enter(w);
  size_t sent = gearman_task_send_workload(task, data, size, ret);
  gm_wait_leave(w, outer);
  return sent;
}

size_t gm_task_recv_data(gearman_task_st *task, void *data, size_t size,
                         gearman_return_t *ret) {
  gm_waiter *w = gm_wait_parked();
  gm_waiter *outer = gm_wait_enter(w);
  size_t got = gearman_task_recv_data(task, data, size, ret);
  gm_wait_leave(w, outer);
  return got;
}

// gm_task_release frees a task before it finished (a cancelled call) or,
// for caller_frees tasks, after its result was read.
void gm_task_release(gm_task *t) {
  if (t == NULL) return;
  if (!t->caller_frees) {
    if (t->task != NULL) gearman_task_free(t->task);  // the hook frees t
    return;
  }
  if (t->task != NULL) gearman_task_free(t->task);
  free(t->data.ptr);
  free(t);
}

gearman_return_t gm_client_step(gearman_client_st *client, bool wait_first, gm_recorder *rec) {
  for (;;) {
    if (wait_first) {
      // libgearman's own timeout stays -1: with 0 it would not poll at all.
      rec->n = 0;
      gm_recorder *outer = gm_record_begin(rec);
      gearman_return_t w = gearman_client_wait(client);
      gm_record_end(outer);
      if (w == GEARMAN_TIMEOUT) return rec->n > 0 ? GEARMAN_IO_WAIT : GEARMAN_NO_ACTIVE_FDS;
      if (w != GEARMAN_SUCCESS) return w;
    }
    gearman_return_t rc = gearman_client_run_tasks(client);
    if (rc != GEARMAN_IO_WAIT) return rc;
    wait_first = true;
  }
}

gearman_return_t gm_client_run_until(gearman_client_st *client, const gm_task *t, int wake_fd,
                                     int timeout_ms, bool *woken, bool *timed_out) {
  *woken = *timed_out = false;
  gearman_client_set_timeout(client, timeout_ms);
  gearman_return_t rc = gearman_client_run_tasks(client);
  while (rc == GEARMAN_IO_WAIT && (t == NULL || !t->finished)) {
    gm_wake_begin(wake_fd, woken);
    gearman_return_t w = gearman_client_wait(client);
    gm_wake_end();
    if (*woken) break;
    if (w == GEARMAN_TIMEOUT) {
      *timed_out = true;
      break;
    }
    if (w != GEARMAN_SUCCESS) {
      rc = w;
      break;
    }
    rc = gearman_client_run_tasks(client);
  }
  gearman_client_set_timeout(client, -1);
  return rc;
}

gearman_return_t gm_client_wait(gearman_client_st *client, int timeout_ms, int wake_fd) {
  gearman_client_set_timeout(client, timeout_ms < 0 ? -1 : gm_clamp_timeout(timeout_ms));
  bool woken = false;
  gm_wake_begin(wake_fd, &woken);
  gearman_return_t rc = gearman_client_wait(client);
  gm_wake_end();
  return rc;
}

int gm_wait_fds(struct pollfd *fds, int n, int wake_fd, int timeout_ms) {
  bool woken = false;
  gm_wake_begin(wake_fd, &woken);
  int ready = poll(fds, (nfds_t)n, timeout_ms);  // wire.c's
  gm_wake_end();
  return ready;
}
