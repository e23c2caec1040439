// ptrace-trainer: a classic trainer. It attaches to the game with PTRACE_ATTACH, which stops the game's main
// thread (the one that updates the player) while the other threads run on; finds the player by reading its
// memory a word at a time with PTRACE_PEEKDATA; sets health and ammo with PTRACE_POKEDATA; reads them back;
// and detaches, so the game carries on with the new values.
//
//   ptrace-trainer PID [HEALTH [AMMO]]     (999 and 999 by default)
//
// Prints one JSON line, and exits 0 when both values read back as written (1 with "ok":false otherwise, 2 on
// bad arguments). frame is the game's frame counter while it was stopped:
//   {"cheat":"ptrace-trainer","pid":P,"address":"0x...","frame":F,"before":{"health":H,"ammo":A},
//    "after":{"health":HEALTH,"ammo":AMMO},"ok":true}
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "cheat.h"

static pid_t attached;

// Runs at exit, failures included: a tracee left stopped would freeze the game.
static void detach(void) {
  if (attached) ptrace(PTRACE_DETACH, attached, NULL, NULL);
}

// find_player's reader: whole words through PTRACE_PEEKDATA (the scan only asks for multiples of 8 bytes).
static ssize_t read_with_peek(void *context, uint64_t address, void *buffer, size_t length) {
  pid_t pid = *(pid_t *)context;
  size_t done = 0;
  for (; done + sizeof(long) <= length; done += sizeof(long)) {
    errno = 0; // PEEKDATA returns the word, so -1 is only an error when errno says so
    long word = ptrace(PTRACE_PEEKDATA, pid, (void *)(uintptr_t)(address + done), NULL);
    if (errno != 0) break;
    memcpy((char *)buffer + done, &word, sizeof word);
  }
  return done ? (ssize_t)done : -1;
}

// ptrace moves whole words: a 4-byte field is read, patched and written back as its word.
static bool peek_int32(pid_t pid, uint64_t address, int32_t *value) {
  uint64_t word_address = address & ~(uint64_t)(sizeof(long) - 1);
  long word;
  if (read_with_peek(&pid, word_address, &word, sizeof word) != sizeof word) return false;
  memcpy(value, (char *)&word + (address - word_address), sizeof *value);
  return true;
}

static bool poke_int32(pid_t pid, uint64_t address, int32_t value) {
  uint64_t word_address = address & ~(uint64_t)(sizeof(long) - 1);
  long word;
  if (read_with_peek(&pid, word_address, &word, sizeof word) != sizeof word) return false;
  memcpy((char *)&word + (address - word_address), &value, sizeof value);
  return ptrace(PTRACE_POKEDATA, pid, (void *)(uintptr_t)word_address, (void *)word) == 0;
}

int main(int argc, char **argv) {
  long pid, health = 999, ammo = 999;
  if (argc < 2 || argc > 4 || !parse_long(argv[1], 1, INT32_MAX, &pid) ||
      (argc > 2 && !parse_long(argv[2], INT32_MIN, INT32_MAX, &health)) ||
      (argc > 3 && !parse_long(argv[3], INT32_MIN, INT32_MAX, &ammo))) {
    fprintf(stderr, "usage: ptrace-trainer PID [HEALTH [AMMO]]\n");
    return 2;
  }
  pid_t target = (pid_t)pid;
  char *maps = read_maps(target);
  if (!maps) fail("ptrace-trainer", pid, "cannot read /proc/%ld/maps: %s", pid, strerror(errno));

  if (ptrace(PTRACE_ATTACH, target, NULL, NULL) != 0)
    fail("ptrace-trainer", pid, "PTRACE_ATTACH: %s", strerror(errno));
  attached = target;
  atexit(detach);
  // Wait for the stop the attach's SIGSTOP causes; a signal that arrives first is passed on to the game.
  for (;;) {
    int status;
    if (waitpid(target, &status, __WALL) < 0) fail("ptrace-trainer", pid, "waitpid: %s", strerror(errno));
    if (!WIFSTOPPED(status)) {
      attached = 0;
      fail("ptrace-trainer", pid, "the game ended while attaching");
    }
    if (WSTOPSIG(status) == SIGSTOP) break;
    ptrace(PTRACE_CONT, target, NULL, (void *)(long)WSTOPSIG(status));
  }

  struct scan scan;
  if (!find_player(maps, read_with_peek, &target, &scan))
    fail("ptrace-trainer", pid, "no player struct in %zu writable regions", scan.regions);
  free(maps);
  uint64_t health_address = scan.address + offsetof(struct player_view, health);
  uint64_t ammo_address = scan.address + offsetof(struct player_view, ammo);
  int32_t health_after, ammo_after;
  if (!poke_int32(target, health_address, (int32_t)health) || !poke_int32(target, ammo_address, (int32_t)ammo))
    fail("ptrace-trainer", pid, "PTRACE_POKEDATA: %s", strerror(errno));
  if (!peek_int32(target, health_address, &health_after) || !peek_int32(target, ammo_address, &ammo_after))
    fail("ptrace-trainer", pid, "PTRACE_PEEKDATA: %s", strerror(errno));
  if (ptrace(PTRACE_DETACH, target, NULL, NULL) != 0) fail("ptrace-trainer", pid, "PTRACE_DETACH: %s", strerror(errno));
  attached = 0;

  bool ok = health_after == (int32_t)health && ammo_after == (int32_t)ammo;
  printf("{\"cheat\":\"ptrace-trainer\",\"pid\":%ld,\"address\":\"0x%" PRIx64 "\",\"frame\":%" PRIu32
         ",\"before\":{\"health\":%" PRId32 ",\"ammo\":%" PRId32 "},\"after\":{\"health\":%" PRId32 ",\"ammo\":%" PRId32
         "},\"ok\":%s}\n",
         pid, scan.address, scan.player.frame, scan.player.health, scan.player.ammo, health_after, ammo_after,
         ok ? "true" : "false");
  return ok ? 0 : 1;
}
