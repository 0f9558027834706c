//go:build linux

// C shims between libgearman and Go. See callbacks.h for the model.
// dl_iterate_phdr and RTLD_DEFAULT (what the linked libgearman can do).
#define _GNU_SOURCE
#include "callbacks.h"

#include <dlfcn.h>
#include <link.h>
#include <malloc.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "_cgo_export.h"

// A timeout of 0 makes libgearman skip poll() and, while a connection is
// being made, wedges the client for good (NO_ACTIVE_FDS on every later call).
// Every wait the binding makes is therefore at least 1 ms; a user's timeout of
// 0 is measured in Go.
static int gm_clamp_timeout(int timeout_ms) {
  return timeout_ms < 1 ? 1 : timeout_ms;
}

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
                         size_t size, int timeout_ms) {
  gearman_client_set_timeout(client, timeout_ms < 0 ? -1 : gm_clamp_timeout(timeout_ms));
  gm_waiter *w = gm_client_waiter(client);
  gm_waiter *outer = gm_wait_enter(w);
  gearman_return_t rc = gearman_client_echo(client, data, size);
  gm_wait_leave(w, outer);
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
  while (rc == GEARMAN_IO_WAIT && !t->finished) {
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

gearman_return_t gm_client_wait(gearman_client_st *client, int timeout_ms) {
  gearman_client_set_timeout(client, gm_clamp_timeout(timeout_ms));
  gm_waiter *w = gm_client_waiter(client);
  gm_waiter *outer = gm_wait_enter(w);
  gearman_return_t rc = gearman_client_wait(client);
  gm_wait_leave(w, outer);
  return rc;
}

// Worker functions use the v2 API (gearman_function_fn): the Go side sends the
// terminal packet itself (WORK_COMPLETE, WORK_FAIL or WORK_EXCEPTION with its
// text) and returns SUCCESS, so gearman_worker_work returns SUCCESS for every
// job it ran. With v1, a failed job makes work() return the failure and the
// next work() only finish libgearman's bookkeeping without taking a job, and
// the result would have to be copied into malloc'd memory for libgearman to
// free; v2 sends the Go result straight from Go memory.
static gm_job gm_job_of(gearman_job_st *job, gm_waiter *waiter, char *result,
                        size_t result_cap) {
  gm_job j = {job, waiter, gearman_job_workload(job), gearman_job_workload_size(job),
              result, result_cap, 0, false};
  return j;
}

struct gm_pace {
  gm_waiter waiter;  // the worker's, for every libgearman call the binding makes on it
  // Only the thread inside gm_worker_work or gm_worker_step uses the rest.
  // The worker's jobs run one at a time, so they share one result buffer.
  char result[GM_RESULT_INLINE];
  // gm_worker_step: the error text of work's last NO_JOBS, and whether it is
  // the text of the step's failure.
  bool error_saved;
  char error[GEARMAN_MAX_ERROR_SIZE];
};

gm_pace *gm_pace_new(gearman_worker_st *worker) {
  gm_pace *pace = calloc(1, sizeof(gm_pace));
  if (pace != NULL) gm_waiter_init(&pace->waiter, gearman_worker_id(worker));
  return pace;
}

void gm_pace_free(gm_pace *pace) { free(pace); }

// The pace of the gm_worker_work or gm_worker_step this thread is in, for
// the worker function shim, which libgearman gives only the function's
// context. A job may run another Worker's Work, so both restore the outer
// one.
static __thread gm_pace *gm_running_pace;

// The send's own result is not looked at, as the Go side did not look at
// it either: a failed send leaves its error on the connection, which the
// next wait reports. The job counts as running until gearman_worker_work
// returns: its result may still be on its way.
// libgearman runs functions only inside gearman_worker_work, which the
// binding calls only from gm_worker_work and gm_worker_step: the pace is
// always there.
static gearman_return_t gm_worker_function(gearman_job_st *job, void *context) {
  gm_pace *pace = gm_running_pace;
  gm_job j = gm_job_of(job, &pace->waiter, pace->result, sizeof pace->result);
  gm_waiter *parked = gm_wait_park();
  gearman_return_t rc = goWorkerFunction(&j, (uintptr_t)context);
  gm_wait_unpark(parked);
  if (j.result_set) gearman_job_send_complete(job, j.result, j.result_size);
  return rc;
}

gearman_worker_st *gm_worker_create(void) {
  return gearman_worker_create(NULL);
}

gearman_return_t gm_worker_define(gearman_worker_st *worker, const char *name,
                                  size_t name_size, uint32_t timeout,
                                  uintptr_t handle) {
  gearman_function_t fn = gearman_function_create_v2(gm_worker_function);
  return gearman_worker_define_function(worker, name, name_size, fn, timeout,
                                        (void *)handle);
}

// Work in the user's non-blocking mode, and the call after a job whose
// result was probably late (worknet.go), run here; a wait for a job then ends
// within a slice.
gearman_return_t gm_worker_work(uintptr_t worker_addr, uintptr_t pace_addr, int timeout_ms) {
  gearman_worker_st *worker = (gearman_worker_st *)worker_addr;
  gm_pace *pace = (gm_pace *)pace_addr;
  gearman_worker_set_timeout(worker, timeout_ms < 0 ? -1 : gm_clamp_timeout(timeout_ms));
  gm_pace *outer = gm_running_pace;
  gm_running_pace = pace;
  gm_waiter *outer_waiter = gm_wait_enter(&pace->waiter);
  pace->error_saved = false;
  gearman_return_t rc = gearman_worker_work(worker);
  gm_wait_leave(&pace->waiter, outer_waiter);
  gm_running_pace = outer;
  return rc;
}

// Only the Go side decides when to stop; this only runs libgearman as far as
// it goes. The worker's wakeup pipe is left out of the record: Go wakes its
// own wait, and a pipe among the fds would make it wait on two sockets.
gearman_return_t gm_worker_step(uintptr_t worker_addr, uintptr_t pace_addr, bool wait_first,
                                bool asleep, gm_recorder *rec) {
  gearman_worker_st *worker = (gearman_worker_st *)worker_addr;
  gm_pace *pace = (gm_pace *)pace_addr;
  bool was_non_blocking = gearman_worker_options(worker) & GEARMAN_WORKER_NON_BLOCKING;
  if (!was_non_blocking) gearman_worker_add_options(worker, GEARMAN_WORKER_NON_BLOCKING);
  // libgearman's own timeout stays -1: with 0 its wait would not poll at all.
  gearman_worker_set_timeout(worker, -1);
  gm_pace *outer = gm_running_pace;
  gm_running_pace = pace;
  gm_waiter *outer_waiter = gm_wait_enter(&pace->waiter);
  pace->error_saved = false;
  int pipe_fd = gearman_worker_id(worker).read_fd;
  gearman_return_t rc = GEARMAN_IO_WAIT, last = asleep ? GEARMAN_NO_JOBS : GEARMAN_IO_WAIT;
  for (;;) {
    if (wait_first) {
      rec->n = 0;
      gm_recorder *outer_rec = gm_record_begin(rec);
      gearman_return_t w = gearman_worker_wait(worker);
      gm_record_end(outer_rec);
      if (w == GEARMAN_TIMEOUT) {
        int kept = 0;
        for (int i = 0; i < rec->n; i++) {
          if (rec->fds[i].fd != pipe_fd) rec->fds[kept++] = rec->fds[i];
        }
        rec->n = kept;
        rc = last;
        if (kept > 0) break;
        w = GEARMAN_NO_ACTIVE_FDS;
      }
      if (w == GEARMAN_NO_ACTIVE_FDS) {  // no server connected: work's own reason is the one to give
        rc = GEARMAN_COULD_NOT_CONNECT;
        pace->error_saved = last == GEARMAN_NO_JOBS;
        break;
      }
      if (w != GEARMAN_SUCCESS) {
        rc = w;
        break;
      }
    }
    rc = gearman_worker_work(worker);
    if (rc != GEARMAN_IO_WAIT && rc != GEARMAN_NO_JOBS) break;
    if (rc == GEARMAN_NO_JOBS) {  // the wait that follows replaces the error text
      const char *e = gearman_worker_error(worker);
      snprintf(pace->error, sizeof pace->error, "%s", e != NULL ? e : "");
    }
    last = rc;
    wait_first = true;
  }
  gm_wait_leave(&pace->waiter, outer_waiter);
  gm_running_pace = outer;
  if (!was_non_blocking) gearman_worker_remove_options(worker, GEARMAN_WORKER_NON_BLOCKING);
  return rc;
}

const char *gm_worker_error(gearman_worker_st *worker, uintptr_t pace_addr) {
  gm_pace *pace = (gm_pace *)pace_addr;
  return pace->error_saved ? pace->error : gearman_worker_error(worker);
}

void gm_worker_interrupt(uintptr_t pace_addr, bool closing) {
  gm_pace *pace = (gm_pace *)pace_addr;
  if (closing) atomic_store(&pace->waiter.closing, true);  // before the pipe wakes the wait
  gearman_kill(pace->waiter.wake, GEARMAN_SIGNAL_INTERRUPT);
}

bool gm_worker_cut(uintptr_t pace_addr) { return ((gm_pace *)pace_addr)->waiter.cut; }

gearman_return_t gm_worker_echo(gearman_worker_st *worker, uintptr_t pace_addr,
                                const void *data, size_t size, int timeout_ms) {
  gm_waiter *w = &((gm_pace *)pace_addr)->waiter;
  gearman_worker_set_timeout(worker, timeout_ms);  // clamped by Go (clampWait)
  gm_waiter *outer = gm_wait_enter(w);
  gearman_return_t rc = gearman_worker_echo(worker, data, size);
  gm_wait_leave(w, outer);
  return rc;
}

gearman_return_t gm_worker_wait(gearman_worker_st *worker, uintptr_t pace_addr, int timeout_ms) {
  gm_waiter *w = &((gm_pace *)pace_addr)->waiter;
  gearman_worker_set_timeout(worker, timeout_ms);  // clamped by Go (clampWait)
  gm_waiter *outer = gm_wait_enter(w);
  gearman_return_t rc = gearman_worker_wait(worker);
  gm_wait_leave(w, outer);
  return rc;
}

bool gm_worker_set_exceptions(gearman_worker_st *worker, uintptr_t pace_addr) {
  gm_waiter *w = &((gm_pace *)pace_addr)->waiter;
  gm_waiter *outer = gm_wait_enter(w);
  bool ok = gearman_worker_set_server_option(worker, "exceptions", 10);
  gm_wait_leave(w, outer);
  return ok;
}


static long gm_live_jobs;

gm_job *gm_worker_grab_job(gearman_worker_st *worker, uintptr_t pace_addr, int timeout_ms,
                           gearman_return_t *ret) {
  gm_waiter *w = &((gm_pace *)pace_addr)->waiter;
  gearman_worker_set_timeout(worker, gm_clamp_timeout(timeout_ms));
  gm_waiter *outer = gm_wait_enter(w);
  gearman_job_st *job = gearman_worker_grab_job(worker, NULL, ret);
  gm_wait_leave(w, outer);
  if (job == NULL) return NULL;
  gm_job *j = malloc(sizeof *j);
  if (j == NULL) {
    gearman_job_free(job);
    *ret = GEARMAN_MEMORY_ALLOCATION_FAILURE;
    return NULL;
  }
  *j = gm_job_of(job, w, NULL, 0);
  __atomic_add_fetch(&gm_live_jobs, 1, __ATOMIC_RELAXED);
  return j;
}

void gm_job_detach(gm_job *j) {
  __atomic_sub_fetch(&gm_live_jobs, 1, __ATOMIC_RELAXED);
  free(j);
}

gearman_return_t gm_job_send(gm_job *j, int packet, const void *data, size_t size,
                             uint32_t numerator, uint32_t denominator) {
  gm_waiter *outer = gm_wait_enter(j->waiter);
  gearman_return_t rc;
  switch (packet) {
    case GM_JOB_DATA:
      rc = gearman_job_send_data(j->job, data, size);
      break;
    case GM_JOB_WARNING:
      rc = gearman_job_send_warning(j->job, data, size);
      break;
    case GM_JOB_STATUS:
      rc = gearman_job_send_status(j->job, numerator, denominator);
      break;
    case GM_JOB_COMPLETE:
      rc = gearman_job_send_complete(j->job, data, size);
      break;
    case GM_JOB_EXCEPTION:
      rc = gearman_job_send_exception(j->job, data, size);
      break;
    default:
      rc = gearman_job_send_fail(j->job);
      break;
  }
  gm_wait_leave(j->waiter, outer);
  return rc;
}

long gm_jobs_live(void) { return __atomic_load_n(&gm_live_jobs, __ATOMIC_RELAXED); }

// Logging. libgearman formats each line into a stack buffer and calls the hook
// from inside whatever call failed, on the calling thread; the line is copied
// into Go before the hook returns. A handle travels as the hook's context
// pointer: an integer, never a Go pointer.
static void gm_on_log(const char *line, gearman_verbose_t verbose, void *context) {
  if (line == NULL || context == NULL) return;
  gm_waiter *parked = gm_wait_park();
  goLog((uintptr_t)context, (char *)line, (int)verbose);
  gm_wait_unpark(parked);
}

void gm_client_set_log(gearman_client_st *client, uintptr_t handle, int verbose) {
  if (handle == 0) {
    gearman_client_set_log_fn(client, NULL, NULL, GEARMAN_VERBOSE_NEVER);
    return;
  }
  gearman_client_set_log_fn(client, gm_on_log, (void *)handle, (gearman_verbose_t)verbose);
}

void gm_worker_set_log(gearman_worker_st *worker, uintptr_t handle, int verbose) {
  if (handle == 0) {
    gearman_worker_set_log_fn(worker, NULL, NULL, GEARMAN_VERBOSE_NEVER);
    return;
  }
  gearman_worker_set_log_fn(worker, gm_on_log, (void *)handle, (gearman_verbose_t)verbose);
}

// What the linked libgearman can do. The headers do not say whether the
// library was built with TLS (HAVE_SSL lives in its private config), so the
// binding looks at what the loaded libgearman.so itself needs: a TLS build
// needs libssl or libwolfssl.
typedef struct gm_needed_query {
  char *buf;
  size_t size;
  size_t used;
  int count;
} gm_needed_query;

static void gm_needed_add(gm_needed_query *q, const char *name) {
  size_t n = strlen(name);
  if (q->used + n + 2 > q->size) return;
  if (q->count > 0) q->buf[q->used++] = '\n';
  memcpy(q->buf + q->used, name, n);
  q->used += n;
  q->buf[q->used] = '\0';
  q->count++;
}

static int gm_needed_visit(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  const char *base = strrchr(info->dlpi_name, '/');
  base = base ? base + 1 : info->dlpi_name;
  if (strncmp(base, "libgearman.so", 13) != 0) return 0;
  gm_needed_query *q = data;
  q->count = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    if (info->dlpi_phdr[i].p_type != PT_DYNAMIC) continue;
    const ElfW(Dyn) *dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    const char *strtab = NULL;
    for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++) {
      if (d->d_tag != DT_STRTAB) continue;
      // glibc relocates the loaded dynamic section on most targets; where it
      // does not, the address is still relative to the load base.
      ElfW(Addr) p = d->d_un.d_ptr;
      strtab = (const char *)(p < info->dlpi_addr ? info->dlpi_addr + p : p);
    }
    if (strtab == NULL) return 1;
    for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++) {
      if (d->d_tag == DT_NEEDED) gm_needed_add(q, strtab + d->d_un.d_val);
    }
  }
  return 1;
}

int gm_lib_needed(char *buf, size_t size) {
  gm_needed_query q = {buf, size, 0, -1};
  if (size > 0) buf[0] = '\0';
  dl_iterate_phdr(gm_needed_visit, &q);
  return q.count;
}

typedef void (*gm_worker_ssl_fn)(gearman_worker_st *, bool, const char *,
                                 const char *, const char *);

static gm_worker_ssl_fn gm_worker_ssl_lookup(void) {
  return (gm_worker_ssl_fn)dlsym(RTLD_DEFAULT, "gearman_worker_set_ssl");
}

bool gm_worker_ssl_available(void) { return gm_worker_ssl_lookup() != NULL; }

static const char *gm_or_null(const char *s) { return (s != NULL && s[0] != 0) ? s : NULL; }

void gm_client_set_ssl(gearman_client_st *client, const char *ca,
                       const char *cert, const char *key) {
  gearman_client_set_ssl(client, true, gm_or_null(ca), gm_or_null(cert), gm_or_null(key));
}

void gm_worker_set_ssl(gearman_worker_st *worker, const char *ca,
                       const char *cert, const char *key) {
  gm_worker_ssl_fn fn = gm_worker_ssl_lookup();
  if (fn != NULL) fn(worker, true, gm_or_null(ca), gm_or_null(cert), gm_or_null(key));
}

size_t gm_heap_in_use(void) {
  struct mallinfo2 m = mallinfo2();  // sums all arenas, so every thread's
  return m.uordblks + m.hblkhd;
}
