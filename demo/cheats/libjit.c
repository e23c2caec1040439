// libjit.so: an in-process cheat that runs code from anonymous executable memory, as injected cheats and
// shellcode do. Loaded into the game (LD_PRELOAD here; inject would do too), its constructor starts a thread
// that finds the player in the game's own memory (the same scan as the external readers, with plain loads),
// maps an anonymous read-write page, writes x86-64 machine code into it, flips it to read-execute with
// mprotect, and calls it: the generated code sets the player's health to VALUE and returns the value.
//
//   LD_PRELOAD=out/demo/cheats/libjit.so [GPO_JIT_VALUE=VALUE] out/demo/game ...   (VALUE: 999 by default)
//
// Prints one JSON line to the game's stderr ("code" is the executable page, left mapped like a JIT's):
//   {"cheat":"jit-exec","pid":P,"address":"0x...","code":"0x...","before":H,"returned":VALUE,"after":VALUE,"ok":true}
// or {"cheat":"jit-exec","pid":P,"ok":false,"error":"..."} when the player is not found within 5 seconds or
// the page cannot be mapped.
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cheat.h"

#define FIND_ATTEMPTS 250
#define FIND_INTERVAL_NS (20 * 1000000L)

// find_player's reader for this process: the regions come from /proc/self/maps, so a plain copy.
static ssize_t read_own_memory(void *context, uint64_t address, void *buffer, size_t length) {
  (void)context;
  memcpy(buffer, (const void *)(uintptr_t)address, length);
  return (ssize_t)length;
}

static void report_failure(const char *what) {
  fprintf(stderr, "{\"cheat\":\"jit-exec\",\"pid\":%d,\"ok\":false,\"error\":\"%s: %s\"}\n", (int)getpid(), what,
          strerror(errno));
}

static void *cheat(void *arg) {
  int32_t value = (int32_t)(intptr_t)arg;
  // The game allocates its player after this library loads: look until it is there.
  struct scan scan = {0};
  bool found = false;
  for (int attempt = 0; attempt < FIND_ATTEMPTS && !found; attempt++) {
    char *maps = read_maps(0);
    found = maps && find_player(maps, read_own_memory, NULL, &scan);
    free(maps);
    if (!found) nanosleep(&(struct timespec){.tv_nsec = FIND_INTERVAL_NS}, NULL);
  }
  if (!found) {
    errno = ENOENT;
    report_failure("no player struct");
    return NULL;
  }

  // mov dword ptr [rdi], VALUE; mov eax, VALUE; ret
  unsigned char code[] = {0xC7, 0x07, 0, 0, 0, 0, 0xB8, 0, 0, 0, 0, 0xC3};
  memcpy(code + 2, &value, sizeof value);
  memcpy(code + 7, &value, sizeof value);
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  unsigned char *memory = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    report_failure("mmap");
    return NULL;
  }
  memcpy(memory, code, sizeof code);
  // Write, then execute: the page is never writable and executable at once (W^X), as JIT engines do it.
  if (mprotect(memory, page, PROT_READ | PROT_EXEC) != 0) {
    report_failure("mprotect");
    return NULL;
  }
  int32_t (*set_health)(volatile int32_t *) = (int32_t(*)(volatile int32_t *))(uintptr_t)memory;
  volatile int32_t *health = (volatile int32_t *)(uintptr_t)(scan.address + offsetof(struct player_view, health));
  int32_t before = *health, returned = set_health(health), after = *health;
  fprintf(stderr,
          "{\"cheat\":\"jit-exec\",\"pid\":%d,\"address\":\"0x%" PRIx64 "\",\"code\":\"%p\",\"before\":%" PRId32
          ",\"returned\":%" PRId32 ",\"after\":%" PRId32 ",\"ok\":%s}\n",
          (int)getpid(), scan.address, (void *)memory, before, returned, after,
          returned == value && after == value ? "true" : "false");
  return NULL;
}

__attribute__((constructor)) static void on_load(void) {
  const char *wanted = getenv("GPO_JIT_VALUE");
  long value = 999;
  if (wanted && !parse_long(wanted, INT32_MIN, INT32_MAX, &value)) value = 999;
  pthread_t thread;
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  int error = pthread_create(&thread, &attributes, cheat, (void *)(intptr_t)value);
  if (error != 0) {
    errno = error;
    report_failure("pthread_create");
  }
  pthread_attr_destroy(&attributes);
}
