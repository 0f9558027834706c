// The large-payload fix: libgearman 1.1.20 pins SO_SNDBUF to 32 KiB on every
// socket it opens (connection.cc, set_socket_options). That turns off the
// kernel's send-buffer autotuning, and every full buffer then waits for a
// delayed ACK, about 40 ms: a 1 MiB job takes 0.6 s, 1.6 jobs/s. libgearman
// offers no way to change the size and never shows its sockets, so the
// binding defines setsockopt itself. The dynamic linker resolves libgearman's
// call to this definition; it ignores SO_SNDBUF when, and only when, the
// caller is libgearman and the fix is on, and passes every other call through
// unchanged. Go's own sockets never come here: the Go runtime makes the
// system call itself.
//
// The switch: gm_sndbuf_fix, set from Go (SetSendBufferFix), off with the
// environment variable LIBGEARMAN_GO_SNDBUF=pinned. It applies to sockets
// libgearman opens afterwards.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sockopt.h"

int gm_sndbuf_fix = 1;

static int gm_caller_is_libgearman(const void *addr) {
  Dl_info info;
  if (dladdr(addr, &info) == 0 || info.dli_fname == NULL) return 0;
  const char *base = strrchr(info.dli_fname, '/');
  return strncmp(base ? base + 1 : info.dli_fname, "libgearman.so", 13) == 0;
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t size) {
  if (level == SOL_SOCKET && name == SO_SNDBUF && gm_sndbuf_fix &&
      gm_caller_is_libgearman(__builtin_return_address(0))) {
    return 0;  // leave the buffer to the kernel's autotuning
  }
  return (int)syscall(SYS_setsockopt, fd, level, name, value, size);
}

void gm_sndbuf_init(void) {
  const char *mode = getenv("LIBGEARMAN_GO_SNDBUF");
  if (mode != NULL && strcmp(mode, "pinned") == 0) gm_sndbuf_fix = 0;
}
