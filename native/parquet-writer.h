// A Parquet file writer for gpo's traces: the file's bytes are handed back in order, row group by row
// group, then the footer (FileMetaData: schema, row groups, key-value metadata). Two entry points share it:
// ParquetWriter, fed Arrow arrays from JavaScript (src/trace/parquet-encoder.ts), and JournalParquet, fed
// the journal's batches read natively (native/journal-parquet.cc).
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "parquet-column.h"

class ThriftWriter;

// What the footer says about a row group written.
struct RowGroupMeta {
  int64_t rows, offset, uncompressed = 0, compressed = 0;
  std::vector<ChunkMeta> chunks;
};

class ParquetFileWriter {
 public:
  ParquetFileWriter(const std::vector<ColumnSpec>& columns, bool statistics);
  const ColumnSpec& spec(size_t column) const { return columns_[column]->spec(); }
  size_t columns() const { return columns_.size(); }
  // Appends the next row group (slices[c]: column c's arrays, adding up to `rows`) to out; false (with
  // *error set) if it could not be encoded.
  bool RowGroup(int64_t rows, const std::vector<std::vector<ArrowSlice>>& slices, std::vector<uint8_t>& out,
                std::string* error);
  // Appends the footer (and PAR1 first if nothing came yet) to out.
  void Finish(const std::vector<std::pair<std::string, std::string>>& metadata, const std::string& created_by,
              std::vector<uint8_t>& out);

 private:
  void WriteSchema(ThriftWriter& t);
  void WriteColumnChunk(ThriftWriter& t, const ColumnSpec& spec, const ChunkMeta& c);

  ColumnScratch scratch_;
  std::vector<std::unique_ptr<ColumnEncoder>> columns_;
  bool statistics_;
  int64_t position_ = 0;
  std::vector<RowGroupMeta> row_groups_;
};

// Whether rows [0, end) of an array are inside its buffers (sizes in bytes; the child's offsets of a list
// are checked by the caller): a bad array must be an error, not a read past a buffer.
bool CheckArray(ColumnKind kind, int64_t end, const ArrowArray& a, size_t validity_bytes, size_t values_bytes,
                size_t offsets_bytes, std::string* error);

// The JavaScript forms of a column ({ name, kind, nullable, encoding }) and of key-value metadata.
ColumnSpec ColumnSpecOf(Napi::Object column);
std::vector<std::pair<std::string, std::string>> KeyValuesOf(Napi::Array pairs);

// Adds the ParquetWriter class to the exports.
void InitParquetWriter(Napi::Env env, Napi::Object exports);
