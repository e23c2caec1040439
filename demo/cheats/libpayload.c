// libpayload.so: the library inject loads into the game. Its constructor runs in the game's main thread
// (inside the injected dlopen call) and leaves proof of that: the file /tmp/gpo-demo-injected-<game pid>
// holding one JSON line, which it also writes to the game's stderr:
//   {"cheat":"inject-payload","pid":P,"tid":T,"ok":true}
// Only open/write/close are used: the constructor runs at whatever point the main thread was stopped, so it
// takes no locks (stdio, malloc) the game might have been holding.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((constructor)) static void on_load(void) {
  char path[64], line[128];
  snprintf(path, sizeof path, "/tmp/gpo-demo-injected-%d", (int)getpid());
  int length = snprintf(line, sizeof line, "{\"cheat\":\"inject-payload\",\"pid\":%d,\"tid\":%d,\"ok\":true}\n",
                        (int)getpid(), (int)gettid());
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    if (write(fd, line, (size_t)length) != length) unlink(path);
    close(fd);
  }
  write(STDERR_FILENO, line, (size_t)length);
}
