// The C side of the boundary between Go and libgearman.
//
// Everything libgearman calls back into lives in the shims, one file per
// concept: client_tasks.c (the client and its tasks), callbacks.c (the
// worker and its jobs), library.c (logging, what the library can do, the C
// heap), and in trampolines.go (the //export functions). libgearman never sees a Go pointer:
// task and worker-function contexts are C structs or runtime/cgo.Handle values
// carried as integers.
#ifndef LIBGEARMAN_GO_CALLBACKS_H
#define LIBGEARMAN_GO_CALLBACKS_H

#include <libgearman-1.0/gearman.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "wire.h"

// Compile-time library check: the binding relies on the 1.1 API
// (gearman_function_create_v2, add_task_status_by_unique, ...).
#if !defined(LIBGEARMAN_VERSION_HEX) || LIBGEARMAN_VERSION_HEX < 0x01001000
#error "libgearman-go needs libgearman 1.1 or newer (Debian/Ubuntu: apt-get install libgearman-dev)"
#endif

// A timeout of 0 makes libgearman skip poll() and, while a connection is
// being made, wedges the client for good (NO_ACTIVE_FDS on every later call).
// Every wait the binding makes is therefore at least 1 ms; a user's timeout of
// 0 is measured in Go.
static inline int gm_clamp_timeout(int timeout_ms) {
  return timeout_ms < 1 ? 1 : timeout_ms;
}

// The eight client task events, in the order of gearman_actions_t.
enum gm_event {
  GM_EVENT_WORKLOAD,
  GM_EVENT_CREATED,
  GM_EVENT_DATA,
  GM_EVENT_WARNING,
  GM_EVENT_STATUS,
  GM_EVENT_COMPLETE,
  GM_EVENT_EXCEPTION,
  GM_EVENT_FAIL,
  GM_EVENT_COUNT
};

enum gm_task_kind {
  GM_KIND_FOREGROUND,
  GM_KIND_BACKGROUND,
  GM_KIND_STATUS,
  GM_KIND_STATUS_UNIQUE
};

typedef struct gm_buf {
  char *ptr;
  size_t len;
  size_t cap;
} gm_buf;

// gm_task is the context of every task the binding gives libgearman. The C
// side records what each packet says, so that a blocking Do never has to cross
// into Go per packet; a task added through AddTask* also carries the
// cgo.Handle of its Go *Task and where to read which events have a Go
// callback on its client. libgearman frees it through gm_task_context_free.
typedef struct gm_task {
  gearman_task_st *task;    // NULL once libgearman freed it
  uint64_t *progress;       // the client's packet counter
  bool caller_frees;        // a blocking call reads the result after the task ends
  uintptr_t go_task;        // cgo.Handle of the Go task, 0 for none
  const unsigned *go_events;  // the client's gm_events: read at each event
  int kind;                 // enum gm_task_kind
  bool accumulate;          // keep WORK_DATA chunks ahead of the final result
  bool finished;            // a terminal packet arrived
  gearman_return_t result;  // SUCCESS, WORK_FAIL or WORK_EXCEPTION once finished
  gm_buf data;              // accumulated result, or the last packet's payload
  uint32_t numerator;
  uint32_t denominator;
  bool known;
  bool running;
  uint64_t packets;         // packets seen: progress for timeouts measured in Go
  char job_handle[GEARMAN_JOB_HANDLE_SIZE];
} gm_task;

// What a task is for, beyond its job: given to gm_add_task.
typedef struct gm_task_opts {
  int kind;                 // enum gm_task_kind
  int priority;             // gearman_job_priority_t
  bool accumulate;
  bool caller_frees;
  uintptr_t go_task;
  const unsigned *go_events;
} gm_task_opts;

// The events (bit 1 << gm_event) that have a Go callback on a client now. It
// belongs to the Go Client, outlives each of its libgearman objects, and is
// read at every event, so a callback set after AddTask is the one that fires.
unsigned *gm_events_new(void);
void gm_events_set(unsigned *events, unsigned bits);

// Client side.
gearman_client_st *gm_client_create(void);
void gm_client_free(gearman_client_st *client);
uint64_t *gm_client_progress(gearman_client_st *client);
gm_task *gm_add_task(gearman_client_st *client, const gm_task_opts *opts,
                     const char *function_name, const char *unique,
                     const char *workload, size_t workload_size,
                     gearman_return_t *ret);
gearman_return_t gm_run_tasks(gearman_client_st *client, int timeout_ms);
// gm_client_wait waits for a non-blocking client's I/O (PHP's wait), in
// poll() with wake_fd among the fds (wire.c): writing to it ends the wait,
// which then returns TIMEOUT. timeout_ms -1 is none.
gearman_return_t gm_client_wait(gearman_client_st *client, int timeout_ms, int wake_fd);
// gm_client_step moves a non-blocking client's tasks on as far as they go
// without waiting (after first taking in what its last wait found, with
// wait_first). It returns IO_WAIT with rec holding the fds and events to
// wait for, or run_tasks' answer.
gearman_return_t gm_client_step(gearman_client_st *client, bool wait_first, gm_recorder *rec);
// gm_client_run_until runs a non-blocking client's tasks for a caller alone
// with it: libgearman waits itself, in poll(), with wake_fd among its fds
// (wire.c), until t has finished (NULL: every task has), wake_fd was
// written (*woken), a wait of timeout_ms passed with nothing ready (*timed_out; -1: none), or libgearman
// answers other than IO_WAIT. A packet part way across waits without the
// timeout. It leaves nothing recorded: the next step starts with
// run_tasks, which takes in what the last wait found.
gearman_return_t gm_client_run_until(gearman_client_st *client, const gm_task *t, int wake_fd,
                                     int timeout_ms, bool *woken, bool *timed_out);
// gm_echo is a blocking echo to every server of client, with wake_fd among
// the fds of its poll(), so that writing to it ends the wait (wire.c).
gearman_return_t gm_echo(gearman_client_st *client, const char *data,
                         size_t size, int timeout_ms, int wake_fd);
bool gm_client_set_exceptions(gearman_client_st *client);
// gm_wait_fds waits in poll() for fds, which several non-blocking clients'
// steps recorded, with wake_fd among them (wire.c): writing to it ends the
// wait, and a packet part way across one of the fds waits without the
// timeout. It returns poll's answer, with fds' revents set.
int gm_wait_fds(struct pollfd *fds, int n, int wake_fd, int timeout_ms);
// A task's own I/O, called from inside one of its callbacks.
size_t gm_task_send_workload(gearman_task_st *task, const void *data, size_t size,
                             gearman_return_t *ret);
size_t gm_task_recv_data(gearman_task_st *task, void *data, size_t size,
                         gearman_return_t *ret);
void gm_task_release(gm_task *t);

// Worker side.
gearman_worker_st *gm_worker_create(void);
gearman_return_t gm_worker_define(gearman_worker_st *worker, const char *name,
                                  size_t name_size, uint32_t timeout,
                                  uintptr_t handle);

// What the binding keeps for one worker's calls: its waiter (wire.h), the
// result buffer of its jobs, and gm_worker_step's saved error. Opaque to Go;
// one per gearman_worker_st the binding creates, freed with gm_wstate_free.
typedef struct gm_wstate gm_wstate;
gm_wstate *gm_wstate_new(gearman_worker_st *worker);
void gm_wstate_free(gm_wstate *wstate);

// gm_worker_work runs one job in the worker's own mode; timeout_ms < 0 waits
// for it without a limit. The worker and its wstate are passed as integers,
// which cgo does not check (capi.go).
gearman_return_t gm_worker_work(uintptr_t worker, uintptr_t wstate, int timeout_ms);
// gm_worker_step runs the worker in non-blocking mode, whatever its options,
// as far as it goes without waiting (after first taking in what its last
// wait found, with wait_first; asleep says that wait began after NO_JOBS).
// It returns SUCCESS once a job ran; IO_WAIT
// (an exchange with a server under way) or NO_JOBS (asleep until a server
// wakes it) with rec holding the fds and events to wait for; COULD_NOT_CONNECT
// when no server is connected; or work's failure. After a failure other
// than these, libgearman 1.1.20 may be left with a state that crashes its next
// call: the worker must be replaced.
gearman_return_t gm_worker_step(uintptr_t worker, uintptr_t wstate, bool wait_first,
                                bool asleep, gm_recorder *rec);
// gm_worker_error is the worker's error text, or that of gm_worker_step's
// COULD_NOT_CONNECT, which libgearman's last wait replaced.
const char *gm_worker_error(gearman_worker_st *worker, uintptr_t wstate);
// gm_worker_interrupt ends the wait in progress, from any thread: it writes
// to the worker's wakeup pipe, and the wait ends as a timeout (wire.h). A wait
// in the middle of a transfer ends at the transfer's next packet boundary,
// unless closing (Close, which frees the worker next) and the transfer is a
// receive: then it ends at once, cut.
void gm_worker_interrupt(uintptr_t wstate, bool closing);
// gm_worker_clear_interrupt follows a call that was interrupted: it empties
// the pipe of an interrupt that came too late to end a wait, and reports
// whether the worker is fit for another call. It is not after a wait cut
// mid-transfer, or one whose interrupt libgearman read itself.
bool gm_worker_clear_interrupt(uintptr_t wstate);
gearman_return_t gm_worker_echo(gearman_worker_st *worker, uintptr_t wstate,
                                const void *data, size_t size, int timeout_ms);
gearman_return_t gm_worker_wait(gearman_worker_st *worker, uintptr_t wstate, int timeout_ms);
bool gm_worker_set_exceptions(gearman_worker_st *worker, uintptr_t wstate);

// A job as Go sees it: the workload's address and size are read in C when
// the job arrives, so that Go reads the workload without two more crossings
// per job. A job a worker function runs lives on the C stack for the
// length of the call; one from gm_worker_grab_job is malloc'd and freed with
// gm_job_free.
//
// A worker function's job also carries a buffer for its result, its
// worker's (in the gm_wstate): a result that fits is copied there by Go and
// sent by the shim once the function returned, which spares a crossing per
// job. result is NULL for a grabbed job.
typedef struct {
  gearman_job_st *job;
  gm_waiter *waiter;  // its worker's: every send of the job waits under it
  const void *workload;
  size_t workload_size;
  char *result;
  size_t result_cap;
  size_t result_size;
  bool result_set;  // result holds the WORK_COMPLETE payload to send
} gm_job;

// The largest result sent from the shim's buffer; larger ones are sent
// from Go memory, without a copy.
#define GM_RESULT_INLINE 4096
gm_job *gm_worker_grab_job(gearman_worker_st *worker, uintptr_t wstate, int timeout_ms,
                           gearman_return_t *ret);
// gm_job_detach frees only the record of a grabbed job: gearman_worker_free
// frees the job itself along with its worker.
void gm_job_detach(gm_job *j);

// The sends of a job, under its worker's waiter.
enum gm_job_packet {
  GM_JOB_DATA,
  GM_JOB_WARNING,
  GM_JOB_STATUS,
  GM_JOB_COMPLETE,
  GM_JOB_EXCEPTION,
  GM_JOB_FAIL
};
gearman_return_t gm_job_send(gm_job *j, int packet, const void *data, size_t size,
                             uint32_t numerator, uint32_t denominator);
// Grabbed-job records not yet freed: tests check that none outlives its job.
long gm_jobs_live(void);

// Logging: libgearman's log hook, forwarded to the Go logger whose
// cgo.Handle is handle; 0 removes the hook.
void gm_client_set_log(gearman_client_st *client, uintptr_t handle, int verbose);
void gm_worker_set_log(gearman_worker_st *worker, uintptr_t handle, int verbose);

// What the linked libgearman can do. gm_lib_needed writes the DT_NEEDED
// entries of the loaded libgearman.so into buf, separated by '\n', and returns
// their count, or -1 when no libgearman.so is loaded (a static link).
int gm_lib_needed(char *buf, size_t size);
// TLS setters, called only when the library has TLS. gearman_worker_set_ssl
// is declared but not defined in 1.1.20, so the worker's is looked up.
bool gm_worker_ssl_available(void);
void gm_client_set_ssl(gearman_client_st *client, const char *ca,
                       const char *cert, const char *key);
void gm_worker_set_ssl(gearman_worker_st *worker, const char *ca,
                       const char *cert, const char *key);

// Bytes malloc has handed out and not had back, in every arena: tests use it
// to prove that no C memory per job outlives the job.
size_t gm_heap_in_use(void);

#endif

