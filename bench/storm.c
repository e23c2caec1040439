// A getppid syscall storm, the worst case for a syscall tracer.
//
//   storm [--wait-stdin] CALLS [THREADS]
//
// Calls getppid exactly CALLS times through syscall(2) (no libc caching), split over THREADS threads
// (default 1; the first CALLS % THREADS threads make one call more). It times only the calling loops with
// CLOCK_MONOTONIC, from the moment all threads are released together until the last one finishes, and then
// prints one line on stdout:
//
//   {"calls":N,"threads":T,"ns":ELAPSED_NS,"ns_per_call":X}
//
// With --wait-stdin it first reads one byte from stdin (or EOF) before starting, so a tracer can be attached
// to the already-running process; everything before that read is setup that a tracer may or may not see.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct storm_thread {
  pthread_t thread;
  long calls;
  int64_t start_ns;
  int64_t end_ns;
};

static pthread_barrier_t start_line;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *run_storm(void *arg) {
  struct storm_thread *t = arg;
  pthread_barrier_wait(&start_line);
  t->start_ns = now_ns();
  for (long i = 0; i < t->calls; i++) syscall(SYS_getppid);
  t->end_ns = now_ns();
  return NULL;
}

static long parse_positive(const char *text, const char *what) {
  char *end;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || *text == '\0' || *end != '\0' || value < 1) {
    fprintf(stderr, "storm: %s must be a number >= 1, got '%s'\n", what, text);
    exit(2);
  }
  return value;
}

int main(int argc, char **argv) {
  int wait_stdin = argc > 1 && strcmp(argv[1], "--wait-stdin") == 0;
  int first = 1 + wait_stdin;
  if (argc - first < 1 || argc - first > 2) {
    fprintf(stderr, "usage: storm [--wait-stdin] CALLS [THREADS]\n");
    return 2;
  }
  long calls = parse_positive(argv[first], "CALLS");
  // The benchmark pins the storm to one CPU and tracers to the other (STORM_CPU=N).
  const char *cpu = getenv("STORM_CPU");
  if (cpu != NULL) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(atoi(cpu), &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) perror("storm: sched_setaffinity");
  }
  long thread_count = argc - first == 2 ? parse_positive(argv[first + 1], "THREADS") : 1;

  struct storm_thread *threads = calloc((size_t)thread_count, sizeof *threads);
  if (threads == NULL) return 2;
  // Threads are created before the wait, so a tracer attached while we wait sees only the storm afterwards.
  pthread_barrier_init(&start_line, NULL, (unsigned)thread_count + 1);
  for (long i = 0; i < thread_count; i++) {
    threads[i].calls = calls / thread_count + (i < calls % thread_count);
    int err = pthread_create(&threads[i].thread, NULL, run_storm, &threads[i]);
    if (err != 0) {
      fprintf(stderr, "storm: pthread_create: %s\n", strerror(err));
      return 2;
    }
  }
  if (wait_stdin) {
    char byte;
    while (read(STDIN_FILENO, &byte, 1) < 0 && errno == EINTR) {
    }
  }
  pthread_barrier_wait(&start_line);
  int64_t start = INT64_MAX, end = 0;
  for (long i = 0; i < thread_count; i++) {
    pthread_join(threads[i].thread, NULL);
    if (threads[i].start_ns < start) start = threads[i].start_ns;
    if (threads[i].end_ns > end) end = threads[i].end_ns;
  }
  int64_t elapsed = end - start;
  printf("{\"calls\":%ld,\"threads\":%ld,\"ns\":%lld,\"ns_per_call\":%.2f}\n", calls, thread_count,
         (long long)elapsed, (double)elapsed / (double)calls);
  free(threads);
  return 0;
}
