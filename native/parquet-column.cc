#include "parquet-column.h"

#include <string.h>

#include <algorithm>
#include <functional>

#include "parquet-encoding.h"
#include "parquet-thrift.h"

namespace {

// Rows per data page: pages of a few hundred kB before compression, as arrow-rs's 1 MB limit gives.
constexpr int64_t kPageRows = 1 << 16;
// A dictionary is given up for plain values when it grows past this (arrow-rs's page limit) or has more
// entries than 16-bit indices hold: wider indices gain nothing over zstd-packed values.
constexpr size_t kMaxDictionaryBytes = 1 << 20;
constexpr size_t kMaxDictionaryEntries = 1 << 16;
constexpr int kZstdLevel = 1;  // arrow-rs's default

// Parquet enum values (parquet.thrift).
constexpr int32_t kInt32 = 1, kInt64 = 2, kByteArray = 6;
constexpr int32_t kPlain = 0, kRle = 3, kDeltaBinaryPacked = 5, kRleDictionary = 8;
constexpr int32_t kDataPage = 0, kDictionaryPage = 2;

bool Valid(const ArrowArray& a, int64_t i) {
  if (!a.validity) return true;
  uint64_t bit = uint64_t(a.bit_offset + i);
  return a.validity[bit >> 3] >> (bit & 7) & 1;
}

std::string_view StringAt(const ArrowArray& a, int64_t i) {
  return {reinterpret_cast<const char*>(a.values) + a.offsets[i], size_t(a.offsets[i + 1] - a.offsets[i])};
}

template <typename T>
void AppendPlain(std::vector<uint8_t>& out, const T* v, size_t n) {
  size_t at = out.size();
  out.resize(at + n * sizeof(T));
  if (n > 0) memcpy(out.data() + at, v, n * sizeof(T));
}

void AppendPlain(std::vector<uint8_t>& out, const std::string_view* v, size_t n) {
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++) bytes += 4 + v[i].size();
  size_t at = out.size();
  out.resize(at + bytes);
  uint8_t* p = out.data() + at;
  for (size_t i = 0; i < n; i++) {
    uint32_t len = uint32_t(v[i].size());
    memcpy(p, &len, 4);
    memcpy(p + 4, v[i].data(), len);
    p += 4 + len;
  }
}

size_t PlainSize(int32_t) { return 4; }
size_t PlainSize(std::string_view s) { return 4 + s.size(); }
size_t Hash(int32_t v) { return size_t((uint64_t(uint32_t(v)) * 0x9e3779b97f4a7c15ull) >> 29); }
size_t Hash(std::string_view s) { return std::hash<std::string_view>()(s); }

// The distinct values in order of first use and each value's index (open addressing, linear probing);
// false when the dictionary outgrows its limits.
template <typename K>
bool Dictionary(const std::vector<K>& values, std::vector<K>& dict, std::vector<uint32_t>& indices) {
  dict.clear();
  indices.resize(values.size());
  std::vector<int32_t> slots(1024, -1);
  size_t mask = slots.size() - 1, bytes = 0;
  for (size_t i = 0; i < values.size(); i++) {
    const K& v = values[i];
    // Runs of one value (a thread's syscalls) are the common case.
    if (i > 0 && v == values[i - 1]) {
      indices[i] = indices[i - 1];
      continue;
    }
    for (size_t h = Hash(v) & mask;; h = (h + 1) & mask) {
      int32_t slot = slots[h];
      if (slot >= 0 && dict[size_t(slot)] == v) {
        indices[i] = uint32_t(slot);
        break;
      }
      if (slot >= 0) continue;
      bytes += PlainSize(v);
      if (dict.size() >= kMaxDictionaryEntries || bytes > kMaxDictionaryBytes) return false;
      indices[i] = uint32_t(dict.size());
      slots[h] = int32_t(dict.size());
      dict.push_back(v);
      if (dict.size() * 2 > slots.size()) {
        slots.assign(slots.size() * 2, -1);
        mask = slots.size() - 1;
        for (size_t k = 0; k < dict.size(); k++) {
          size_t g = Hash(dict[k]) & mask;
          while (slots[g] >= 0) g = (g + 1) & mask;
          slots[g] = int32_t(k);
        }
      }
      break;
    }
  }
  return true;
}

template <typename T>
void MinMax(const T* v, size_t n, ChunkMeta& meta) {
  if (n == 0) return;
  auto [lo, hi] = std::minmax_element(v, v + n);
  meta.has_min_max = true;
  meta.min.assign(reinterpret_cast<const char*>(&*lo), sizeof(T));
  meta.max.assign(reinterpret_cast<const char*>(&*hi), sizeof(T));
}

// Strings compare as unsigned bytes (string_view's compare is memcmp).
void MinMax(const std::string_view* v, size_t n, ChunkMeta& meta) {
  if (n == 0) return;
  auto [lo, hi] = std::minmax_element(v, v + n);
  meta.has_min_max = true;
  meta.min.assign(*lo);
  meta.max.assign(*hi);
}

}  // namespace

ColumnEncoder::ColumnEncoder(ColumnSpec spec) : spec_(std::move(spec)), zstd_(ZSTD_createCCtx()) {
  // argv: optional list (if nullable) > repeated group > optional item.
  max_def_ = spec_.kind == ColumnKind::kListUtf8 ? (spec_.nullable ? 3 : 2) : (spec_.nullable ? 1 : 0);
  max_rep_ = spec_.kind == ColumnKind::kListUtf8 ? 1 : 0;
}

ColumnEncoder::~ColumnEncoder() { ZSTD_freeCCtx(zstd_); }

void ColumnEncoder::Gather(const ArrowSlice& s) {
  const ArrowArray& a = s.array;
  const int64_t end = s.from + s.count;
  if (spec_.kind == ColumnKind::kListUtf8) {
    const uint8_t empty = spec_.nullable ? 1 : 0;
    for (int64_t r = s.from; r < end; r++, rows_++) {
      if (rows_ % kPageRows == 0) pages_.emplace_back(def_.size(), str_.size());
      if (spec_.nullable && !Valid(a, r)) {
        def_.push_back(0);
        rep_.push_back(0);
        continue;
      }
      int32_t b = a.offsets[r], e = a.offsets[r + 1];
      if (b == e) {
        def_.push_back(empty);
        rep_.push_back(0);
      }
      for (int32_t j = b; j < e; j++) {
        rep_.push_back(j == b ? 0 : 1);
        bool valid = Valid(s.child, j);
        def_.push_back(valid ? uint8_t(max_def_) : uint8_t(empty + 1));
        if (valid) str_.push_back(StringAt(s.child, j));
      }
    }
    return;
  }
  // Flat columns: one level per row (pages are cut later, by row).
  rows_ += s.count;
  const bool all_valid = max_def_ == 0 || !a.validity;
  if (max_def_ > 0) {
    if (all_valid) {
      def_.insert(def_.end(), size_t(s.count), 1);
    } else {
      for (int64_t r = s.from; r < end; r++) def_.push_back(Valid(a, r));
    }
  }
  switch (spec_.kind) {
    case ColumnKind::kInt64: {
      auto* v = reinterpret_cast<const int64_t*>(a.values);
      if (all_valid) {
        i64_.insert(i64_.end(), v + s.from, v + end);
      } else {
        for (int64_t r = s.from; r < end; r++)
          if (Valid(a, r)) i64_.push_back(v[r]);
      }
      break;
    }
    case ColumnKind::kInt32: {
      auto* v = reinterpret_cast<const int32_t*>(a.values);
      if (all_valid) {
        i32_.insert(i32_.end(), v + s.from, v + end);
      } else {
        for (int64_t r = s.from; r < end; r++)
          if (Valid(a, r)) i32_.push_back(v[r]);
      }
      break;
    }
    case ColumnKind::kInt16: {
      auto* v = reinterpret_cast<const int16_t*>(a.values);
      for (int64_t r = s.from; r < end; r++)
        if (all_valid || Valid(a, r)) i32_.push_back(v[r]);
      break;
    }
    default:
      for (int64_t r = s.from; r < end; r++)
        if (all_valid || Valid(a, r)) str_.push_back(StringAt(a, r));
  }
}

void ColumnEncoder::EncodeValues(size_t v0, size_t v1, bool dictionary, bool delta) {
  size_t n = v1 - v0;
  if (dictionary) {
    size_t entries = spec_.kind == ColumnKind::kUtf8 ? dict_str_.size() : dict_i32_.size();
    int width = BitWidth(entries > 0 ? entries - 1 : 0);
    page_.push_back(uint8_t(width));
    EncodeRleHybrid(indices_.data() + v0, n, width, page_);
  } else if (delta) {
    EncodeDeltaBinaryPacked(i64_.data() + v0, n, page_);
  } else if (spec_.kind == ColumnKind::kInt64) {
    AppendPlain(page_, i64_.data() + v0, n);
  } else if (spec_.kind == ColumnKind::kInt32 || spec_.kind == ColumnKind::kInt16) {
    AppendPlain(page_, i32_.data() + v0, n);
  } else {
    AppendPlain(page_, str_.data() + v0, n);
  }
}

// Compresses page_ and appends its header and bytes to out.
void ColumnEncoder::WritePage(int32_t page_type, int32_t encoding, size_t values, std::vector<uint8_t>& out,
                              ChunkMeta& meta) {
  packed_.resize(ZSTD_compressBound(page_.size()));
  size_t packed = ZSTD_compressCCtx(zstd_, packed_.data(), packed_.size(), page_.data(), page_.size(), kZstdLevel);
  if (ZSTD_isError(packed)) packed = 0;  // only when out of memory; the writer then reports it
  header_.clear();
  ThriftWriter t(header_);
  t.BeginElement();
  t.I32(1, page_type);
  t.I32(2, int32_t(page_.size()));
  t.I32(3, int32_t(packed));
  if (page_type == kDictionaryPage) {
    t.BeginStruct(7);
    t.I32(1, int32_t(values));
    t.I32(2, encoding);
  } else {
    t.BeginStruct(5);
    t.I32(1, int32_t(values));
    t.I32(2, encoding);
    t.I32(3, kRle);
    t.I32(4, kRle);
  }
  t.EndStruct();
  t.EndStruct();
  out.insert(out.end(), header_.begin(), header_.end());
  out.insert(out.end(), packed_.begin(), packed_.begin() + ptrdiff_t(packed));
  meta.uncompressed += int64_t(header_.size() + page_.size());
  meta.compressed += int64_t(header_.size() + packed);
  if (packed == 0) meta.compressed = -1;
}

ChunkMeta ColumnEncoder::Encode(const std::vector<ArrowSlice>& slices, bool statistics, std::vector<uint8_t>& out) {
  def_.clear();
  rep_.clear();
  i64_.clear();
  i32_.clear();
  str_.clear();
  pages_.clear();
  rows_ = 0;
  for (const ArrowSlice& s : slices) Gather(s);
  const bool list = spec_.kind == ColumnKind::kListUtf8;
  const size_t levels = max_def_ > 0 ? def_.size() : size_t(rows_);
  const size_t values = list || spec_.kind == ColumnKind::kUtf8 ? str_.size()
                        : spec_.kind == ColumnKind::kInt64      ? i64_.size()
                                                                : i32_.size();
  if (!list) {
    // Flat pages start every kPageRows rows; their values after the non-null values before them.
    size_t v = 0;
    for (int64_t r = 0; r < rows_; r += kPageRows) {
      if (r > 0)
        v += max_def_ > 0 ? size_t(std::count(def_.begin() + (r - kPageRows), def_.begin() + r, 1)) : kPageRows;
      pages_.emplace_back(size_t(r), v);
    }
  }

  ChunkMeta meta;
  meta.physical_type = spec_.kind == ColumnKind::kInt64                                       ? kInt64
                       : spec_.kind == ColumnKind::kInt32 || spec_.kind == ColumnKind::kInt16 ? kInt32
                                                                                              : kByteArray;
  meta.num_values = int64_t(levels);
  meta.null_count = int64_t(levels - values);
  bool dictionary = false;
  if (spec_.encoding == ColumnEncoding::kDictionary) {
    if (spec_.kind == ColumnKind::kUtf8) dictionary = Dictionary(str_, dict_str_, indices_);
    if (spec_.kind == ColumnKind::kInt32 || spec_.kind == ColumnKind::kInt16)
      dictionary = Dictionary(i32_, dict_i32_, indices_);
  }
  if (dictionary) {
    meta.encodings = {kPlain, kRle, kRleDictionary};
    meta.dictionary_page_offset = int64_t(out.size());
    page_.clear();
    size_t entries = spec_.kind == ColumnKind::kUtf8 ? dict_str_.size() : dict_i32_.size();
    if (spec_.kind == ColumnKind::kUtf8)
      AppendPlain(page_, dict_str_.data(), entries);
    else
      AppendPlain(page_, dict_i32_.data(), entries);
    WritePage(kDictionaryPage, kPlain, entries, out, meta);
  }
  const bool delta = !dictionary && spec_.encoding == ColumnEncoding::kDelta && spec_.kind == ColumnKind::kInt64;
  if (delta) meta.encodings = {kRle, kDeltaBinaryPacked};
  if (!dictionary && !delta) meta.encodings = {kPlain, kRle};
  meta.data_page_offset = int64_t(out.size());
  for (size_t p = 0; p < pages_.size(); p++) {
    auto [l0, v0] = pages_[p];
    auto [l1, v1] = p + 1 < pages_.size() ? pages_[p + 1] : std::make_pair(levels, values);
    page_.clear();
    for (auto* level : {&rep_, &def_}) {
      int max = level == &rep_ ? max_rep_ : max_def_;
      if (max == 0) continue;
      // Data page v1: each level stream is prefixed by its byte length.
      size_t at = page_.size();
      page_.resize(at + 4);
      EncodeRleHybrid(level->data() + l0, l1 - l0, BitWidth(uint64_t(max)), page_);
      uint32_t length = uint32_t(page_.size() - at - 4);
      memcpy(page_.data() + at, &length, 4);
    }
    EncodeValues(v0, v1, dictionary, delta);
    WritePage(kDataPage, dictionary ? kRleDictionary : delta ? kDeltaBinaryPacked : kPlain, l1 - l0, out, meta);
  }
  if (statistics) {
    if (dictionary && spec_.kind == ColumnKind::kUtf8)
      MinMax(dict_str_.data(), dict_str_.size(), meta);
    else if (dictionary)
      MinMax(dict_i32_.data(), dict_i32_.size(), meta);
    else if (spec_.kind == ColumnKind::kInt64)
      MinMax(i64_.data(), i64_.size(), meta);
    else if (spec_.kind == ColumnKind::kInt32 || spec_.kind == ColumnKind::kInt16)
      MinMax(i32_.data(), i32_.size(), meta);
    else
      MinMax(str_.data(), str_.size(), meta);
  }
  return meta;
}
