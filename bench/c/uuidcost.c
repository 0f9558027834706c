// uuidcost: what libgearman's default unique key costs per job. libgearman
// 1.1 calls uuid_generate_time_safe and uuid_unparse for every job submitted
// without a unique key; this times N such pairs (bench/notes.md, "A UUID per
// job"). Run it under `strace -c` to see libuuid try the uuidd daemon.
//
//   cc -O2 -o uuidcost bench/c/uuidcost.c -luuid && ./uuidcost 100000
//
// Needs libuuid's header (Debian: uuid-dev).
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <uuid/uuid.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  if (n <= 0) {
    fprintf(stderr, "usage: uuidcost [N]\n");
    return 2;
  }
  char text[37];
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) {
    uuid_t u;
    uuid_generate_time_safe(u);
    uuid_unparse(u, text);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3;
  printf("%ld UUIDs, %.2f us each (last %s)\n", n, us / (double)n, text);
  return 0;
}
