// The recorder's BPF object (bpf/record.bpf.c): opened with the recording's options, its programs chosen by
// the hook plan, loaded; then the maps user space reads and writes (followed processes, counters, the
// per-CPU stages) and the programs' attachment.
#pragma once
#include <stdint.h>

#include <string>
#include <utility>
#include <vector>

#include "recorder-hooks.h"

struct record_bpf;
struct bpf_program;

struct RecorderBpfOptions {
  uint32_t ring_buffer_bytes;
  bool follow_children, durations, observe_acts;
};

class RecorderBpf {
 public:
  RecorderBpf() = default;
  RecorderBpf(const RecorderBpf&) = delete;
  RecorderBpf& operator=(const RecorderBpf&) = delete;
  ~RecorderBpf() { Destroy(); }

  // Opens and loads the programs the plan chooses. 0, or the errno of the step named in *what.
  int Load(const RecorderBpfOptions& options, const RecorderHookPlan& plan, const char** what);
  bool loaded() const { return skel_ != nullptr; }
  // CLOCK_MONOTONIC when loaded: the records' timestamps are relative to it.
  uint64_t base_ns() const { return base_ns_; }

  // Follow this process (and, through the fork hook, its descendants).
  void Track(uint32_t tgid);
  // Rows of this process are ignored until it execs.
  void SetLauncher(uint32_t tgid);

  // 0 or -errno.
  int Attach();
  void Detach();
  int events_fd() const;
  bpf_program* libcall_program() const;

  // Per-CPU counters summed, indexed by enum gpo_counter.
  std::vector<uint64_t> ReadCounters() const;
  // Syscall records lost to a full ring buffer, by syscall number (only the numbers that lost some).
  std::vector<std::pair<uint32_t, uint64_t>> ReadDroppedByNr() const;
  // Each CPU's staged syscall records as a GPO_REC_SYSCALLS record (read after detach: the newest ones).
  std::vector<std::vector<uint8_t>> ReadStages() const;

  void Destroy();

 private:
  void EnterThreads(uint32_t tgid);

  record_bpf* skel_ = nullptr;
  uint64_t base_ns_ = 0;
  bool durations_ = false;
};
