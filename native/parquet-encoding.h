// Parquet's value encodings that are more than a copy: the RLE / bit-packed hybrid (definition and
// repetition levels, dictionary indices) and DELTA_BINARY_PACKED (timestamps).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <vector>

// Bits needed for values up to max (at least 1: some readers mishandle width 0).
int BitWidth(uint64_t max);

// Appends v[0..n) with `width` bits each, least significant bit first (the order both encodings use).
template <typename T>
void BitPack(const T* v, size_t n, int width, std::vector<uint8_t>& out);

// Appends v[0..n) (each < 2^width) as RLE / bit-packed hybrid runs, without a length prefix.
template <typename T>
void EncodeRleHybrid(const T* v, size_t n, int width, std::vector<uint8_t>& out);

// Appends v[0..n) as DELTA_BINARY_PACKED: blocks of 128 values in 4 miniblocks (arrow-rs's layout).
void EncodeDeltaBinaryPacked(const int64_t* v, size_t n, std::vector<uint8_t>& out);

void AppendVarint(std::vector<uint8_t>& out, uint64_t v);
