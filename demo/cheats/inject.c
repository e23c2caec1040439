// inject: shared-library injection into a running game through ptrace: the game's main thread is made to
// call dlopen(LIBPATH), so the library's constructor runs inside the game.
//
//   inject PID LIBPATH
//
// How: find libc in /proc/PID/maps and dlopen's offset in libc's ELF dynamic symbols (Debian's glibc has
// dlopen@GLIBC_2.2.5 and dlopen@@GLIBC_2.34 at one address: either gives it); PTRACE_SEIZE and
// PTRACE_INTERRUPT the main thread; save its general registers (PTRACE_GETREGS); write the library path on
// its stack below the red zone and a return address of 0 under it, leaving rsp % 16 == 8 as at any function
// entry; point rip at dlopen with rdi = path and rsi = RTLD_NOW, and set orig_rax to -1 so the kernel does not
// restart the system call the thread was stopped in; continue; dlopen returns to address 0, and the SIGSEGV
// that raises stops the thread again; read dlopen's result from rax, restore the saved registers (the
// interrupted system call then restarts as if nothing happened) and detach. Only the general registers are
// touched: gdb's inferior calls, which also write the extended registers, crash the game on this kernel.
//
// Prints one JSON line, and exits 0 when dlopen returned a handle and the library is mapped in the game (1
// with "ok":false otherwise, 2 on bad arguments):
//   {"cheat":"inject","pid":P,"library":"/abs/lib.so","libc":"/usr/lib/.../libc.so.6","dlopen":"0x...",
//    "handle":"0x...","mapped":true,"ok":true}
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cheat.h"

#define RED_ZONE 128

// The libc mapped in the target: the start of its mapping at file offset 0, and its path.
static bool find_libc(const char *maps, uint64_t *start, char *path, size_t size) {
  for (const char *line = maps; *line;) {
    const char *end = strchrnul(line, '\n'), *file = memchr(line, '/', (size_t)(end - line));
    uint64_t from, offset;
    if (file && sscanf(line, "%" SCNx64 "-%*x %*s %" SCNx64, &from, &offset) == 2 && offset == 0) {
      const char *base = memrchr(file, '/', (size_t)(end - file)) + 1;
      if (strncmp(base, "libc.so", 7) == 0 && (size_t)(end - file) < size) {
        memcpy(path, file, (size_t)(end - file));
        path[end - file] = '\0';
        *start = from;
        return true;
      }
    }
    if (!*end) break;
    line = end + 1;
  }
  return false;
}

// dlopen's address relative to libc's load base (its first PT_LOAD's page), from the dynamic symbol table.
static bool dlopen_offset(const char *libc, uint64_t *offset) {
  int fd = open(libc, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return false;
  const unsigned char *file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (file == MAP_FAILED) return false;
  const Elf64_Ehdr *elf = (const Elf64_Ehdr *)file;
  bool found = false;
  if ((size_t)st.st_size >= sizeof *elf && memcmp(elf->e_ident, ELFMAG, SELFMAG) == 0 &&
      elf->e_ident[EI_CLASS] == ELFCLASS64) {
    const Elf64_Phdr *segments = (const Elf64_Phdr *)(file + elf->e_phoff);
    uint64_t first_load = UINT64_MAX;
    for (int i = 0; i < elf->e_phnum; i++)
      if (segments[i].p_type == PT_LOAD && segments[i].p_vaddr < first_load) first_load = segments[i].p_vaddr;
    first_load &= ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1);
    const Elf64_Shdr *sections = (const Elf64_Shdr *)(file + elf->e_shoff);
    for (int i = 0; i < elf->e_shnum && !found; i++) {
      if (sections[i].sh_type != SHT_DYNSYM) continue;
      const Elf64_Sym *symbols = (const Elf64_Sym *)(file + sections[i].sh_offset);
      const char *names = (const char *)(file + sections[sections[i].sh_link].sh_offset);
      for (size_t s = 0; s < sections[i].sh_size / sizeof *symbols && !found; s++) {
        if (symbols[s].st_shndx != SHN_UNDEF && ELF64_ST_TYPE(symbols[s].st_info) == STT_FUNC &&
            strcmp(names + symbols[s].st_name, "dlopen") == 0) {
          *offset = symbols[s].st_value - first_load;
          found = true;
        }
      }
    }
  }
  munmap((void *)file, (size_t)st.st_size);
  return found;
}

static bool poke_bytes(pid_t target, uint64_t address, const void *bytes, size_t length) {
  for (size_t done = 0; done < length; done += sizeof(long)) {
    long word = 0;
    memcpy(&word, (const char *)bytes + done, length - done < sizeof word ? length - done : sizeof word);
    if (ptrace(PTRACE_POKEDATA, target, (void *)(uintptr_t)(address + done), (void *)word) != 0) return false;
  }
  return true;
}

int main(int argc, char **argv) {
  char library[PATH_MAX];
  long pid;
  if (argc != 3 || !parse_long(argv[1], 1, INT32_MAX, &pid)) {
    fprintf(stderr, "usage: inject PID LIBPATH\n");
    return 2;
  }
  // dlopen runs in the game, with the game's working directory: give it an absolute path.
  if (!realpath(argv[2], library)) fail("inject", pid, "cannot resolve %s: %s", argv[2], strerror(errno));
  pid_t target = (pid_t)pid;

  char *maps = read_maps(target), libc[PATH_MAX];
  uint64_t libc_start, offset;
  if (!maps) fail("inject", pid, "cannot read /proc/%ld/maps: %s", pid, strerror(errno));
  if (!find_libc(maps, &libc_start, libc, sizeof libc)) fail("inject", pid, "no libc.so mapped in the game");
  free(maps);
  if (!dlopen_offset(libc, &offset)) fail("inject", pid, "no dlopen in the dynamic symbols of %s", libc);
  uint64_t dlopen_address = libc_start + offset;

  if (ptrace(PTRACE_SEIZE, target, NULL, NULL) != 0) fail("inject", pid, "PTRACE_SEIZE: %s", strerror(errno));
  int status;
  if (ptrace(PTRACE_INTERRUPT, target, NULL, NULL) != 0 || waitpid(target, &status, __WALL) < 0 || !WIFSTOPPED(status))
    fail("inject", pid, "cannot stop the game's main thread: %s", strerror(errno));

  struct user_regs_struct saved, call;
  if (ptrace(PTRACE_GETREGS, target, NULL, &saved) != 0) fail("inject", pid, "PTRACE_GETREGS: %s", strerror(errno));
  size_t path_size = strlen(library) + 1;
  uint64_t path_address = (saved.rsp - RED_ZONE - path_size) & ~(uint64_t)15;
  uint64_t return_slot = path_address - 16 - 8; // rsp % 16 == 8 at entry, as after a call instruction
  static const uint64_t no_return = 0;
  if (!poke_bytes(target, path_address, library, path_size) ||
      !poke_bytes(target, return_slot, &no_return, sizeof no_return))
    fail("inject", pid, "PTRACE_POKEDATA on the stack: %s", strerror(errno));
  call = saved;
  call.rip = dlopen_address;
  call.rdi = path_address;
  call.rsi = RTLD_NOW;
  call.rsp = return_slot;
  call.rax = 0;
  call.orig_rax = (uint64_t)-1;
  if (ptrace(PTRACE_SETREGS, target, NULL, &call) != 0) fail("inject", pid, "PTRACE_SETREGS: %s", strerror(errno));
  if (ptrace(PTRACE_CONT, target, NULL, NULL) != 0) fail("inject", pid, "PTRACE_CONT: %s", strerror(errno));

  // Wait for the SIGSEGV of the return to 0. Any other signal meanwhile is the game's: pass it on.
  for (;;) {
    if (waitpid(target, &status, __WALL) < 0) fail("inject", pid, "waitpid: %s", strerror(errno));
    if (!WIFSTOPPED(status)) fail("inject", pid, "the game died during the call (status 0x%x)", status);
    if (WSTOPSIG(status) == SIGSEGV) break;
    int deliver = status >> 16 == PTRACE_EVENT_STOP ? 0 : WSTOPSIG(status);
    ptrace(PTRACE_CONT, target, NULL, (void *)(long)deliver);
  }
  struct user_regs_struct returned;
  if (ptrace(PTRACE_GETREGS, target, NULL, &returned) != 0) fail("inject", pid, "PTRACE_GETREGS: %s", strerror(errno));
  // A fault anywhere but address 0 is dlopen crashing: restoring the registers is still the best chance.
  bool returned_normally = returned.rip == 0;
  if (ptrace(PTRACE_SETREGS, target, NULL, &saved) != 0 || ptrace(PTRACE_DETACH, target, NULL, NULL) != 0)
    fail("inject", pid, "cannot restore and detach: %s", strerror(errno));
  if (!returned_normally) fail("inject", pid, "dlopen faulted at 0x%llx", returned.rip);

  maps = read_maps(target);
  bool mapped = maps && strstr(maps, library);
  free(maps);
  bool ok = returned.rax != 0 && mapped;
  printf("{\"cheat\":\"inject\",\"pid\":%ld,\"library\":", pid);
  print_json_string(library);
  printf(",\"libc\":");
  print_json_string(libc);
  printf(",\"dlopen\":\"0x%" PRIx64 "\",\"handle\":\"0x%llx\",\"mapped\":%s,\"ok\":%s}\n", dlopen_address, returned.rax,
         mapped ? "true" : "false", ok ? "true" : "false");
  return ok ? 0 : 1;
}
