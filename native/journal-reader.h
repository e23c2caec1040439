// Reads a recording's journal (the Arrow IPC stream the recorder appends to, native/recording-batch.cc) a
// mapped chunk at a time while it grows, and expands its batches to the trace's columns: the core columns are
// the journal's own buffers, the others are built from the `extra` JSON of the rare rows. The native twin of
// src/trace/journal-tail.ts + src/trace/expand.ts, for the Parquet writer (native/journal-parquet.cc).
#pragma once
#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "parquet-column.h"

// A batch as the trace's columns: columns[c] holds rows [0, rows) of trace column c (child: a list's
// strings). `keep` owns the memory they point into.
struct JournalBatch {
  int64_t rows = 0;
  std::vector<ArrowSlice> columns;
  std::vector<std::shared_ptr<const void>> keep;
};

class JournalReader {
 public:
  // columns: the trace's columns, in the Parquet file's order.
  JournalReader(int fd, std::vector<ColumnSpec> columns, size_t chunk_bytes = 4 << 20);

  // Appends the batches (of one row or more) of the messages complete between the last call and byte `end`
  // of the journal (or its end, if shorter); a message still being written is left for the next call. At
  // most one chunk is read (or one message, if larger), so a backlog is taken in bounded steps. False (with *error set)
  // for a journal that is not one.
  bool Read(int64_t end, std::vector<std::shared_ptr<JournalBatch>>& out, std::string* error);

  // Where the next unread message starts; rows of the batches returned so far.
  int64_t offset() const { return offset_; }
  const std::vector<ColumnSpec>& columns() const { return columns_; }
  int64_t rows() const { return rows_; }

 private:
  struct Field {
    std::string name;
    ColumnKind kind;  // utf8, or an integer of 16, 32 or 64 bits
  };
  bool ReadSchema(const uint8_t* metadata, size_t size, std::string* error);
  bool ReadBatch(const uint8_t* metadata, size_t size, const uint8_t* body, size_t body_size,
                 std::shared_ptr<JournalBatch>& batch, std::string* error);
  bool Expand(const ArrowArray& extra, JournalBatch& batch, std::string* error);
  const uint8_t* Zeros(size_t bytes, JournalBatch& batch);

  int fd_;
  std::vector<ColumnSpec> columns_;
  size_t chunk_bytes_;
  int64_t offset_ = 0, rows_ = 0;
  // Bytes of a message that did not fit in one chunk: the next read takes at least that many.
  size_t needed_ = 0;
  // The journal's fields once its schema is read; source_[c]: the field of trace column c (-1: from extra).
  std::vector<Field> fields_;
  std::vector<int> source_;
  int extra_ = -1;
  // Byte offset in the journal of the message being read (for errors).
  int64_t message_at_ = 0;
  // Zeros for columns with no value in a batch: shared by batches, replaced (not grown) when too small.
  std::shared_ptr<std::vector<uint8_t>> zeros_;
};
