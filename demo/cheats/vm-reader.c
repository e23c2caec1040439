// vm-reader: an external memory reader, the first thing most cheats are. It lists the game's writable
// regions from /proc/PID/maps and scans them with process_vm_readv for the player struct, without stopping
// or otherwise touching the game.
//
//   vm-reader PID
//
// Prints one JSON line, and exits 0 when the player was found (1 with "ok":false and an "error" otherwise,
// 2 on bad arguments):
//   {"cheat":"vm-reader","pid":P,"address":"0x...","health":H,"ammo":A,"frame":F,"regions":R,"scanned":BYTES,"ok":true}
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cheat.h"

int main(int argc, char **argv) {
  long pid;
  if (argc != 2 || !parse_long(argv[1], 1, INT32_MAX, &pid)) {
    fprintf(stderr, "usage: vm-reader PID\n");
    return 2;
  }
  char *maps = read_maps((pid_t)pid);
  if (!maps) fail("vm-reader", pid, "cannot read /proc/%ld/maps: %s", pid, strerror(errno));
  pid_t target = (pid_t)pid;
  struct scan scan;
  if (!find_player(maps, read_with_process_vm, &target, &scan))
    fail("vm-reader", pid, "no player struct in %zu writable regions", scan.regions);
  free(maps);

  printf("{\"cheat\":\"vm-reader\",\"pid\":%ld,\"address\":\"0x%" PRIx64 "\",\"health\":%" PRId32 ",\"ammo\":%" PRId32
         ",\"frame\":%" PRIu32 ",\"regions\":%zu,\"scanned\":%" PRIu64 ",\"ok\":true}\n",
         pid, scan.address, scan.player.health, scan.player.ammo, scan.player.frame, scan.regions, scan.scanned);
  return 0;
}
