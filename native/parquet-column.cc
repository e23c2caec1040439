#include "parquet-column.h"

#include <string.h>

#include <algorithm>
#include <array>
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

// Bits [start, start + n) of an Arrow bitmap as one byte each (0 or 1), eight at a time where aligned.
void ExpandBits(const uint8_t* bits, uint64_t start, size_t n, uint8_t* out) {
  static const auto spread = [] {
    std::array<uint64_t, 256> table{};
    for (int v = 0; v < 256; v++)
      for (int j = 0; j < 8; j++) table[size_t(v)] |= uint64_t(v >> j & 1) << (8 * j);
    return table;
  }();
  size_t i = 0;
  for (; i < n && (start + i) % 8 != 0; i++) out[i] = bits[(start + i) >> 3] >> ((start + i) & 7) & 1;
  for (const uint8_t* b = bits + ((start + i) >> 3); i + 8 <= n; i += 8) memcpy(out + i, &spread[*b++], 8);
  for (; i < n; i++) out[i] = bits[(start + i) >> 3] >> ((start + i) & 7) & 1;
}

bool AllZero(const uint8_t* bits, uint64_t start, size_t n) {
  size_t i = 0;
  for (; i < n && (start + i) % 8 != 0; i++)
    if (bits[(start + i) >> 3] >> ((start + i) & 7) & 1) return false;
  for (const uint8_t* b = bits + ((start + i) >> 3); i + 8 <= n; i += 8)
    if (*b++) return false;
  for (; i < n; i++)
    if (bits[(start + i) >> 3] >> ((start + i) & 7) & 1) return false;
  return true;
}

// The strings of a utf8 array from row `from`, indexed like a pointer.
struct StringsAt {
  const ArrowArray& a;
  int64_t from;
  std::string_view operator[](size_t i) const { return StringAt(a, from + int64_t(i)); }
};

// Appends the `valid` values among v[0..n) whose level is 1 (all of them without levels). Mostly-null
// columns take the branch; the others a compaction without branches.
template <typename V, typename T>
void Take(const V& v, const uint8_t* levels, size_t n, size_t valid, std::vector<T>& out) {
  size_t at = out.size();
  if (!levels) {
    out.resize(at + n);
    for (size_t i = 0; i < n; i++) out[at + i] = T(v[i]);
  } else if (valid * 8 < n) {
    for (size_t i = 0; i < n; i++)
      if (levels[i]) out.push_back(T(v[i]));
  } else {
    out.resize(at + n);
    T* p = out.data() + at;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
      p[k] = T(v[i]);
      k += levels[i];
    }
    out.resize(at + k);
  }
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

ColumnEncoder::ColumnEncoder(ColumnSpec spec, ColumnScratch& scratch) : spec_(std::move(spec)), s_(scratch) {
  // argv: optional list (if nullable) > repeated group > optional item.
  max_def_ = spec_.kind == ColumnKind::kListUtf8 ? (spec_.nullable ? 3 : 2) : (spec_.nullable ? 1 : 0);
  max_rep_ = spec_.kind == ColumnKind::kListUtf8 ? 1 : 0;
}

void ColumnEncoder::Gather(const ArrowSlice& s) {
  const ArrowArray& a = s.array;
  const int64_t end = s.from + s.count;
  if (spec_.kind == ColumnKind::kListUtf8) {
    const uint8_t empty = spec_.nullable ? 1 : 0;
    if (spec_.nullable && a.validity && AllZero(a.validity, uint64_t(a.bit_offset + s.from), size_t(s.count))) {
      // No list in the slice (argv, on every row but an exec's): one null level each.
      for (int64_t k = 0; k < s.count; k++)
        if ((rows_ + k) % kPageRows == 0) s_.pages.emplace_back(s_.def.size() + size_t(k), s_.str.size());
      s_.def.insert(s_.def.end(), size_t(s.count), 0);
      s_.rep.insert(s_.rep.end(), size_t(s.count), 0);
      rows_ += s.count;
      return;
    }
    for (int64_t r = s.from; r < end; r++, rows_++) {
      if (rows_ % kPageRows == 0) s_.pages.emplace_back(s_.def.size(), s_.str.size());
      if (spec_.nullable && !Valid(a, r)) {
        s_.def.push_back(0);
        s_.rep.push_back(0);
        continue;
      }
      int32_t b = a.offsets[r], e = a.offsets[r + 1];
      if (b == e) {
        s_.def.push_back(empty);
        s_.rep.push_back(0);
      }
      for (int32_t j = b; j < e; j++) {
        s_.rep.push_back(j == b ? 0 : 1);
        bool valid = Valid(s.child, j);
        s_.def.push_back(valid ? uint8_t(max_def_) : uint8_t(empty + 1));
        if (valid) s_.str.push_back(StringAt(s.child, j));
      }
    }
    return;
  }
  // Flat columns: one level per row (pages are cut later, by row): the validity bits as bytes.
  rows_ += s.count;
  const size_t n = size_t(s.count);
  const bool all_valid = max_def_ == 0 || !a.validity;
  const uint8_t* levels = nullptr;
  size_t valid = n;
  if (max_def_ > 0) {
    size_t at = s_.def.size();
    s_.def.resize(at + n);
    uint8_t* d = s_.def.data() + at;
    if (all_valid) {
      memset(d, 1, n);
    } else {
      ExpandBits(a.validity, uint64_t(a.bit_offset + s.from), n, d);
      valid = size_t(std::count(d, d + n, 1));
    }
    levels = d;
  }
  if (valid == 0) return;
  switch (spec_.kind) {
    case ColumnKind::kInt64:
      Take(reinterpret_cast<const int64_t*>(a.values) + s.from, all_valid ? nullptr : levels, n, valid, s_.i64);
      break;
    case ColumnKind::kInt32:
      Take(reinterpret_cast<const int32_t*>(a.values) + s.from, all_valid ? nullptr : levels, n, valid, s_.i32);
      break;
    case ColumnKind::kInt16:
      Take(reinterpret_cast<const int16_t*>(a.values) + s.from, all_valid ? nullptr : levels, n, valid, s_.i32);
      break;
    default:
      Take(StringsAt{a, s.from}, all_valid ? nullptr : levels, n, valid, s_.str);
  }
}

void ColumnEncoder::EncodeValues(size_t v0, size_t v1, bool dictionary, bool delta) {
  size_t n = v1 - v0;
  if (dictionary) {
    size_t entries = spec_.kind == ColumnKind::kUtf8 ? s_.dict_str.size() : s_.dict_i32.size();
    int width = BitWidth(entries > 0 ? entries - 1 : 0);
    s_.page.push_back(uint8_t(width));
    EncodeRleHybrid(s_.indices.data() + v0, n, width, s_.page);
  } else if (delta) {
    EncodeDeltaBinaryPacked(s_.i64.data() + v0, n, s_.page);
  } else if (spec_.kind == ColumnKind::kInt64) {
    AppendPlain(s_.page, s_.i64.data() + v0, n);
  } else if (spec_.kind == ColumnKind::kInt32 || spec_.kind == ColumnKind::kInt16) {
    AppendPlain(s_.page, s_.i32.data() + v0, n);
  } else {
    AppendPlain(s_.page, s_.str.data() + v0, n);
  }
}

// Compresses s_.page and appends its header and bytes to out.
void ColumnEncoder::WritePage(int32_t page_type, int32_t encoding, size_t values, std::vector<uint8_t>& out,
                              ChunkMeta& meta) {
  s_.packed.resize(ZSTD_compressBound(s_.page.size()));
  size_t packed =
      ZSTD_compressCCtx(s_.zstd, s_.packed.data(), s_.packed.size(), s_.page.data(), s_.page.size(), kZstdLevel);
  if (ZSTD_isError(packed)) packed = 0;  // only when out of memory; the writer then reports it
  s_.header.clear();
  ThriftWriter t(s_.header);
  t.BeginElement();
  t.I32(1, page_type);
  t.I32(2, int32_t(s_.page.size()));
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
  out.insert(out.end(), s_.header.begin(), s_.header.end());
  out.insert(out.end(), s_.packed.begin(), s_.packed.begin() + ptrdiff_t(packed));
  meta.uncompressed += int64_t(s_.header.size() + s_.page.size());
  meta.compressed += int64_t(s_.header.size() + packed);
  if (packed == 0) meta.compressed = -1;
}

ChunkMeta ColumnEncoder::Encode(const std::vector<ArrowSlice>& slices, bool statistics, std::vector<uint8_t>& out) {
  s_.def.clear();
  s_.rep.clear();
  s_.i64.clear();
  s_.i32.clear();
  s_.str.clear();
  s_.pages.clear();
  rows_ = 0;
  for (const ArrowSlice& s : slices) Gather(s);
  const bool list = spec_.kind == ColumnKind::kListUtf8;
  const size_t levels = max_def_ > 0 ? s_.def.size() : size_t(rows_);
  const size_t values = list || spec_.kind == ColumnKind::kUtf8 ? s_.str.size()
                        : spec_.kind == ColumnKind::kInt64      ? s_.i64.size()
                                                                : s_.i32.size();
  if (!list) {
    // Flat pages start every kPageRows rows; their values after the non-null values before them.
    size_t v = 0;
    for (int64_t r = 0; r < rows_; r += kPageRows) {
      if (r > 0)
        v += max_def_ > 0 ? size_t(std::count(s_.def.begin() + (r - kPageRows), s_.def.begin() + r, 1)) : kPageRows;
      s_.pages.emplace_back(size_t(r), v);
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
    if (spec_.kind == ColumnKind::kUtf8) dictionary = Dictionary(s_.str, s_.dict_str, s_.indices);
    if (spec_.kind == ColumnKind::kInt32 || spec_.kind == ColumnKind::kInt16)
      dictionary = Dictionary(s_.i32, s_.dict_i32, s_.indices);
  }
  if (dictionary) {
    meta.encodings = {kPlain, kRle, kRleDictionary};
    meta.dictionary_page_offset = int64_t(out.size());
    s_.page.clear();
    size_t entries = spec_.kind == ColumnKind::kUtf8 ? s_.dict_str.size() : s_.dict_i32.size();
    if (spec_.kind == ColumnKind::kUtf8)
      AppendPlain(s_.page, s_.dict_str.data(), entries);
    else
      AppendPlain(s_.page, s_.dict_i32.data(), entries);
    WritePage(kDictionaryPage, kPlain, entries, out, meta);
  }
  const bool delta = !dictionary && spec_.encoding == ColumnEncoding::kDelta && spec_.kind == ColumnKind::kInt64;
  if (delta) meta.encodings = {kRle, kDeltaBinaryPacked};
  if (!dictionary && !delta) meta.encodings = {kPlain, kRle};
  meta.data_page_offset = int64_t(out.size());
  for (size_t p = 0; p < s_.pages.size(); p++) {
    auto [l0, v0] = s_.pages[p];
    auto [l1, v1] = p + 1 < s_.pages.size() ? s_.pages[p + 1] : std::make_pair(levels, values);
    s_.page.clear();
    for (auto* level : {&s_.rep, &s_.def}) {
      int max = level == &s_.rep ? max_rep_ : max_def_;
      if (max == 0) continue;
      // Data page v1: each level stream is prefixed by its byte length.
      size_t at = s_.page.size();
      s_.page.resize(at + 4);
      EncodeRleHybrid(level->data() + l0, l1 - l0, BitWidth(uint64_t(max)), s_.page);
      uint32_t length = uint32_t(s_.page.size() - at - 4);
      memcpy(s_.page.data() + at, &length, 4);
    }
    EncodeValues(v0, v1, dictionary, delta);
    WritePage(kDataPage, dictionary ? kRleDictionary : delta ? kDeltaBinaryPacked : kPlain, l1 - l0, out, meta);
  }
  if (statistics) {
    if (dictionary && spec_.kind == ColumnKind::kUtf8)
      MinMax(s_.dict_str.data(), s_.dict_str.size(), meta);
    else if (dictionary)
      MinMax(s_.dict_i32.data(), s_.dict_i32.size(), meta);
    else if (spec_.kind == ColumnKind::kInt64)
      MinMax(s_.i64.data(), s_.i64.size(), meta);
    else if (spec_.kind == ColumnKind::kInt32 || spec_.kind == ColumnKind::kInt16)
      MinMax(s_.i32.data(), s_.i32.size(), meta);
    else
      MinMax(s_.str.data(), s_.str.size(), meta);
  }
  return meta;
}
