// One column chunk of a Parquet row group, encoded from Arrow arrays: levels, values (plain, dictionary
// or delta), data pages of at most kPageRows rows, each compressed with zstd, and the statistics that go
// into the footer.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include <string>
#include <string_view>
#include <vector>

// The Arrow types of gpo's trace schema; Int16 is stored as INT32 (Parquet has no 16-bit type).
enum class ColumnKind { kInt64, kInt32, kInt16, kUtf8, kListUtf8 };
enum class ColumnEncoding { kPlain, kDictionary, kDelta };

struct ColumnSpec {
  std::string name;
  ColumnKind kind;
  bool nullable;
  ColumnEncoding encoding;
};

// Rows [from, from + count) of one Arrow array. As apache-arrow slices arrays, the validity bitmap is
// indexed from bit_offset + row, everything else from row. Null pointers: no nulls (validity), or no
// such buffer.
struct ArrowArray {
  int64_t bit_offset = 0;
  const uint8_t* validity = nullptr;
  const uint8_t* values = nullptr;  // fixed-width values, or the bytes of strings
  const int32_t* offsets = nullptr;
};
struct ArrowSlice {
  int64_t from, count;
  ArrowArray array;
  ArrowArray child;  // list<utf8>: the strings
};

// What the footer says about a column chunk; offsets relative to the start of the row group's bytes.
struct ChunkMeta {
  int32_t physical_type;
  std::vector<int32_t> encodings;
  int64_t num_values = 0;
  int64_t uncompressed = 0, compressed = 0;
  int64_t data_page_offset = 0, dictionary_page_offset = -1;
  int64_t null_count = 0;
  bool has_min_max = false;
  std::string min, max;  // PLAIN bytes of the values
};

// Working memory of the encoders, shared by the columns of a file: a column is gathered, encoded and
// written before the next one starts, so memory (and page faults) is one column's, not all of them.
struct ColumnScratch {
  ColumnScratch() : zstd(ZSTD_createCCtx()) {}
  ~ColumnScratch() { ZSTD_freeCCtx(zstd); }
  ColumnScratch(const ColumnScratch&) = delete;
  ColumnScratch& operator=(const ColumnScratch&) = delete;

  ZSTD_CCtx* zstd;
  // The row group's column, gathered: levels (when the column has them), the non-null values, and where
  // each page's rows start (level index, value index).
  std::vector<uint8_t> def, rep;
  std::vector<int64_t> i64;
  std::vector<int32_t> i32;
  std::vector<std::string_view> str;
  std::vector<std::pair<size_t, size_t>> pages;
  // Dictionary: the distinct values in order of first use, and each value's index.
  std::vector<int32_t> dict_i32;
  std::vector<std::string_view> dict_str;
  std::vector<uint32_t> indices;
  // A page before compression, compressed, and its header.
  std::vector<uint8_t> page, packed, header;
};

class ColumnEncoder {
 public:
  ColumnEncoder(ColumnSpec spec, ColumnScratch& scratch);
  const ColumnSpec& spec() const { return spec_; }
  // Appends the column chunk for these slices (one row group) to out.
  ChunkMeta Encode(const std::vector<ArrowSlice>& slices, bool statistics, std::vector<uint8_t>& out);

 private:
  void Gather(const ArrowSlice& s);
  bool BuildDictionary();
  void Statistics(ChunkMeta& meta);
  void WritePage(int32_t page_type, int32_t encoding, size_t values, std::vector<uint8_t>& out, ChunkMeta& meta);
  void EncodeValues(size_t v0, size_t v1, bool dictionary, bool delta);

  ColumnSpec spec_;
  int max_def_, max_rep_;
  ColumnScratch& s_;
  int64_t rows_ = 0;
};
