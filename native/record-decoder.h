// The record decoder: the ring buffer's records (the structs of bpf/gpo.h, as bytes) become rows of a
// recording batch. Pure: no BPF, no files, no threads; the one thing it cannot know (the name of a thread
// first seen through a syscall) it asks through a callback. The addon's decodeRecords runs it on records
// made by hand (test/native/), without root.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "recording-batch.h"

struct gpo_fork_event;
struct gpo_exec_event;
struct gpo_exit_event;
struct gpo_rename_event;
struct gpo_act_event;

struct DecoderTotals {
  uint64_t rows = 0, syscall_rows = 0, lifecycle_rows = 0, batches_read = 0;
  // Records that were not decoded: shorter than their struct, of an unknown type or row kind, or a
  // syscall batch whose count and record size do not fit the record.
  uint64_t records_rejected = 0;
};

class RecordDecoder {
 public:
  // The name of a thread that existed before the recording (no fork or exec record named it).
  using ThreadName = std::function<std::string(uint32_t tgid, uint32_t tid)>;

  // durations: syscall records carry their duration (gpo_syscall_timed); base_ns: the recording's base
  // time, which the records' timestamps are relative to.
  RecordDecoder(bool durations, uint64_t base_ns, ThreadName thread_name);

  // Appends the rows of one ring-buffer record to batch; a rejected record adds none and is counted.
  void Decode(const uint8_t* data, size_t size, RecordingBatch& batch);

  // Library-call rows name their function by the uprobe's cookie: the number of calls added before it.
  void AddLibcall(std::string name) { libcall_names_.push_back(std::move(name)); }
  size_t libcall_count() const { return libcall_names_.size(); }

  // The thread names the batch's comm column refers to by index.
  const std::vector<std::string>& comm_names() const { return comm_names_; }
  const DecoderTotals& totals() const { return totals_; }

 private:
  // One per record type (enum gpo_record_type, the table in Decode); false rejects the record. A record of
  // one row goes through OneRow, which reads it whole and gives its rare fields (their row set) to fill.
  bool DecodeSyscalls(const uint8_t* data, size_t size, RecordingBatch& batch);
  bool DecodeFork(const gpo_fork_event& e, RareFields& f, RecordingBatch& batch);
  bool DecodeExec(const gpo_exec_event& e, RareFields& f, RecordingBatch& batch);
  bool DecodeExit(const gpo_exit_event& e, RareFields& f, RecordingBatch& batch);
  bool DecodeRename(const gpo_rename_event& e, RareFields& f, RecordingBatch& batch);
  bool DecodeAct(const gpo_act_event& e, RareFields& f, RecordingBatch& batch);
  void DescribeLoaderEnv(const gpo_act_event& e, RareFields& f);
  template <typename Record, bool (RecordDecoder::*DecodeRecord)(const Record&, RareFields&, RecordingBatch&)>
  bool OneRow(const uint8_t* data, size_t size, RecordingBatch& batch);

  void AddRow(RecordingBatch& batch, uint64_t ts, uint32_t tgid, uint32_t tid, uint8_t kind, int32_t comm);
  int32_t CommIndex(const std::string& comm);
  int32_t SetComm(uint32_t tid, const char* comm);
  int32_t CommOf(uint32_t tgid, uint32_t tid);

  bool durations_;
  uint64_t base_ns_;
  ThreadName thread_name_;
  DecoderTotals totals_;
  std::unordered_map<std::string, int32_t> comm_index_;
  std::vector<std::string> comm_names_;
  std::unordered_map<uint32_t, int32_t> thread_comm_;  // tid -> comm index
  // tgid -> the program it last exec'd, named by the loader_env rows of that exec (which follow its record).
  std::unordered_map<uint32_t, std::string> exec_path_;
  std::vector<std::string> libcall_names_;  // indexed by the uprobe's cookie
};
