// Thrift compact protocol, write side only: Parquet's page headers and footer (FileMetaData) are Thrift
// structs in this encoding. Just what gpo's writer needs: i8/i32/i64 fields, booleans, binaries, lists and
// nested structs (src/trace/parquet-footer.ts is the matching reader).
#pragma once
#include <stdint.h>

#include <string_view>
#include <vector>

class ThriftWriter {
 public:
  explicit ThriftWriter(std::vector<uint8_t>& out) : out_(out) {}

  // Compact type ids.
  static constexpr uint8_t kI8 = 3, kI32 = 5, kI64 = 6, kBinary = 8, kList = 9, kStruct = 12;

  void I8(int16_t id, int8_t v) {
    Field(id, kI8);
    out_.push_back(uint8_t(v));
  }
  void I32(int16_t id, int32_t v) {
    Field(id, kI32);
    Varint(Zigzag(v));
  }
  void I64(int16_t id, int64_t v) {
    Field(id, kI64);
    Varint(Zigzag(v));
  }
  // A boolean field's value is its type id (1 true, 2 false).
  void Bool(int16_t id, bool v) { Field(id, v ? 1 : 2); }
  void Binary(int16_t id, std::string_view s) {
    Field(id, kBinary);
    RawBinary(s);
  }
  void BeginStruct(int16_t id) {
    Field(id, kStruct);
    BeginElement();
  }
  // A struct that is a list element (or the top-level struct): no field header.
  void BeginElement() {
    stack_.push_back(last_);
    last_ = 0;
  }
  void EndStruct() {
    out_.push_back(0);
    last_ = stack_.back();
    stack_.pop_back();
  }
  void BeginList(int16_t id, uint8_t element_type, size_t size) {
    Field(id, kList);
    if (size < 15) {
      out_.push_back(uint8_t(size << 4 | element_type));
    } else {
      out_.push_back(uint8_t(0xf0 | element_type));
      Varint(size);
    }
  }
  void ListI32(int32_t v) { Varint(Zigzag(v)); }
  void RawBinary(std::string_view s) {
    Varint(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }

 private:
  static uint64_t Zigzag(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }
  void Varint(uint64_t v) {
    for (; v >= 0x80; v >>= 7) out_.push_back(uint8_t(v) | 0x80);
    out_.push_back(uint8_t(v));
  }
  // Field ids rising by 1..15 fit the type's byte; others follow it as a zigzag varint.
  void Field(int16_t id, uint8_t type) {
    int delta = id - last_;
    if (delta > 0 && delta <= 15) {
      out_.push_back(uint8_t(delta << 4 | type));
    } else {
      out_.push_back(type);
      Varint(Zigzag(id));
    }
    last_ = id;
  }

  std::vector<uint8_t>& out_;
  int16_t last_ = 0;
  std::vector<int16_t> stack_;
};
