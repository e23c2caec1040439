// watch-act ACT PID [ADDR]: one act toward PID for bench/watch, as a cheat would do it. Prints
// {"act":ACT,"pid":SELF,"ns":N,"ret":R} with N the CLOCK_MONOTONIC time taken right before the act.
//   vm-read ADDR   process_vm_readv of 8 bytes at ADDR (hex)
//   ptrace         PTRACE_ATTACH, wait for the stop, PTRACE_DETACH
//   proc-mem       open("/proc/PID/mem", O_RDONLY)
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long monotonic_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: watch-act vm-read|ptrace|proc-mem PID [ADDR]\n");
    return 2;
  }
  const char *act = argv[1];
  pid_t pid = (pid_t)atol(argv[2]);
  long long ns = monotonic_ns();
  long ret;
  if (strcmp(act, "vm-read") == 0 && argc > 3) {
    char buffer[8];
    struct iovec local = {buffer, sizeof buffer};
    struct iovec remote = {(void *)(uintptr_t)strtoull(argv[3], NULL, 16), sizeof buffer};
    ret = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  } else if (strcmp(act, "ptrace") == 0) {
    ret = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
    if (ret == 0) {
      waitpid(pid, NULL, __WALL);
      ptrace(PTRACE_DETACH, pid, NULL, NULL);
    }
  } else if (strcmp(act, "proc-mem") == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    ret = open(path, O_RDONLY);
  } else {
    fprintf(stderr, "watch-act: unknown act %s\n", act);
    return 2;
  }
  printf("{\"act\":\"%s\",\"pid\":%d,\"ns\":%lld,\"ret\":%ld}\n", act, getpid(), ns, ret);
  return 0;
}
