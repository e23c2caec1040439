// vm-writer: an external memory writer (a "god mode" cheat). It finds the player the way vm-reader does, with
// process_vm_readv, then overwrites its health with process_vm_writev and reads it back.
//
//   vm-writer PID [VALUE]     (VALUE: the health to write, 999 by default)
//
// Prints one JSON line, and exits 0 when the value read back is VALUE (1 with "ok":false otherwise, 2 on bad
// arguments):
//   {"cheat":"vm-writer","pid":P,"address":"0x...","before":H,"after":VALUE,"ok":true}
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "cheat.h"

int main(int argc, char **argv) {
  long pid, value = 999;
  if (argc < 2 || argc > 3 || !parse_long(argv[1], 1, INT32_MAX, &pid) ||
      (argc == 3 && !parse_long(argv[2], INT32_MIN, INT32_MAX, &value))) {
    fprintf(stderr, "usage: vm-writer PID [VALUE]\n");
    return 2;
  }
  char *maps = read_maps((pid_t)pid);
  if (!maps) fail("vm-writer", pid, "cannot read /proc/%ld/maps: %s", pid, strerror(errno));
  pid_t target = (pid_t)pid;
  struct scan scan;
  if (!find_player(maps, read_with_process_vm, &target, &scan))
    fail("vm-writer", pid, "no player struct in %zu writable regions", scan.regions);
  free(maps);

  uint64_t health_address = scan.address + offsetof(struct player_view, health);
  int32_t health = (int32_t)value, after;
  struct iovec local = {&health, sizeof health}, remote = {(void *)(uintptr_t)health_address, sizeof health};
  if (process_vm_writev(target, &local, 1, &remote, 1, 0) != sizeof health)
    fail("vm-writer", pid, "process_vm_writev at 0x%" PRIx64 ": %s", health_address, strerror(errno));
  if (read_with_process_vm(&target, health_address, &after, sizeof after) != sizeof after)
    fail("vm-writer", pid, "process_vm_readv at 0x%" PRIx64 ": %s", health_address, strerror(errno));

  printf("{\"cheat\":\"vm-writer\",\"pid\":%ld,\"address\":\"0x%" PRIx64 "\",\"before\":%" PRId32 ",\"after\":%" PRId32
         ",\"ok\":%s}\n",
         pid, scan.address, scan.player.health, after, after == health ? "true" : "false");
  return after == health ? 0 : 1;
}
