// A batch of trace rows in the recording stream's layout (recordingSchema in src/trace/schema.ts: ts_ns,
// pid, tid, comm, kind, nr, ret, duration_ns, extra), filled by the recorder's consumer thread and appended
// to the stream file as one Arrow record batch.
#pragma once
#include <napi.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

// Fields of the rare rows (lifecycle, acts), written as JSON in the `extra` column; unset fields are
// nulls in the trace.
struct RareFields {
  uint32_t row;
  std::optional<int32_t> child_pid, child_tid, exit_code, group_dead, truncated, uid, target_pid, target_tid;
  std::optional<int64_t> request, addr, size, dev, inode, offset;
  std::optional<std::string> path, exe, func;
  std::optional<std::vector<std::string>> argv;
};

struct RecordingBatch {
  std::vector<int64_t> ts;
  std::vector<int32_t> pid, tid, comm;  // comm: index into the recorder's table of thread names
  std::vector<uint8_t> kind;            // enum gpo_row_kind
  std::vector<int16_t> nr;
  std::vector<int64_t> ret, duration;  // duration only when recording durations
  std::vector<RareFields> rare;
  // The recording's counters when the batch was written, as JSON (RecordingStatusJson); empty for none.
  std::string status;
  size_t size() const { return ts.size(); }
  void Reserve(size_t rows, bool durations);
  void Clear();
};

// Length of the valid UTF-8 sequence starting at p, of n bytes left (0 if it is not one).
size_t Utf8SequenceLength(const uint8_t* p, size_t n);

// The trace's name of a row kind code (enum gpo_row_kind), as in ROW_KINDS of src/trace/schema.ts.
const char* RowKindName(uint8_t kind);

// What the recorder has counted so far, as the top-level fields of the trace metadata they update (counts,
// syscalls_dropped_by_nr, truncated; see TraceMetadata in src/trace/metadata.ts). Written with every batch
// as its message's custom metadata under the key "gpo", so the stream of a killed gpo says what was lost.
// counters are indexed by enum gpo_counter; records_rejected: records the decoder could not take (counted as
// the `rejected` source when there are any).
std::string RecordingStatusJson(const std::vector<uint64_t>& counters, uint64_t syscall_rows, uint64_t lifecycle_rows,
                                uint64_t records_rejected,
                                const std::vector<std::pair<uint32_t, uint64_t>>& dropped_by_nr);

// Appends the batch to an Arrow IPC stream whose schema message is already written. Returns the bytes
// written, or -errno.
ssize_t WriteRecordingBatch(int fd, const RecordingBatch& batch, bool durations,
                            const std::vector<std::string>& comm_names);

// The batch as writeRecordingBatch's rows (comm and strings as Buffers of their bytes, int64 as bigint), for
// tests of what fills it (decodeRecords); throws when its columns disagree in length.
Napi::Value RecordingBatchRows(Napi::Env env, const RecordingBatch& batch, bool durations,
                               const std::vector<std::string>& comm_names);

// Adds writeRecordingBatch(fd, rows, durations), the same encoding from JavaScript rows, for unit tests.
void InitRecordingBatch(Napi::Env env, Napi::Object exports);
