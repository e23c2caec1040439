#include "recorder-libcalls.h"

#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

std::string LibcallProbes::Attach(bpf_program* program, const std::string& library, uint64_t offset, size_t index,
                                  uint32_t string_arg) {
  // The cookie: the call's index in its low 16 bits, the string argument in the next 8 (bpf/record.bpf.c).
  LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = uint64_t(index) | (uint64_t(string_arg & 0xff) << 16));
  bpf_link* link = bpf_program__attach_uprobe_opts(program, -1, library.c_str(), offset, &opts);
  if (!link) return strerror(errno);
  links_.push_back(link);
  return "";
}

namespace {

// A system call without libc: the remover below shares gpo's memory and thread-local storage (errno).
long RawSyscall(long n, long a = 0, long b = 0, long c = 0) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

constexpr size_t kRemoverStack = 64 << 10;

// What the remover keeps of gpo's descriptors: the links' (sorted) and the read end of a pipe whose end
// says gpo's own copies are closed.
struct Remover {
  std::vector<int> keep;
  int pipe_read = -1;
  int max_fd = 0;
};

// The remover: closes every descriptor but the ones it keeps (gpo's output, pipes and sockets are not held
// open by it), waits until gpo has closed its copies of the links, then closes its own: the uprobes are
// removed here, after their grace periods.
int RemoverMain(void* arg) {
  const Remover* r = static_cast<const Remover*>(arg);
  int from = 0;
  bool ranges = true;
  for (size_t i = 0; i <= r->keep.size() && ranges; i++) {
    long to = i < r->keep.size() ? r->keep[i] - 1 : ~0u;
    if (to >= from) ranges = RawSyscall(SYS_close_range, from, to, 0) == 0;
    if (i < r->keep.size()) from = r->keep[i] + 1;
  }
  if (!ranges)  // before 5.9: one by one, up to the highest descriptor gpo had
    for (int fd = 0; fd <= r->max_fd; fd++)
      if (!std::binary_search(r->keep.begin(), r->keep.end(), fd)) RawSyscall(SYS_close, fd);
  char byte;
  while (RawSyscall(SYS_read, r->pipe_read, long(&byte), 1) == -EINTR) {
  }
  for (int fd : r->keep) RawSyscall(SYS_close, fd);
  RawSyscall(SYS_exit, 0);
  return 0;
}

int HighestFd() {
  int highest = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* d = readdir(dir)) highest = std::max(highest, atoi(d->d_name));
    closedir(dir);
  }
  return highest + 64;
}

// Removes the links through a process of its own: true when the remover took them (the links are destroyed
// here at once), false when none could be made.
bool RemoveApart(const std::vector<bpf_link*>& links) {
  Remover r;
  for (bpf_link* link : links) r.keep.push_back(bpf_link__fd(link));
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC)) return false;
  r.keep.push_back(pipe_fds[0]);
  r.pipe_read = pipe_fds[0];
  std::sort(r.keep.begin(), r.keep.end());
  r.max_fd = HighestFd();
  void* stack = mmap(nullptr, kRemoverStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return false;
  }
  // Signals stay blocked in the remover (it runs none of gpo's handlers; Ctrl-C does not cut it short).
  sigset_t all, was;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &was);
  // Same memory (nothing copied; it uses its stack and r only), a copy of the descriptor table.
  pid_t pid = clone(RemoverMain, static_cast<char*>(stack) + kRemoverStack, CLONE_VM | SIGCHLD, &r);
  pthread_sigmask(SIG_SETMASK, &was, nullptr);
  close(pipe_fds[0]);
  if (pid < 0) {
    close(pipe_fds[1]);
    munmap(stack, kRemoverStack);
    return false;
  }
  for (bpf_link* link : links) bpf_link__destroy(link);
  close(pipe_fds[1]);
  waitpid(pid, nullptr, 0);
  munmap(stack, kRemoverStack);
  return true;
}

}  // namespace

void LibcallProbes::DetachAll() {
  // Removing a uprobe waits for RCU grace periods, one removal after another (4 took 40-160 ms here, measured
  // with strace, side by side or not). A thread of gpo's own would not do: gpo's exit waits for the removals
  // of the links it still holds (exit closes them). So a process sharing gpo's memory takes copies of the
  // links' descriptors and removes them; gpo's thread only waits for it to reap it, and gpo exits without
  // waiting. A call they see meanwhile is after the stop, in a ring buffer no longer read.
  if (links_.empty()) return;
  std::thread([links = std::move(links_)] {
    if (!RemoveApart(links))
      for (bpf_link* link : links) bpf_link__destroy(link);
  }).detach();
  links_.clear();
}
