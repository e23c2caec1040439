// The memory scan and reporting shared by the demo cheats; see cheat.h.
#define _GNU_SOURCE
#include "cheat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

// Regions are read in chunks this big; consecutive chunks overlap so a struct across a boundary is seen whole.
#define SCAN_CHUNK (64u << 10)
#define MAX_REGIONS 4096

size_t writable_regions(const char *maps, struct memory_region *regions, size_t max) {
  size_t count = 0;
  for (const char *line = maps; *line && count < max;) {
    uint64_t start, end;
    char perms[5];
    if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s", &start, &end, perms) == 3 && perms[0] == 'r' && perms[1] == 'w')
      regions[count++] = (struct memory_region){start, end};
    const char *next = strchr(line, '\n');
    if (!next) break;
    line = next + 1;
  }
  return count;
}

char *read_maps(pid_t pid) {
  char path[64];
  if (pid)
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
  else
    snprintf(path, sizeof path, "/proc/self/maps");
  FILE *f = fopen(path, "re");
  if (!f) return NULL;
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  char buffer[4096];
  size_t n;
  while (out && (n = fread(buffer, 1, sizeof buffer, f)) > 0) fwrite(buffer, 1, n, out);
  bool ok = out && !ferror(f);
  fclose(f);
  if (out) fclose(out);
  if (!ok) {
    free(text);
    return NULL;
  }
  return text;
}

static bool player_at(const unsigned char *bytes, uint64_t address, struct player_view *player) {
  memcpy(player, bytes, sizeof *player);
  return player->magic == PLAYER_MAGIC && player->self == address;
}

bool find_player(const char *maps, read_memory_fn read, void *context, struct scan *scan) {
  static struct memory_region regions[MAX_REGIONS];
  unsigned char *chunk = malloc(SCAN_CHUNK);
  if (!chunk) return false;
  *scan = (struct scan){.regions = writable_regions(maps, regions, MAX_REGIONS)};
  bool found = false;
  for (size_t r = 0; r < scan->regions && !found; r++) {
    for (uint64_t address = regions[r].start; address < regions[r].end && !found;) {
      uint64_t left = regions[r].end - address;
      ssize_t n = read(context, address, chunk, left < SCAN_CHUNK ? left : SCAN_CHUNK);
      if (n < (ssize_t)sizeof(struct player_view)) break; // unreadable: go on with the next region
      scan->scanned += (uint64_t)n;
      size_t offset = 0;
      for (; offset + sizeof(struct player_view) <= (size_t)n; offset += 8) {
        if (player_at(chunk + offset, address + offset, &scan->player)) {
          scan->address = address + offset;
          found = true;
          break;
        }
      }
      // The next chunk starts at the first offset not checked yet; the region's last bytes are too short.
      address = (uint64_t)n == left ? regions[r].end : address + offset;
    }
  }
  free(chunk);
  return found;
}

ssize_t read_with_process_vm(void *context, uint64_t address, void *buffer, size_t length) {
  struct iovec local = {buffer, length}, remote = {(void *)(uintptr_t)address, length};
  return process_vm_readv(*(pid_t *)context, &local, 1, &remote, 1, 0);
}

ssize_t read_with_pread(void *context, uint64_t address, void *buffer, size_t length) {
  return pread(*(int *)context, buffer, length, (off_t)address);
}

bool parse_long(const char *text, long min, long max, long *value) {
  char *end;
  errno = 0;
  *value = strtol(text, &end, 10);
  return errno == 0 && end != text && *end == '\0' && *value >= min && *value <= max;
}

void print_json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

void fail(const char *cheat, long pid, const char *format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  printf("{\"cheat\":\"%s\",\"pid\":%ld,\"ok\":false,\"error\":", cheat, pid);
  print_json_string(message);
  printf("}\n");
  exit(1);
}
