//go:build linux

// C shims for the worker: worker functions, the work loop, jobs and their
// packets. See callbacks.h for the model.
#include "callbacks.h"

#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "_cgo_export.h"

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

struct gm_wstate {
  gm_waiter waiter;  // the worker's, for every libgearman call the binding makes on it
  // Only the thread inside gm_worker_work or gm_worker_step uses the rest.
  // The worker's jobs run one at a time, so they share one result buffer.
  char result[GM_RESULT_INLINE];
  // gm_worker_step: the error text of work's last NO_JOBS, and whether it is
  // the text of the step's failure.
  bool error_saved;
  char error[GEARMAN_MAX_ERROR_SIZE];
};

gm_wstate *gm_wstate_new(gearman_worker_st *worker) {
  gm_wstate *wstate = calloc(1, sizeof(gm_wstate));
  if (wstate != NULL) gm_waiter_init(&wstate->waiter, gearman_worker_id(worker));
  return wstate;
}

void gm_wstate_free(gm_wstate *wstate) { free(wstate); }

// The worker state of the gm_worker_work or gm_worker_step this thread is in, for
// the worker function shim, which libgearman gives only the function's
// context. A job may run another Worker's Work, so both restore the outer
// one.
static __thread gm_wstate *gm_running_wstate;

// The send's own result is not looked at, as the Go side did not look at
// it either: a failed send leaves its error on the connection, which the
// next wait reports. The job counts as running until gearman_worker_work
// returns: its result may still be on its way.
// libgearman runs functions only inside gearman_worker_work, which the
// binding calls only from gm_worker_work and gm_worker_step: the wstate is
// always there.
static gearman_return_t gm_worker_function(gearman_job_st *job, void *context) {
  gm_wstate *wstate = gm_running_wstate;
  gm_job j = gm_job_of(job, &wstate->waiter, wstate->result, sizeof wstate->result);
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
gearman_return_t gm_worker_work(uintptr_t worker_addr, uintptr_t wstate_addr, int timeout_ms) {
  gearman_worker_st *worker = (gearman_worker_st *)worker_addr;
  gm_wstate *wstate = (gm_wstate *)wstate_addr;
  gearman_worker_set_timeout(worker, timeout_ms < 0 ? -1 : gm_clamp_timeout(timeout_ms));
  gm_wstate *outer = gm_running_wstate;
  gm_running_wstate = wstate;
  gm_waiter *outer_waiter = gm_wait_enter(&wstate->waiter);
  wstate->error_saved = false;
  gearman_return_t rc = gearman_worker_work(worker);
  gm_wait_leave(&wstate->waiter, outer_waiter);
  gm_running_wstate = outer;
  return rc;
}

// Only the Go side decides when to stop; this only runs libgearman as far as
// it goes. The worker's wakeup pipe is left out of the record: Go wakes its
// own wait, and a pipe among the fds would make it wait on two sockets.
gearman_return_t gm_worker_step(uintptr_t worker_addr, uintptr_t wstate_addr, bool wait_first,
                                bool asleep, gm_recorder *rec) {
  gearman_worker_st *worker = (gearman_worker_st *)worker_addr;
  gm_wstate *wstate = (gm_wstate *)wstate_addr;
  bool was_non_blocking = gearman_worker_options(worker) & GEARMAN_WORKER_NON_BLOCKING;
  if (!was_non_blocking) gearman_worker_add_options(worker, GEARMAN_WORKER_NON_BLOCKING);
  // libgearman's own timeout stays -1: with 0 its wait would not poll at all.
  gearman_worker_set_timeout(worker, -1);
  gm_wstate *outer = gm_running_wstate;
  gm_running_wstate = wstate;
  gm_waiter *outer_waiter = gm_wait_enter(&wstate->waiter);
  wstate->error_saved = false;
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
        wstate->error_saved = last == GEARMAN_NO_JOBS;
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
      snprintf(wstate->error, sizeof wstate->error, "%s", e != NULL ? e : "");
    }
    last = rc;
    wait_first = true;
  }
  gm_wait_leave(&wstate->waiter, outer_waiter);
  gm_running_wstate = outer;
  if (!was_non_blocking) gearman_worker_remove_options(worker, GEARMAN_WORKER_NON_BLOCKING);
  return rc;
}

const char *gm_worker_error(gearman_worker_st *worker, uintptr_t wstate_addr) {
  gm_wstate *wstate = (gm_wstate *)wstate_addr;
  return wstate->error_saved ? wstate->error : gearman_worker_error(worker);
}

void gm_worker_interrupt(uintptr_t wstate_addr, bool closing) {
  gm_wstate *wstate = (gm_wstate *)wstate_addr;
  if (closing) atomic_store(&wstate->waiter.closing, true);  // before the pipe wakes the wait
  gearman_kill(wstate->waiter.wake, GEARMAN_SIGNAL_INTERRUPT);
}

bool gm_worker_clear_interrupt(uintptr_t wstate_addr) {
  gm_waiter *w = &((gm_wstate *)wstate_addr)->waiter;
  char buf[16];
  while (read(w->wake.read_fd, buf, sizeof buf) > 0) {  // the pipe is non-blocking
  }
  w->deferred = false;
  bool fit = !w->cut && !w->lost;
  w->lost = false;
  return fit;
}

gearman_return_t gm_worker_echo(gearman_worker_st *worker, uintptr_t wstate_addr,
                                const void *data, size_t size, int timeout_ms) {
  gm_waiter *w = &((gm_wstate *)wstate_addr)->waiter;
  gearman_worker_set_timeout(worker, timeout_ms);  // clamped by Go (clampWait)
  gm_waiter *outer = gm_wait_enter(w);
  gearman_return_t rc = gearman_worker_echo(worker, data, size);
  gm_wait_leave(w, outer);
  return rc;
}

gearman_return_t gm_worker_wait(gearman_worker_st *worker, uintptr_t wstate_addr, int timeout_ms) {
  gm_waiter *w = &((gm_wstate *)wstate_addr)->waiter;
  gearman_worker_set_timeout(worker, timeout_ms);  // clamped by Go (clampWait)
  gm_waiter *outer = gm_wait_enter(w);
  gearman_return_t rc = gearman_worker_wait(worker);
  gm_wait_leave(w, outer);
  return rc;
}

bool gm_worker_set_exceptions(gearman_worker_st *worker, uintptr_t wstate_addr) {
  gm_waiter *w = &((gm_wstate *)wstate_addr)->waiter;
  gm_waiter *outer = gm_wait_enter(w);
  bool ok = gearman_worker_set_server_option(worker, "exceptions", 10);
  gm_wait_leave(w, outer);
  return ok;
}


static long gm_live_jobs;

gm_job *gm_worker_grab_job(gearman_worker_st *worker, uintptr_t wstate_addr, int timeout_ms,
                           gearman_return_t *ret) {
  gm_waiter *w = &((gm_wstate *)wstate_addr)->waiter;
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
