// gearbench: the C side of the libgearman-go side-by-side benchmark
// (bench/run.sh), written directly against libgearman 1.1.
//
//   cc -O2 -o gearbench gearbench.c $(pkg-config --cflags --libs gearmand)
//
//   gearbench worker HOST PORT
//       v2 echo worker: function "echo" answers with its workload through
//       gearman_job_send_complete. Serves until killed (it gives up after
//       about a second of failed work() calls, so a worker whose gearmand is
//       gone does not spin forever). With GEARBENCH_IDLE_THREAD=1 it also
//       starts a thread that only sleeps: the kernel then treats it as the
//       multi-threaded process every Go program is (bench/notes.md).
//
//   gearbench client HOST PORT SCENARIO N SIZE
//       runs one scenario and prints one line:
//           jobs_per_sec=<float> [drained_per_sec=<float>]
//       W1  N sequential gearman_client_do
//       W2  N gearman_client_add_task, then ONE gearman_client_run_tasks
//           (default client options: no FREE_TASKS, as a plain C user has)
//       W3  N sequential gearman_client_do_background (submit rate), then the
//           rate until the worker drained the queue
//       W4  N gearman_client_add_task_background, then ONE run_tasks (submit
//           rate), then the rate until the worker drained the queue
//       W5  N sequential gearman_client_do (use SIZE=1048576)
//       W2F, W4F  W2 and W4 with GEARMAN_CLIENT_FREE_TASKS, which PHP's
//           extension always sets and the Go binding sets too
//       W6  N gearman_client_do in all from 64 threads, each with its own
//           gearman_client_st (connected by a warm-up job of its own before
//           the clock starts) and doing its share sequentially
//       With GEARBENCH_OWN_UNIQUE=1 in the environment, W1, W3, W5 and W6 pass
//           their own unique key (pid and a counter) instead of NULL, so
//           that libgearman does not ask libuuid for one per job; the Go
//           binding does the same (uuid.go). Off by default: a plain C user
//           passes NULL.
//       The line also carries cpu_sec=<float>: this process's user+system
//       CPU time over the timed part (up to "drained" where there is one).
//       "Drained" polls the admin "status" command over a plain TCP socket
//       until the echo function's queue (total, which includes running jobs)
//       is 0; its rate is N / (time from the first submission to that point).
//
// Every result is checked (size and bytes); a wrong or missing result makes
// the program exit non-zero without printing a rate.
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <errno.h>
#include <libgearman-1.0/gearman.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *FUNCTION = "echo";

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_sec(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "gearbench: %s: %s\n", what, detail ? detail : "");
  exit(1);
}

// ---- worker ----

static gearman_return_t echo_fn(gearman_job_st *job, void *context) {
  (void)context;
  return gearman_job_send_complete(job, gearman_job_workload(job),
                                    gearman_job_workload_size(job));
}

static void *sleep_for_ever(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

static int run_worker(const char *host, int port) {
  const char *idle = getenv("GEARBENCH_IDLE_THREAD");
  if (idle != NULL && strcmp(idle, "1") == 0) {
    pthread_t t;
    if (pthread_create(&t, NULL, sleep_for_ever, NULL) != 0) die("pthread_create", "failed");
  }
  gearman_worker_st *worker = gearman_worker_create(NULL);
  if (worker == NULL) die("gearman_worker_create", "failed");
  if (gearman_worker_add_server(worker, host, (in_port_t)port) != GEARMAN_SUCCESS) {
    die("gearman_worker_add_server", gearman_worker_error(worker));
  }
  gearman_function_t fn = gearman_function_create_v2(echo_fn);
  if (gearman_worker_define_function(worker, FUNCTION, strlen(FUNCTION), fn, 0,
                                     NULL) != GEARMAN_SUCCESS) {
    die("gearman_worker_define_function", gearman_worker_error(worker));
  }
  int failures = 0;
  for (;;) {
    gearman_return_t rc = gearman_worker_work(worker);
    if (rc == GEARMAN_SUCCESS || rc == GEARMAN_IO_WAIT) {
      failures = 0;
      continue;
    }
    fprintf(stderr, "gearbench worker: work: %s\n", gearman_worker_error(worker));
    if (++failures >= 20) break;
    const struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  gearman_worker_free(worker);
  return 1;
}

// ---- admin "status" over plain TCP ----

typedef struct admin_conn {
  int fd;
  char buf[65536];
} admin_conn;

static void admin_open(admin_conn *a, const char *host, int port) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    die("admin", "HOST must be an IPv4 address");
  }
  a->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (a->fd < 0) die("admin socket", strerror(errno));
  if (connect(a->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    die("admin connect", strerror(errno));
  }
  int one = 1;
  setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// admin_queue returns the "total" column of FUNCTION in gearmand's status
// reply (0 when the function is not listed).
static long admin_queue(admin_conn *a) {
  static const char cmd[] = "status\r\n";
  if (write(a->fd, cmd, sizeof cmd - 1) != (ssize_t)(sizeof cmd - 1)) {
    die("admin write", strerror(errno));
  }
  size_t len = 0;
  for (;;) {
    if (len == sizeof a->buf - 1) die("admin", "reply too long");
    ssize_t n = read(a->fd, a->buf + len, sizeof a->buf - 1 - len);
    if (n <= 0) die("admin read", n == 0 ? "connection closed" : strerror(errno));
    len += (size_t)n;
    a->buf[len] = '\0';
    if ((len >= 2 && strcmp(a->buf, ".\n") == 0) ||
        (len >= 3 && strcmp(a->buf + len - 3, "\n.\n") == 0)) {
      break;
    }
  }
  size_t flen = strlen(FUNCTION);
  for (char *line = a->buf; line && *line;) {
    char *next = strchr(line, '\n');
    if (next) *next++ = '\0';
    if (strncmp(line, FUNCTION, flen) == 0 && line[flen] == '\t') {
      return strtol(line + flen + 1, NULL, 10);
    }
    line = next;
  }
  return 0;
}

// wait_drained polls until the queue is empty and returns that moment.
static double wait_drained(const char *host, int port) {
  admin_conn *a = malloc(sizeof *a);
  if (a == NULL) die("malloc", "admin");
  admin_open(a, host, port);
  const struct timespec pause = {0, 5 * 1000 * 1000};  // 5 ms between polls
  double t;
  for (;;) {
    long q = admin_queue(a);
    t = now_sec();
    if (q == 0) break;
    nanosleep(&pause, NULL);
  }
  close(a->fd);
  free(a);
  return t;
}

// ---- client ----

static const char *g_payload;
static size_t g_size;
static long g_completed, g_created, g_bad;

static gearman_return_t on_complete(gearman_task_st *task) {
  g_completed++;
  if (gearman_task_data_size(task) != g_size ||
      memcmp(gearman_task_data(task), g_payload, g_size) != 0) {
    g_bad++;
  }
  return GEARMAN_SUCCESS;
}

static gearman_return_t on_created(gearman_task_st *task) {
  (void)task;
  g_created++;
  return GEARMAN_SUCCESS;
}

static gearman_return_t on_fail(gearman_task_st *task) {
  (void)task;
  g_bad++;
  return GEARMAN_SUCCESS;
}

static bool g_own_unique;
static _Thread_local char g_unique[64];

// own_unique gives the next job's unique key: NULL (libgearman makes one
// through libuuid) unless GEARBENCH_OWN_UNIQUE is set. Safe in W6's threads.
static const char *own_unique(void) {
  static atomic_long counter;
  if (!g_own_unique) return NULL;
  snprintf(g_unique, sizeof g_unique, "%ld-%ld", (long)getpid(),
           atomic_fetch_add(&counter, 1) + 1);
  return g_unique;
}

static void do_one(gearman_client_st *client, const char *payload, size_t size) {
  gearman_return_t rc;
  size_t result_size = 0;
  void *result = gearman_client_do(client, FUNCTION, own_unique(), payload, size,
                                   &result_size, &rc);
  if (rc != GEARMAN_SUCCESS) die("gearman_client_do", gearman_client_error(client));
  if (result_size != size || (size && memcmp(result, payload, size) != 0)) {
    die("gearman_client_do", "wrong result");
  }
  free(result);
}

// ---- W6: 64 threads, one client each ----

enum { W6_THREADS = 64 };  // as bench/go's w6Goroutines

typedef struct w6_thread {
  pthread_t id;
  gearman_client_st *client;
  long share;
} w6_thread;

static const char *g_host;
static int g_port;
static pthread_barrier_t g_w6_ready, g_w6_go;

static void *w6_run(void *arg) {
  w6_thread *t = arg;
  t->client = gearman_client_create(NULL);
  if (t->client == NULL) die("gearman_client_create", "failed");
  if (gearman_client_add_server(t->client, g_host, (in_port_t)g_port) != GEARMAN_SUCCESS) {
    die("gearman_client_add_server", gearman_client_error(t->client));
  }
  do_one(t->client, g_payload, g_size < 100 ? g_size : 100);  // warm-up
  pthread_barrier_wait(&g_w6_ready);
  pthread_barrier_wait(&g_w6_go);
  for (long i = 0; i < t->share; i++) do_one(t->client, g_payload, g_size);
  return NULL;
}

// run_w6 runs W6 and returns its seconds; cpu0 gets the CPU time at its
// start.
static double run_w6(long n, double *cpu0) {
  static w6_thread threads[W6_THREADS];
  if (pthread_barrier_init(&g_w6_ready, NULL, W6_THREADS + 1) != 0 ||
      pthread_barrier_init(&g_w6_go, NULL, W6_THREADS + 1) != 0) {
    die("pthread_barrier_init", strerror(errno));
  }
  for (int i = 0; i < W6_THREADS; i++) {
    threads[i].share = n / W6_THREADS + (i < n % W6_THREADS ? 1 : 0);
    if (pthread_create(&threads[i].id, NULL, w6_run, &threads[i]) != 0) {
      die("pthread_create", "failed");
    }
  }
  pthread_barrier_wait(&g_w6_ready);  // every thread connected and warmed up
  *cpu0 = cpu_sec();
  double start = now_sec();
  pthread_barrier_wait(&g_w6_go);
  for (int i = 0; i < W6_THREADS; i++) pthread_join(threads[i].id, NULL);
  double secs = now_sec() - start;
  for (int i = 0; i < W6_THREADS; i++) gearman_client_free(threads[i].client);
  return secs;
}

static int run_client(const char *host, int port, const char *scenario, long n,
                      size_t size) {
  char *payload = malloc(size ? size : 1);
  if (payload == NULL) die("malloc", "payload");
  memset(payload, 'x', size);
  g_payload = payload;
  g_size = size;
  g_host = host;
  g_port = port;

  gearman_client_st *client = gearman_client_create(NULL);
  if (client == NULL) die("gearman_client_create", "failed");
  if (gearman_client_add_server(client, host, (in_port_t)port) != GEARMAN_SUCCESS) {
    die("gearman_client_add_server", gearman_client_error(client));
  }
  const char *own = getenv("GEARBENCH_OWN_UNIQUE");
  g_own_unique = own != NULL && strcmp(own, "1") == 0;
  if (strcmp(scenario, "W6") == 0) {
    gearman_client_free(client);  // each thread has its own
    double cpu0;
    double secs = run_w6(n, &cpu0);
    printf("jobs_per_sec=%.3f cpu_sec=%.3f\n", (double)n / secs, cpu_sec() - cpu0);
    fflush(stdout);
    free(payload);
    return 0;
  }
  // Warm-up, not timed: connects, and proves the worker answers.
  do_one(client, payload, size < 100 ? size : 100);

  bool free_tasks = strcmp(scenario, "W2F") == 0 || strcmp(scenario, "W4F") == 0;
  if (free_tasks) {
    gearman_client_add_options(client, GEARMAN_CLIENT_FREE_TASKS);
    scenario = scenario[1] == '2' ? "W2" : "W4";
  }

  double cpu0 = cpu_sec();
  double start = now_sec(), end;
  bool drain = false;
  if (strcmp(scenario, "W1") == 0 || strcmp(scenario, "W5") == 0) {
    for (long i = 0; i < n; i++) do_one(client, payload, size);
    end = now_sec();
  } else if (strcmp(scenario, "W2") == 0) {
    gearman_client_set_complete_fn(client, on_complete);
    gearman_client_set_fail_fn(client, on_fail);
    for (long i = 0; i < n; i++) {
      gearman_return_t rc;
      gearman_client_add_task(client, NULL, NULL, FUNCTION, NULL, payload, size, &rc);
      if (rc != GEARMAN_SUCCESS) die("gearman_client_add_task", gearman_client_error(client));
    }
    gearman_return_t rc = gearman_client_run_tasks(client);
    end = now_sec();
    if (rc != GEARMAN_SUCCESS) die("gearman_client_run_tasks", gearman_client_error(client));
    if (g_completed != n || g_bad != 0) {
      fprintf(stderr, "completed %ld of %ld, %ld bad\n", g_completed, n, g_bad);
      die("W2", "wrong results");
    }
  } else if (strcmp(scenario, "W3") == 0) {
    char handle[GEARMAN_JOB_HANDLE_SIZE];
    for (long i = 0; i < n; i++) {
      gearman_return_t rc = gearman_client_do_background(client, FUNCTION, own_unique(),
                                                         payload, size, handle);
      if (rc != GEARMAN_SUCCESS) die("gearman_client_do_background", gearman_client_error(client));
    }
    end = now_sec();
    drain = true;
  } else if (strcmp(scenario, "W4") == 0) {
    gearman_client_set_created_fn(client, on_created);
    for (long i = 0; i < n; i++) {
      gearman_return_t rc;
      gearman_client_add_task_background(client, NULL, NULL, FUNCTION, NULL,
                                         payload, size, &rc);
      if (rc != GEARMAN_SUCCESS) die("gearman_client_add_task_background", gearman_client_error(client));
    }
    gearman_return_t rc = gearman_client_run_tasks(client);
    end = now_sec();
    if (rc != GEARMAN_SUCCESS) die("gearman_client_run_tasks", gearman_client_error(client));
    if (g_created != n) {
      fprintf(stderr, "created %ld of %ld\n", g_created, n);
      die("W4", "missing JOB_CREATED");
    }
    drain = true;
  } else {
    die("unknown scenario", scenario);
  }

  if (drain) {
    double drained = wait_drained(host, port);
    printf("jobs_per_sec=%.3f drained_per_sec=%.3f cpu_sec=%.3f\n",
           (double)n / (end - start), (double)n / (drained - start), cpu_sec() - cpu0);
  } else {
    printf("jobs_per_sec=%.3f cpu_sec=%.3f\n", (double)n / (end - start), cpu_sec() - cpu0);
  }
  fflush(stdout);
  gearman_client_free(client);
  free(payload);
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: gearbench worker HOST PORT\n"
          "       gearbench client HOST PORT SCENARIO N SIZE\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 4) usage();
  const char *host = argv[2];
  int port = atoi(argv[3]);
  if (strcmp(argv[1], "worker") == 0 && argc == 4) return run_worker(host, port);
  if (strcmp(argv[1], "client") == 0 && argc == 7) {
    long n = atol(argv[5]);
    long size = atol(argv[6]);
    if (n < 1 || size < 0) usage();
    return run_client(host, port, argv[4], n, (size_t)size);
  }
  usage();
  return 2;
}
