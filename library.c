//go:build linux

// C shims for what the library itself does and has: its log lines, what the
// loaded libgearman.so needs (TLS or not), TLS set-up, and the C heap in use.
// dl_iterate_phdr and RTLD_DEFAULT need _GNU_SOURCE.
#define _GNU_SOURCE
#include "callbacks.h"

#include <dlfcn.h>
#include <link.h>
#include <malloc.h>
#include <string.h>

#include "_cgo_export.h"

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
