// CLOCK_MONOTONIC in nanoseconds: the clock of bpf_ktime_get_ns, which the records' timestamps count on.
#pragma once
#include <stdint.h>
#include <time.h>

inline uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}
