#include "recorder-bpf.h"

#include "clock.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

extern "C" {
#include "gpo.h"
#include "record.skel.h"
}

int RecorderBpf::Load(const RecorderBpfOptions& o, const RecorderHookPlan& plan, const char** what) {
  durations_ = o.durations;
  skel_ = record_bpf__open();
  if (!skel_) {
    *what = "open";
    return errno;
  }
  base_ns_ = MonotonicNs();
  skel_->rodata->base_ns = base_ns_;
  skel_->rodata->follow_children = o.follow_children;
  skel_->rodata->record_durations = o.durations;
  skel_->rodata->gpo_tgid = getpid();
  skel_->rodata->observe_acts = o.observe_acts;
  ApplyHookPlan(skel_->obj, plan);
  if (bpf_map__set_max_entries(skel_->maps.events, o.ring_buffer_bytes)) {
    *what = "size the ring buffer";
    return errno;
  }
  int err = record_bpf__load(skel_);
  if (err) {
    *what = "load";
    return -err;
  }
  return 0;
}

void RecorderBpf::Track(uint32_t tgid) {
  if (tgid >= GPO_PID_LIMIT) return;
  __atomic_fetch_or(&skel_->bss->tracked_tgids[tgid >> 6], 1ull << (tgid & 63), __ATOMIC_SEQ_CST);
  EnterThreads(tgid);
}

// The threads that exist already, in the recorder's table of followed threads (the fork hook enters the
// ones made from now on): under their global number, and their number in their own pid namespace.
void RecorderBpf::EnterThreads(uint32_t tgid) {
  std::string task_dir = "/proc/" + std::to_string(tgid) + "/task";
  DIR* dir = opendir(task_dir.c_str());
  if (!dir) return;
  struct stat init_ns;
  bool have_init = stat("/proc/1/ns/pid", &init_ns) == 0;
  while (dirent* d = readdir(dir)) {
    if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
    gpo_task_ids ids = {tgid, uint32_t(strtoul(d->d_name, nullptr, 10))};
    if (have_init) {
      gpo_task_key k = {uint32_t(init_ns.st_ino), ids.tid};
      bpf_map__update_elem(skel_->maps.task_ids, &k, sizeof(k), &ids, sizeof(ids), BPF_ANY);
    }
    // NSpid's last number is the thread's number in its own namespace (the one /proc/TID/ns/pid names).
    std::ifstream status(task_dir + "/" + d->d_name + "/status");
    struct stat ns;
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("NSpid:", 0) != 0) continue;
      size_t last = line.find_last_of(" \t");
      uint32_t nr = uint32_t(strtoul(line.c_str() + last + 1, nullptr, 10));
      if (nr && stat((task_dir + "/" + d->d_name + "/ns/pid").c_str(), &ns) == 0) {
        gpo_task_key k = {uint32_t(ns.st_ino), nr};
        bpf_map__update_elem(skel_->maps.task_ids, &k, sizeof(k), &ids, sizeof(ids), BPF_ANY);
      }
    }
  }
  closedir(dir);
}

void RecorderBpf::SetLauncher(uint32_t tgid) { __atomic_store_n(&skel_->bss->launcher_tgid, tgid, __ATOMIC_SEQ_CST); }

int RecorderBpf::Attach() { return record_bpf__attach(skel_); }

void RecorderBpf::Detach() { record_bpf__detach(skel_); }

int RecorderBpf::events_fd() const { return bpf_map__fd(skel_->maps.events); }

bpf_program* RecorderBpf::libcall_program() const { return skel_->progs.on_libcall; }

std::vector<uint64_t> RecorderBpf::ReadCounters() const {
  std::vector<uint64_t> sums(GPO_CNT_MAX, 0);
  int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> per_cpu(ncpu);
  for (uint32_t i = 0; i < GPO_CNT_MAX; i++) {
    if (bpf_map__lookup_elem(skel_->maps.counters, &i, sizeof(i), per_cpu.data(), per_cpu.size() * 8, 0) == 0)
      for (int c = 0; c < ncpu; c++) sums[i] += per_cpu[c];
  }
  return sums;
}

std::vector<std::pair<uint32_t, uint64_t>> RecorderBpf::ReadDroppedByNr() const {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> per_cpu(ncpu);
  for (uint32_t nr = 0; nr < GPO_MAX_SYSCALL; nr++) {
    if (bpf_map__lookup_elem(skel_->maps.dropped_by_nr, &nr, sizeof(nr), per_cpu.data(), per_cpu.size() * 8, 0))
      continue;
    uint64_t sum = 0;
    for (int c = 0; c < ncpu; c++) sum += per_cpu[c];
    if (sum) out.emplace_back(nr, sum);
  }
  return out;
}

std::vector<std::vector<uint8_t>> RecorderBpf::ReadStages() const {
  std::vector<std::vector<uint8_t>> out;
  int ncpu = libbpf_num_possible_cpus();
  size_t value_size = bpf_map__value_size(skel_->maps.stages);
  size_t stride = (value_size + 7) & ~size_t(7);
  std::vector<uint8_t> values(stride * ncpu);
  uint32_t zero = 0;
  if (bpf_map__lookup_elem(skel_->maps.stages, &zero, sizeof(zero), values.data(), values.size(), 0)) return out;
  for (int c = 0; c < ncpu; c++) {
    const auto* h = reinterpret_cast<const gpo_batch_header*>(values.data() + stride * c);
    if (h->count > 0 && h->count <= GPO_STAGE_RECORDS) {
      // A stage's type and record size are written when it is flushed (a stage never flushed has none).
      gpo_batch_header fixed = *h;
      fixed.type = GPO_REC_SYSCALLS;
      fixed.record_size = durations_ ? sizeof(gpo_syscall_timed) : sizeof(gpo_syscall);
      std::vector<uint8_t>& copy = out.emplace_back(sizeof(fixed) + size_t(fixed.count) * fixed.record_size);
      memcpy(copy.data(), &fixed, sizeof(fixed));
      memcpy(copy.data() + sizeof(fixed), h + 1, copy.size() - sizeof(fixed));
    }
  }
  return out;
}

void RecorderBpf::Destroy() {
  if (skel_) record_bpf__destroy(skel_);
  skel_ = nullptr;
}
