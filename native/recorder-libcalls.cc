#include "recorder-libcalls.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>

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
  for (bpf_link* link : links_) bpf_link__destroy(link);
  links_.clear();
}
