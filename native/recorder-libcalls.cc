#include "recorder-libcalls.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>

#include <thread>
#include <vector>

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
  // Removing a uprobe waits for an RCU grace period (60-85 ms each here, measured with strace): removed side
  // by side, the probes wait for about one instead of one each, and stopping is that much sooner.
  std::vector<std::thread> removals;
  for (bpf_link* link : links_) removals.emplace_back([link] { bpf_link__destroy(link); });
  for (std::thread& removal : removals) removal.join();
  links_.clear();
}
