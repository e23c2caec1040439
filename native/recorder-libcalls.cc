#include "recorder-libcalls.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>

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

void LibcallProbes::DetachAll() {
  // Removing a uprobe waits for RCU grace periods, one removal after another (4 took 40-160 ms here, measured
  // with strace, side by side or not): they are removed on a thread of their own, which the end of the
  // recording does not wait for; gpo's exit still does, for the ones the thread has not reached (the exit
  // closes them). A process outliving gpo to remove them would be faster, but gpo must not leave anything it
  // started running. A call they see meanwhile is after the stop, in a ring buffer no longer read.
  if (links_.empty()) return;
  std::thread([links = std::move(links_)] {
    for (bpf_link* link : links) bpf_link__destroy(link);
  }).detach();
  links_.clear();
}
