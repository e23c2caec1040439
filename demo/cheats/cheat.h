// What the demo cheats share: the game's player layout (the "offsets" a real cheat ships), finding the player
// in a process's memory through any way of reading it, and the one-line JSON report every cheat prints.
#ifndef GPO_DEMO_CHEAT_H
#define GPO_DEMO_CHEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PLAYER_MAGIC 0x47504F21u // "GPO!" in hex

// Mirrors struct player in demo/game/game.c.
struct player_view {
  uint32_t magic;
  int32_t health;
  int32_t ammo;
  uint32_t frame;
  float x, y;
  uint64_t self; // the struct's own address: a copy of the bytes elsewhere does not match its address
};
_Static_assert(sizeof(struct player_view) == 32, "the game's player struct is 32 bytes");

struct memory_region {
  uint64_t start, end;
};

// Reads up to length bytes of the target at address; returns the count read, or -1.
typedef ssize_t (*read_memory_fn)(void *context, uint64_t address, void *buffer, size_t length);

struct scan {
  uint64_t address; // of the player, when found
  struct player_view player;
  size_t regions;   // writable regions in the maps
  uint64_t scanned; // bytes read before the player was found
};

// Parses the text of /proc/PID/maps into its readable, writable regions (where the game keeps its state), in
// address order. Returns how many there are, at most max.
size_t writable_regions(const char *maps, struct memory_region *regions, size_t max);

// Reads /proc/PID/maps (pid 0: this process) into a malloc'd string; NULL on error (errno set).
char *read_maps(pid_t pid);

// Looks through the regions of maps for the player struct: the magic, 8-byte aligned, followed at offset 24
// by its own address. True when found, with scan filled in.
bool find_player(const char *maps, read_memory_fn read, void *context, struct scan *scan);

// Readers for find_player. context points at the pid (pid_t) for process_vm_readv, at an open
// /proc/PID/mem descriptor (int) for pread.
ssize_t read_with_process_vm(void *context, uint64_t address, void *buffer, size_t length);
ssize_t read_with_pread(void *context, uint64_t address, void *buffer, size_t length);

// Parses a pid (or a value) argument; false when it is not a whole number in range.
bool parse_long(const char *text, long min, long max, long *value);

// Prints s as a JSON string, quotes included.
void print_json_string(const char *s);

// Prints {"cheat":NAME,"pid":PID,"ok":false,"error":"..."} (the message formatted like printf) and exits 1.
__attribute__((noreturn, format(printf, 3, 4))) void fail(const char *cheat, long pid, const char *format, ...);

#endif
