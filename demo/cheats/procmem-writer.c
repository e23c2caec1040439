// procmem-writer: an external writer through /proc/PID/mem. It opens the file read-write, finds the player
// with pread as procmem-reader does, then writes its health with pwrite and reads it back.
//
//   procmem-writer PID [VALUE]     (VALUE: the health to write, 999 by default)
//
// Prints one JSON line, and exits 0 when the value read back is VALUE (1 with "ok":false otherwise, 2 on bad
// arguments):
//   {"cheat":"procmem-writer","pid":P,"address":"0x...","before":H,"after":VALUE,"ok":true}
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cheat.h"

int main(int argc, char **argv) {
  long pid, value = 999;
  if (argc < 2 || argc > 3 || !parse_long(argv[1], 1, INT32_MAX, &pid) ||
      (argc == 3 && !parse_long(argv[2], INT32_MIN, INT32_MAX, &value))) {
    fprintf(stderr, "usage: procmem-writer PID [VALUE]\n");
    return 2;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/mem", pid);
  int mem = open(path, O_RDWR | O_CLOEXEC);
  if (mem < 0) fail("procmem-writer", pid, "cannot open %s: %s", path, strerror(errno));
  char *maps = read_maps((pid_t)pid);
  if (!maps) fail("procmem-writer", pid, "cannot read /proc/%ld/maps: %s", pid, strerror(errno));
  struct scan scan;
  if (!find_player(maps, read_with_pread, &mem, &scan))
    fail("procmem-writer", pid, "no player struct in %zu writable regions", scan.regions);
  free(maps);

  off_t health_address = (off_t)(scan.address + offsetof(struct player_view, health));
  int32_t health = (int32_t)value, after;
  if (pwrite(mem, &health, sizeof health, health_address) != sizeof health)
    fail("procmem-writer", pid, "pwrite at 0x%jx: %s", (intmax_t)health_address, strerror(errno));
  if (pread(mem, &after, sizeof after, health_address) != sizeof after)
    fail("procmem-writer", pid, "pread at 0x%jx: %s", (intmax_t)health_address, strerror(errno));
  close(mem);

  printf("{\"cheat\":\"procmem-writer\",\"pid\":%ld,\"address\":\"0x%" PRIx64 "\",\"before\":%" PRId32
         ",\"after\":%" PRId32 ",\"ok\":%s}\n",
         pid, scan.address, scan.player.health, after, after == health ? "true" : "false");
  return after == health ? 0 : 1;
}
