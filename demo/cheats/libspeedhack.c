// libspeedhack.so: a speedhack, loaded into the game with LD_PRELOAD. It interposes libc's clock_gettime,
// nanosleep and clock_nanosleep so that CLOCK_MONOTONIC, the clock game loops time their frames with, runs
// FACTOR times faster than real time, and sleeps last 1/FACTOR as long: the game plays its frames, and
// everything it times, FACTOR times faster. The game notices only by comparing its clock with the raw
// clock_gettime syscall (its status's clock_ratio).
//
//   LD_PRELOAD=out/demo/cheats/libspeedhack.so [GPO_SPEEDHACK=FACTOR] out/demo/game ...   (FACTOR: 2 by default)
//
// When the game exits it prints one JSON line to the game's stderr, with how often each hook ran:
//   {"cheat":"speedhack","pid":P,"factor":2.00,"calls":{"clock_gettime":N,"nanosleep":M,"clock_nanosleep":K},"ok":true}
// ok: the game's clock was read and it slept through the hooks.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_SEC 1000000000LL

static double factor = 2.0;
static int64_t base_ns; // real CLOCK_MONOTONIC at load: fake time = base + (real - base) * factor
static int (*real_clock_gettime)(clockid_t, struct timespec *);
static int (*real_nanosleep)(const struct timespec *, struct timespec *);
static int (*real_clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);
static atomic_ulong clock_gettime_calls, nanosleep_calls, clock_nanosleep_calls;

static int64_t to_ns(const struct timespec *t) {
  return t->tv_sec * NS_PER_SEC + t->tv_nsec;
}

static struct timespec from_ns(int64_t ns) {
  return (struct timespec){.tv_sec = ns / NS_PER_SEC, .tv_nsec = ns % NS_PER_SEC};
}

__attribute__((constructor)) static void on_load(void) {
  const char *wanted = getenv("GPO_SPEEDHACK");
  if (wanted && atof(wanted) > 0) factor = atof(wanted);
  real_clock_gettime = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
  real_nanosleep = (int (*)(const struct timespec *, struct timespec *))dlsym(RTLD_NEXT, "nanosleep");
  real_clock_nanosleep =
      (int (*)(clockid_t, int, const struct timespec *, struct timespec *))dlsym(RTLD_NEXT, "clock_nanosleep");
  struct timespec now;
  real_clock_gettime(CLOCK_MONOTONIC, &now);
  base_ns = to_ns(&now);
}

__attribute__((destructor)) static void on_unload(void) {
  unsigned long reads = atomic_load(&clock_gettime_calls),
                sleeps = atomic_load(&nanosleep_calls) + atomic_load(&clock_nanosleep_calls);
  fprintf(stderr,
          "{\"cheat\":\"speedhack\",\"pid\":%d,\"factor\":%.2f,\"calls\":{\"clock_gettime\":%lu,\"nanosleep\":%lu,"
          "\"clock_nanosleep\":%lu},\"ok\":%s}\n",
          (int)getpid(), factor, reads, atomic_load(&nanosleep_calls), atomic_load(&clock_nanosleep_calls),
          reads > 0 && sleeps > 0 ? "true" : "false");
}

int clock_gettime(clockid_t clock, struct timespec *time) {
  int result = real_clock_gettime(clock, time);
  if (result == 0 && clock == CLOCK_MONOTONIC) {
    *time = from_ns(base_ns + (int64_t)((double)(to_ns(time) - base_ns) * factor));
    atomic_fetch_add(&clock_gettime_calls, 1);
  }
  return result;
}

int nanosleep(const struct timespec *request, struct timespec *remaining) {
  struct timespec shorter = from_ns((int64_t)((double)to_ns(request) / factor));
  atomic_fetch_add(&nanosleep_calls, 1);
  int result = real_nanosleep(&shorter, remaining);
  if (result != 0 && remaining) *remaining = from_ns((int64_t)((double)to_ns(remaining) * factor));
  return result;
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *request, struct timespec *remaining) {
  struct timespec real_request;
  if (!(flags & TIMER_ABSTIME))
    real_request = from_ns((int64_t)((double)to_ns(request) / factor));
  else if (clock == CLOCK_MONOTONIC) // a deadline on the fake clock: when the real clock gets there
    real_request = from_ns(base_ns + (int64_t)((double)(to_ns(request) - base_ns) / factor));
  else
    real_request = *request;
  atomic_fetch_add(&clock_nanosleep_calls, 1);
  int result = real_clock_nanosleep(clock, flags, &real_request, remaining);
  if (result != 0 && remaining && !(flags & TIMER_ABSTIME))
    *remaining = from_ns((int64_t)((double)to_ns(remaining) * factor));
  return result;
}
