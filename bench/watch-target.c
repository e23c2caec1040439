// watch-target [CALLS_PER_S]: the target of bench/watch. A game-like idle loop (a few syscalls every 10 ms)
// and, with CALLS_PER_S > 0, a thread calling getppid at about that rate. Prints {"pid":P,"addr":"0x..."}
// (a buffer other processes may read), then takes commands on stdin, one a line:
//   dlopen PATH   prints {"act":"dlopen","ns":N} with N the CLOCK_MONOTONIC time taken right before the
//                 call, then loads PATH (a library it never had)
//   burst N       stops the idle loop, prints {"act":"burst","ns":N} as dlopen does, calls getpid N times,
//                 then makes no syscall until its next command (a target quiet after a rate anomaly)
//   quit          prints {"storm_calls":C,"storm_seconds":S} and exits 0
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile char secret[64] = "the player struct";
static atomic_bool stopping;
static atomic_bool idle_stopped;
static atomic_long storm_calls;

static int64_t monotonic_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void *idle_loop(void *arg) {
  (void)arg;
  struct timespec tick = {0, 10 * 1000 * 1000};
  while (!atomic_load(&stopping) && !atomic_load(&idle_stopped)) {
    syscall(SYS_getpid);
    syscall(SYS_gettid);
    nanosleep(&tick, NULL);
  }
  return NULL;
}

// Calls getppid in slices of 1000, sleeping whenever it is ahead of the wanted rate.
static void *storm(void *arg) {
  long rate = (long)(intptr_t)arg;
  int64_t start = monotonic_ns();
  long calls = 0;
  while (!atomic_load(&stopping)) {
    for (int i = 0; i < 1000; i++) syscall(SYS_getppid);
    calls += 1000;
    int64_t due = start + (int64_t)((double)calls * 1e9 / (double)rate);
    int64_t now = monotonic_ns();
    if (due > now) {
      struct timespec wait = {(due - now) / 1000000000, (due - now) % 1000000000};
      nanosleep(&wait, NULL);
    }
  }
  atomic_store(&storm_calls, calls);
  return NULL;
}

int main(int argc, char **argv) {
  long rate = argc > 1 ? atol(argv[1]) : 0;
  pthread_t idle, stormer;
  pthread_create(&idle, NULL, idle_loop, NULL);
  int64_t storm_start = monotonic_ns();
  if (rate > 0) pthread_create(&stormer, NULL, storm, (void *)(intptr_t)rate);
  printf("{\"pid\":%d,\"addr\":\"%p\"}\n", getpid(), (void *)secret);
  fflush(stdout);
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    if (strncmp(line, "dlopen ", 7) == 0) {
      printf("{\"act\":\"dlopen\",\"ns\":%lld}\n", (long long)monotonic_ns());
      fflush(stdout);
      if (!dlopen(line + 7, RTLD_NOW)) fprintf(stderr, "watch-target: %s\n", dlerror());
    } else if (strncmp(line, "burst ", 6) == 0) {
      long calls = atol(line + 6);
      if (!atomic_exchange(&idle_stopped, true)) pthread_join(idle, NULL);
      printf("{\"act\":\"burst\",\"ns\":%lld}\n", (long long)monotonic_ns());
      fflush(stdout);
      for (long i = 0; i < calls; i++) syscall(SYS_getpid);
    } else if (strcmp(line, "quit") == 0)
      break;
  }
  atomic_store(&stopping, true);
  if (!atomic_exchange(&idle_stopped, true)) pthread_join(idle, NULL);
  if (rate > 0) pthread_join(stormer, NULL);
  printf("{\"storm_calls\":%ld,\"storm_seconds\":%.3f}\n", atomic_load(&storm_calls), (double)(monotonic_ns() - storm_start) / 1e9);
  return 0;
}
