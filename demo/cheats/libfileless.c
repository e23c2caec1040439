// libfileless.so: a fileless exec from inside the game. Loaded into the game (LD_PRELOAD here; inject would
// do too), its constructor starts a thread that, once the game has run for a moment, copies an embedded
// program (fileless-payload, built into this library's read-only data) into an anonymous memfd_create file,
// forks, and runs it in the child with execveat(fd, "", ..., AT_EMPTY_PATH): a new program in the game's
// process tree that no file on disk holds. LD_PRELOAD is dropped from the child's environment so the payload
// does not load this library again.
//
//   LD_PRELOAD=out/demo/cheats/libfileless.so out/demo/game ...
//
// Prints one JSON line to the game's stderr once the child has exited (the payload prints its own line first):
//   {"cheat":"memfd-exec","pid":GAME,"child":C,"memfd":"gpo-payload","bytes":N,"status":0,"ok":true}
// or {"cheat":"memfd-exec","pid":GAME,"ok":false,"error":"..."}.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MEMFD_NAME "gpo-payload"
#define DELAY_NS (300 * 1000000L)

// The payload's bytes; the build passes its path as FILELESS_PAYLOAD.
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl fileless_payload\n"
        ".hidden fileless_payload\n"
        "fileless_payload:\n"
        ".incbin \"" FILELESS_PAYLOAD "\"\n"
        ".globl fileless_payload_end\n"
        ".hidden fileless_payload_end\n"
        "fileless_payload_end:\n"
        ".previous\n");
extern const unsigned char fileless_payload[] __attribute__((visibility("hidden")));
extern const unsigned char fileless_payload_end[] __attribute__((visibility("hidden")));

extern char **environ;

static void report_failure(const char *what, int error) {
  fprintf(stderr, "{\"cheat\":\"memfd-exec\",\"pid\":%d,\"ok\":false,\"error\":\"%s: %s\"}\n", (int)getpid(), what,
          strerror(error));
}

static void *cheat(void *arg) {
  (void)arg;
  nanosleep(&(struct timespec){.tv_nsec = DELAY_NS}, NULL);

  size_t size = (size_t)(fileless_payload_end - fileless_payload);
  // Close-on-exec: the payload is an ELF file, which the kernel has loaded before the descriptor closes.
  int fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC);
  if (fd < 0) {
    report_failure("memfd_create", errno);
    return NULL;
  }
  for (size_t done = 0; done < size;) {
    ssize_t n = write(fd, fileless_payload + done, size - done);
    if (n <= 0) {
      report_failure("write", n < 0 ? errno : EIO);
      close(fd);
      return NULL;
    }
    done += (size_t)n;
  }

  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  size_t count = 0;
  while (environ[count]) count++;
  char **environment = calloc(count + 1, sizeof *environment), *argv[] = {MEMFD_NAME, NULL};
  if (!environment) {
    report_failure("calloc", errno);
    close(fd);
    return NULL;
  }
  for (size_t i = 0, kept = 0; i < count; i++)
    if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0) environment[kept++] = environ[i];

  pid_t child = fork();
  if (child == 0) {
    syscall(SYS_execveat, fd, "", argv, environment, AT_EMPTY_PATH);
    _exit(127);
  }
  int error = errno;
  free(environment);
  close(fd);
  if (child < 0) {
    report_failure("fork", error);
    return NULL;
  }
  int status;
  if (waitpid(child, &status, 0) < 0) {
    report_failure("waitpid", errno);
    return NULL;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  fprintf(stderr,
          "{\"cheat\":\"memfd-exec\",\"pid\":%d,\"child\":%d,\"memfd\":\"" MEMFD_NAME "\",\"bytes\":%zu,\"status\":%d,"
          "\"ok\":%s}\n",
          (int)getpid(), (int)child, size, code, code == 0 ? "true" : "false");
  return NULL;
}

__attribute__((constructor)) static void on_load(void) {
  pthread_t thread;
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  int error = pthread_create(&thread, &attributes, cheat, NULL);
  if (error != 0) report_failure("pthread_create", error);
  pthread_attr_destroy(&attributes);
}
