// procmem-reader: an external reader through /proc/PID/mem, the file view of a process's memory (what
// debuggers and many cheats use where process_vm_readv is watched). It opens the file read-only and scans
// the writable regions listed in /proc/PID/maps with pread, at file offsets equal to addresses.
//
//   procmem-reader PID
//
// Prints one JSON line, and exits 0 when the player was found (1 with "ok":false and an "error" otherwise,
// 2 on bad arguments):
//   {"cheat":"procmem-reader","pid":P,"address":"0x...","health":H,"ammo":A,"frame":F,"regions":R,"scanned":BYTES,"ok":true}
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cheat.h"

int main(int argc, char **argv) {
  long pid;
  if (argc != 2 || !parse_long(argv[1], 1, INT32_MAX, &pid)) {
    fprintf(stderr, "usage: procmem-reader PID\n");
    return 2;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/mem", pid);
  int mem = open(path, O_RDONLY | O_CLOEXEC);
  if (mem < 0) fail("procmem-reader", pid, "cannot open %s: %s", path, strerror(errno));
  char *maps = read_maps((pid_t)pid);
  if (!maps) fail("procmem-reader", pid, "cannot read /proc/%ld/maps: %s", pid, strerror(errno));
  struct scan scan;
  if (!find_player(maps, read_with_pread, &mem, &scan))
    fail("procmem-reader", pid, "no player struct in %zu writable regions", scan.regions);
  free(maps);
  close(mem);

  printf("{\"cheat\":\"procmem-reader\",\"pid\":%ld,\"address\":\"0x%" PRIx64 "\",\"health\":%" PRId32
         ",\"ammo\":%" PRId32 ",\"frame\":%" PRIu32 ",\"regions\":%zu,\"scanned\":%" PRIu64 ",\"ok\":true}\n",
         pid, scan.address, scan.player.health, scan.player.ammo, scan.player.frame, scan.regions, scan.scanned);
  return 0;
}
