// Library-call uprobes: one uprobe per function, on the recorder's on_libcall program, for every process
// that maps the library (the program keeps only followed processes). The attach cookie tells the program
// which call it is and which argument to read as a string.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

struct bpf_link;
struct bpf_program;

class LibcallProbes {
 public:
  LibcallProbes() = default;
  LibcallProbes(const LibcallProbes&) = delete;
  LibcallProbes& operator=(const LibcallProbes&) = delete;
  ~LibcallProbes() { DetachAll(); }

  // A uprobe at offset in the library, for call number index (the decoder's name for it); string_arg (1
  // or 2, 0 for none) is the argument read as a string. Returns an error message, empty on success.
  std::string Attach(bpf_program* program, const std::string& library, uint64_t offset, size_t index,
                     uint32_t string_arg);
  void DetachAll();

 private:
  std::vector<bpf_link*> links_;
};
