// Decodes each record type of bpf/gpo.h into rows. Records are copied out of the buffer before they are
// read (the buffer need not be aligned), and every size is checked against the record's own length first:
// a record that does not fit its struct is rejected whole, never read beyond its end.
#include "record-decoder.h"

#include <linux/types.h>
#include <stddef.h>
#include <string.h>

#include <algorithm>

extern "C" {
#include "gpo.h"
}

namespace {

// The record at data as a T, if size holds one (records may be longer: fields added at their end).
template <typename T>
bool Read(const uint8_t* data, size_t size, T& out) {
  if (size < sizeof(T)) return false;
  memcpy(&out, data, sizeof(T));
  return true;
}

// A fixed-size char field: up to its first NUL, or all of it when it has none.
std::string BoundedString(const char* s, size_t max) { return std::string(s, strnlen(s, max)); }

// A path from the kernel's components, leaf first.
std::string JoinParts(const char (&parts)[GPO_NAME_PARTS][GPO_NAME_LEN], uint32_t n) {
  std::string path;
  for (uint32_t i = std::min<uint32_t>(n, GPO_NAME_PARTS); i-- > 0;)
    path += "/" + BoundedString(parts[i], GPO_NAME_LEN);
  return path;
}

// The path of an act: a plain string, or the kernel's path components.
std::string ActPath(const gpo_act_event& e) {
  if (e.name_parts == 0) return BoundedString(&e.name[0][0], sizeof(e.name));
  return JoinParts(e.name, e.name_parts);
}

// argv as the kernel keeps it: NUL-separated, the last one without its NUL when cut.
std::vector<std::string> SplitArgv(const char* argv, size_t len) {
  std::vector<std::string> out;
  for (size_t start = 0; start < len;) {
    size_t end = start;
    while (end < len && argv[end]) end++;
    out.emplace_back(argv + start, end - start);
    start = end + 1;
  }
  return out;
}

}  // namespace

RecordDecoder::RecordDecoder(bool durations, uint64_t base_ns, ThreadName thread_name)
    : durations_(durations), base_ns_(base_ns), thread_name_(std::move(thread_name)) {}

template <typename Record, bool (RecordDecoder::*DecodeRecord)(const Record&, RareFields&, RecordingBatch&)>
bool RecordDecoder::OneRow(const uint8_t* data, size_t size, RecordingBatch& batch) {
  Record e;
  if (!Read(data, size, e)) return false;
  RareFields f{};
  f.row = uint32_t(batch.size());
  if (!(this->*DecodeRecord)(e, f, batch)) return false;
  batch.rare.push_back(std::move(f));
  return true;
}

void RecordDecoder::Decode(const uint8_t* data, size_t size, RecordingBatch& batch) {
  using TypeDecoder = bool (RecordDecoder::*)(const uint8_t*, size_t, RecordingBatch&);
  static const std::pair<uint32_t, TypeDecoder> kDecoders[] = {
      {GPO_REC_SYSCALLS, &RecordDecoder::DecodeSyscalls},
      {GPO_REC_FORK, &RecordDecoder::OneRow<gpo_fork_event, &RecordDecoder::DecodeFork>},
      {GPO_REC_EXEC, &RecordDecoder::OneRow<gpo_exec_event, &RecordDecoder::DecodeExec>},
      {GPO_REC_EXIT, &RecordDecoder::OneRow<gpo_exit_event, &RecordDecoder::DecodeExit>},
      {GPO_REC_RENAME, &RecordDecoder::OneRow<gpo_rename_event, &RecordDecoder::DecodeRename>},
      {GPO_REC_ACT, &RecordDecoder::OneRow<gpo_act_event, &RecordDecoder::DecodeAct>},
  };
  uint32_t type;
  if (Read(data, size, type))
    for (auto [t, decode] : kDecoders)
      if (t == type) {
        if (!(this->*decode)(data, size, batch)) totals_.records_rejected++;
        return;
      }
  totals_.records_rejected++;
}

bool RecordDecoder::DecodeSyscalls(const uint8_t* data, size_t size, RecordingBatch& batch) {
  gpo_batch_header h;
  if (!Read(data, size, h)) return false;
  size_t rs = h.record_size;
  size_t needed = durations_ ? sizeof(gpo_syscall_timed) : sizeof(gpo_syscall);
  if (rs < needed || sizeof(h) + size_t(h.count) * rs > size) return false;
  totals_.batches_read++;
  const uint8_t* p = data + sizeof(h);
  for (uint32_t i = 0; i < h.count; i++, p += rs) {
    gpo_syscall r;  // fixed-size copies: plain loads, this is the loop every syscall goes through
    memcpy(&r, p, sizeof(r));
    AddRow(batch, r.ts_nr & GPO_TS_MASK, r.tgid, r.tid, GPO_KIND_SYSCALL, CommOf(r.tgid, r.tid));
    batch.nr.push_back(int16_t(r.ts_nr >> GPO_TS_BITS));
    batch.ret.push_back(r.ret);
    if (durations_) {
      uint64_t duration;
      memcpy(&duration, p + offsetof(gpo_syscall_timed, duration_ns), sizeof(duration));
      batch.duration.push_back(int64_t(duration));
    }
  }
  totals_.syscall_rows += h.count;
  return true;
}

bool RecordDecoder::DecodeFork(const gpo_fork_event& e, RareFields& f, RecordingBatch& batch) {
  bool thread = e.child_tgid == e.h.tgid;
  AddRow(batch, e.h.ts, e.h.tgid, e.h.tid, thread ? GPO_KIND_THREAD : GPO_KIND_FORK, CommOf(e.h.tgid, e.h.tid));
  f.child_pid = int32_t(e.child_tgid);
  f.child_tid = int32_t(e.child_tid);
  SetComm(e.child_tid, e.child_comm);
  return true;
}

bool RecordDecoder::DecodeExec(const gpo_exec_event& e, RareFields& f, RecordingBatch& batch) {
  if (e.old_tid != e.h.tid) thread_comm_.erase(e.old_tid);
  AddRow(batch, e.h.ts, e.h.tgid, e.h.tid, GPO_KIND_EXEC, SetComm(e.h.tid, e.comm));
  f.path = BoundedString(e.path, GPO_PATH_LEN);
  exec_path_[e.h.tgid] = *f.path;
  f.argv = SplitArgv(e.argv, std::min<size_t>(e.argv_len, GPO_ARGV_LEN));
  f.truncated = e.flags != 0;
  f.request = e.nlink;  // 0: a memfd or deleted file, a fileless exec
  f.dev = int64_t(e.dev);
  f.inode = int64_t(e.inode);
  return true;
}

bool RecordDecoder::DecodeExit(const gpo_exit_event& e, RareFields& f, RecordingBatch& batch) {
  AddRow(batch, e.h.ts, e.h.tgid, e.h.tid, GPO_KIND_EXIT, CommIndex(BoundedString(e.comm, GPO_COMM_LEN)));
  f.exit_code = e.exit_code;
  f.group_dead = int32_t(e.group_dead);
  thread_comm_.erase(e.h.tid);
  if (e.group_dead) exec_path_.erase(e.h.tgid);
  return true;
}

bool RecordDecoder::DecodeRename(const gpo_rename_event& e, RareFields& f, RecordingBatch& batch) {
  AddRow(batch, e.h.ts, e.h.tgid, e.h.tid, GPO_KIND_RENAME, SetComm(e.h.tid, e.comm));
  return true;
}

bool RecordDecoder::DecodeAct(const gpo_act_event& e, RareFields& f, RecordingBatch& batch) {
  // Syscall and lifecycle rows come from their own records: as acts they would lack their columns.
  if (e.kind < GPO_KIND_PTRACE || e.kind >= GPO_KIND_COUNT) return false;
  AddRow(batch, e.h.ts, e.h.tgid, e.h.tid, uint8_t(e.kind), CommIndex(BoundedString(e.comm, GPO_COMM_LEN)));
  batch.ret.back() = e.ret;  // its outcome; nr stays unset: the trace has it on syscall rows only
  bool actor = e.kind <= GPO_KIND_DEVICE_OPEN;
  f.uid = int32_t(e.uid);
  if (actor)
    f.exe = e.exe_parts ? JoinParts(e.exe, e.exe_parts) + ((e.flags & GPO_ACT_EXE_DELETED) ? " (deleted)" : "")
                        : std::string("?");
  if (e.target_tgid) {
    f.target_pid = int32_t(e.target_tgid);
    f.target_tid = int32_t(e.target_tid);
  }
  f.request = int64_t(e.request);
  f.addr = int64_t(e.addr);
  f.size = int64_t(e.size);
  if (e.inode) {
    f.dev = int64_t(e.dev);
    f.inode = int64_t(e.inode);
    f.offset = int64_t(e.offset);
  }
  std::string path = ActPath(e);
  // A file with no name left is marked as /proc/PID/maps marks it.
  if (!path.empty()) f.path = (e.flags & GPO_ACT_FILE_DELETED) ? path + " (deleted)" : path;
  f.truncated = (e.flags & GPO_ACT_PATH_TRUNCATED) != 0;
  if (e.kind == GPO_KIND_LIBCALL) {
    f.func = e.request < libcall_names_.size() ? libcall_names_[e.request] : "?";
    f.request.reset();
  }
  if (e.kind == GPO_KIND_LOADER_ENV) DescribeLoaderEnv(e, f);
  return true;
}

// A loader variable at an exec: its name (func), its value (path), the program exec'd (exe); a row of
// GPO_LOADER_UNSCANNED (an environment not read to its end) has neither name nor value, and is truncated.
void RecordDecoder::DescribeLoaderEnv(const gpo_act_event& e, RareFields& f) {
  static const char* const kVariables[] = {"LD_PRELOAD", "LD_AUDIT", "LD_LIBRARY_PATH"};
  auto program = exec_path_.find(e.h.tgid);
  f.exe = program != exec_path_.end() ? program->second : "?";
  if (e.request < std::size(kVariables)) {
    f.func = kVariables[e.request];
  } else {
    f.path.reset();
    f.truncated = 1;
  }
  f.request.reset();
  f.addr.reset();
  f.size.reset();
}

void RecordDecoder::AddRow(RecordingBatch& batch, uint64_t ts, uint32_t tgid, uint32_t tid, uint8_t kind,
                           int32_t comm) {
  batch.ts.push_back(int64_t(base_ns_ + ts));
  batch.pid.push_back(int32_t(tgid));
  batch.tid.push_back(int32_t(tid));
  batch.comm.push_back(comm);
  batch.kind.push_back(kind);
  if (kind != GPO_KIND_SYSCALL) {
    batch.nr.push_back(-1);
    batch.ret.push_back(0);
    if (durations_) batch.duration.push_back(0);
    totals_.lifecycle_rows++;
  }
  totals_.rows++;
}

// The comm table: each distinct thread name once; rows refer to it by index.
int32_t RecordDecoder::CommIndex(const std::string& comm) {
  auto it = comm_index_.find(comm);
  if (it != comm_index_.end()) return it->second;
  int32_t idx = int32_t(comm_index_.size());
  comm_index_.emplace(comm, idx);
  comm_names_.push_back(comm);
  return idx;
}

int32_t RecordDecoder::SetComm(uint32_t tid, const char* comm) {
  return thread_comm_[tid] = CommIndex(BoundedString(comm, GPO_COMM_LEN));
}

int32_t RecordDecoder::CommOf(uint32_t tgid, uint32_t tid) {
  auto it = thread_comm_.find(tid);
  if (it != thread_comm_.end()) return it->second;
  return thread_comm_[tid] = CommIndex(thread_name_(tgid, tid));
}
