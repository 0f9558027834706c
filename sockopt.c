//go:build linux

// The large-payload fix: libgearman 1.1.20 pins SO_SNDBUF to 32 KiB on every
// socket it opens (connection.cc, set_socket_options). That turns off the
// kernel's send-buffer autotuning, and every full buffer then waits for a
// delayed ACK: a 1 MiB job stalls for over half a second (bench/notes.md,
// docs/benchmarks.md W5). libgearman
// offers no way to change the size and never shows its sockets, so the
// binding defines setsockopt itself. The dynamic linker resolves libgearman's
// call to this definition; it ignores SO_SNDBUF when, and only when, the
// caller is libgearman and the fix is on, and passes every other call through
// unchanged. Go's own sockets never come here: the Go runtime makes the
// system call itself.
//
// Static builds (-tags gearman_static, which defines GM_STATIC): libgearman is
// part of the executable, so dladdr names the executable for its calls and
// for every other caller alike, and a setsockopt defined here would also
// replace libc's for every shared library. Instead link_static.go links with
// --wrap=setsockopt: the linker sends the calls of objects inside the
// executable (libgearman.a's connection.o; Go code makes no such call) to
// __wrap_setsockopt, and shared libraries keep libc's setsockopt untouched.
// Other C code linked into the same executable is wrapped too, so the caller
// test becomes an address range: libgearman 1.1.20 calls setsockopt only from
// gearman_connection_st::set_socket_options(), and in connection.o the next
// function is gearman_connection_st::flush(). An object's code stays in one
// piece when linked, so the return address of libgearman's call lies between
// the two. Referring to them by their C++ names makes a libgearman without
// them fail to link, rather than silently lose the fix; if a rebuilt one laid
// them out the other way round, the range is empty, the fix does nothing and
// TestSendBufferFix fails.
//
// The switch: gm_sndbuf_fix, set from Go (SetSendBufferFix), off with the
// environment variable LIBGEARMAN_GO_SNDBUF=pinned. It applies to sockets
// libgearman opens afterwards.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sockopt.h"

int gm_sndbuf_fix = 1;

#ifdef GM_STATIC
// The C++ (Itanium ABI) names of the two member functions described above.
extern const char gm_set_socket_options[] __asm__(
    "_ZN21gearman_connection_st18set_socket_optionsEv");
extern const char gm_connection_flush[] __asm__("_ZN21gearman_connection_st5flushEv");

static int gm_caller_is_libgearman(const void *addr) {
  uintptr_t a = (uintptr_t)addr;
  return a > (uintptr_t)gm_set_socket_options && a < (uintptr_t)gm_connection_flush;
}
#else
static int gm_caller_is_libgearman(const void *addr) {
  Dl_info info;
  if (dladdr(addr, &info) == 0 || info.dli_fname == NULL) return 0;
  const char *base = strrchr(info.dli_fname, '/');
  return strncmp(base ? base + 1 : info.dli_fname, "libgearman.so", 13) == 0;
}
#endif

static int gm_setsockopt(const void *caller, int fd, int level, int name, const void *value,
                         socklen_t size) {
  if (level == SOL_SOCKET && name == SO_SNDBUF && gm_sndbuf_fix &&
      gm_caller_is_libgearman(caller)) {
    return 0;  // leave the buffer to the kernel's autotuning
  }
  return (int)syscall(SYS_setsockopt, fd, level, name, value, size);
}

#ifdef GM_STATIC
int __wrap_setsockopt(int fd, int level, int name, const void *value, socklen_t size) {
  return gm_setsockopt(__builtin_return_address(0), fd, level, name, value, size);
}
#else
int setsockopt(int fd, int level, int name, const void *value, socklen_t size) {
  return gm_setsockopt(__builtin_return_address(0), fd, level, name, value, size);
}
#endif

void gm_sndbuf_init(void) {
  const char *mode = getenv("LIBGEARMAN_GO_SNDBUF");
  if (mode != NULL && strcmp(mode, "pinned") == 0) gm_sndbuf_fix = 0;
}
