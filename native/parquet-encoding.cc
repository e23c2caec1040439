#include "parquet-encoding.h"

#include <string.h>

#include <algorithm>
#include <climits>

int BitWidth(uint64_t max) { return max == 0 ? 1 : 64 - __builtin_clzll(max); }

void AppendVarint(std::vector<uint8_t>& out, uint64_t v) {
  for (; v >= 0x80; v >>= 7) out.push_back(uint8_t(v) | 0x80);
  out.push_back(uint8_t(v));
}

template <typename T>
void BitPack(const T* v, size_t n, int width, std::vector<uint8_t>& out) {
  size_t at = out.size();
  out.resize(at + (n * size_t(width) + 7) / 8 + 8);  // 8 spare bytes: whole words are stored
  uint8_t* p = out.data() + at;
  // 128 bits of room: up to 63 pending bits plus one value of up to 64 bits.
  unsigned __int128 pending = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    pending |= static_cast<unsigned __int128>(uint64_t(v[i])) << bits;
    bits += width;
    if (bits >= 64) {
      uint64_t word = uint64_t(pending);
      memcpy(p, &word, 8);
      p += 8;
      pending >>= 64;
      bits -= 64;
    }
  }
  uint64_t word = uint64_t(pending);
  memcpy(p, &word, 8);
  out.resize(at + (n * size_t(width) + 7) / 8);
}

namespace {

template <typename T>
void Literals(const T* v, size_t n, int width, std::vector<uint8_t>& out) {
  if (n == 0) return;
  size_t groups = (n + 7) / 8;
  AppendVarint(out, uint64_t(groups) << 1 | 1);
  size_t whole = n & ~size_t(7);
  BitPack(v, whole, width, out);
  if (whole < n) {
    // Only the stream's last run may be padded (readers know how many values there are).
    T last[8] = {};
    std::copy(v + whole, v + n, last);
    BitPack(last, 8, width, out);
  }
}

template <typename T>
void Repeated(T value, size_t count, int width, std::vector<uint8_t>& out) {
  AppendVarint(out, uint64_t(count) << 1);
  uint64_t x = uint64_t(value);
  for (int b = 0; b < (width + 7) / 8; b++) out.push_back(uint8_t(x >> (8 * b)));
}

}  // namespace

template <typename T>
void EncodeRleHybrid(const T* v, size_t n, int width, std::vector<uint8_t>& out) {
  // Runs of 8 or more equal values are RLE runs; everything between them is bit-packed in groups of 8, so
  // a literal stretch is first made whole by taking values from the run that ends it.
  size_t literal = 0, i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && v[j] == v[i]) j++;
    if (j - i >= 8) {
      size_t pad = (8 - (i - literal) % 8) % 8;
      if (j - i - pad >= 8) {
        Literals(v + literal, i + pad - literal, width, out);
        Repeated(v[i], j - i - pad, width, out);
        literal = j;
      }
    }
    i = j;
  }
  Literals(v + literal, n - literal, width, out);
}

void EncodeDeltaBinaryPacked(const int64_t* v, size_t n, std::vector<uint8_t>& out) {
  constexpr size_t kBlock = 128, kMiniblocks = 4, kMiniblock = kBlock / kMiniblocks;
  auto zigzag = [](int64_t x) { return (uint64_t(x) << 1) ^ uint64_t(x >> 63); };
  AppendVarint(out, kBlock);
  AppendVarint(out, kMiniblocks);
  AppendVarint(out, n);
  AppendVarint(out, zigzag(n > 0 ? v[0] : 0));
  uint64_t deltas[kBlock];
  for (size_t from = 1; from < n; from += kBlock) {
    size_t m = std::min(kBlock, n - from);
    // Deltas wrap as unsigned 64-bit values do; readers undo them the same way.
    int64_t min_delta = INT64_MAX;
    for (size_t k = 0; k < m; k++) {
      int64_t d = int64_t(uint64_t(v[from + k]) - uint64_t(v[from + k - 1]));
      deltas[k] = uint64_t(d);
      min_delta = std::min(min_delta, d);
    }
    for (size_t k = 0; k < m; k++) deltas[k] -= uint64_t(min_delta);
    std::fill(deltas + m, deltas + kBlock, 0);
    AppendVarint(out, zigzag(min_delta));
    int widths[kMiniblocks];
    for (size_t b = 0; b < kMiniblocks; b++) {
      uint64_t max = 0;
      for (size_t k = b * kMiniblock; k < (b + 1) * kMiniblock; k++) max |= deltas[k];
      // Miniblocks past the last value are not written; their width says 0.
      widths[b] = b * kMiniblock < m ? (max == 0 ? 0 : 64 - __builtin_clzll(max)) : 0;
      out.push_back(uint8_t(widths[b]));
    }
    for (size_t b = 0; b < kMiniblocks && b * kMiniblock < m; b++)
      if (widths[b] > 0) BitPack(deltas + b * kMiniblock, kMiniblock, widths[b], out);
  }
}

template void BitPack<uint8_t>(const uint8_t*, size_t, int, std::vector<uint8_t>&);
template void BitPack<uint32_t>(const uint32_t*, size_t, int, std::vector<uint8_t>&);
template void BitPack<uint64_t>(const uint64_t*, size_t, int, std::vector<uint8_t>&);
template void EncodeRleHybrid<uint8_t>(const uint8_t*, size_t, int, std::vector<uint8_t>&);
template void EncodeRleHybrid<uint32_t>(const uint32_t*, size_t, int, std::vector<uint8_t>&);
