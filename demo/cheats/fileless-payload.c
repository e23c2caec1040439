// fileless-payload: the program libfileless.so runs from a memfd. It is never executed from disk: the build
// embeds it in libfileless.so. It proves where it ran from with one JSON line on stderr (shared with the
// game), where exe is its /proc/self/exe link, "/memfd:gpo-payload (deleted)" when run from the memfd:
//   {"cheat":"memfd-exec-payload","pid":P,"ppid":GAME,"exe":"/memfd:gpo-payload (deleted)","ok":true}
// and exits 0 (1 when it was not run from a memfd).
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  char exe[256];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  bool from_memfd = strncmp(exe, "/memfd:", 7) == 0;
  fprintf(stderr, "{\"cheat\":\"memfd-exec-payload\",\"pid\":%d,\"ppid\":%d,\"exe\":\"%s\",\"ok\":%s}\n", (int)getpid(),
          (int)getppid(), exe, from_memfd ? "true" : "false");
  return from_memfd ? 0 : 1;
}
