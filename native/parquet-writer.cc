// new ParquetWriter(columns, statistics): columns are { name, kind: 'int64' | 'int32' | 'int16' | 'utf8' |
// 'list<utf8>', nullable, encoding: 'plain' | 'dictionary' | 'delta' }.
//   rowGroup(rows, slices) -> Buffer: the next bytes of the file (the first call starts with PAR1); slices[c]
//     lists column c's Arrow arrays: { from, count, bitOffset, validity?, values?, offsets?, child? }.
//   finish(keyValueMetadata: [key, value][], createdBy) -> Buffer: the footer (and PAR1 if nothing came yet).
#include "parquet-writer.h"

#include <string.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "parquet-column.h"
#include "parquet-thrift.h"

namespace {

constexpr int32_t kByteArray = 6, kZstd = 6;
constexpr int32_t kRequired = 0, kOptional = 1, kRepeated = 2;
constexpr int32_t kConvertedUtf8 = 0, kConvertedList = 3, kConvertedInt16 = 16;
const char kMagic[] = "PAR1";

struct RowGroupMeta {
  int64_t rows, offset, uncompressed = 0, compressed = 0;
  std::vector<ChunkMeta> chunks;
};

struct View {
  const uint8_t* data = nullptr;
  size_t bytes = 0;
};

View ViewOf(Napi::Value value) {
  if (!value.IsTypedArray()) return {};
  auto array = value.As<Napi::TypedArray>();
  auto* base = static_cast<const uint8_t*>(array.ArrayBuffer().Data());
  return {base ? base + array.ByteOffset() : nullptr, array.ByteLength()};
}

// Reads one Arrow array of a slice and checks that rows [0, end) are inside its buffers (a bad slice must
// be an error, not a read past a buffer). Returns false (with *error set) if not.
bool ReadArray(Napi::Object o, ColumnKind kind, int64_t end, ArrowArray* a, std::string* error) {
  a->bit_offset = o.Has("bitOffset") ? o.Get("bitOffset").As<Napi::Number>().Int64Value() : 0;
  View validity = ViewOf(o.Get("validity")), values = ViewOf(o.Get("values")), offsets = ViewOf(o.Get("offsets"));
  if (validity.data && validity.bytes * 8 < uint64_t(a->bit_offset + end)) return *error = "validity too short", false;
  a->validity = validity.data;
  a->values = values.data;
  size_t width = kind == ColumnKind::kInt64 ? 8 : kind == ColumnKind::kInt32 ? 4 : kind == ColumnKind::kInt16 ? 2 : 0;
  if (width > 0) {
    if (values.bytes < width * size_t(end)) return *error = "values too short", false;
    return true;
  }
  if (offsets.bytes < 4 * size_t(end + 1)) return *error = "offsets too short", false;
  a->offsets = reinterpret_cast<const int32_t*>(offsets.data);
  // Offsets must rise within the values (strings) or the child (lists, checked by the caller).
  if (a->offsets[0] < 0) return *error = "bad offsets", false;
  for (int64_t i = 0; i < end; i++)
    if (a->offsets[i + 1] < a->offsets[i]) return *error = "bad offsets", false;
  if (kind == ColumnKind::kUtf8 && values.bytes < size_t(a->offsets[end])) return *error = "values too short", false;
  return true;
}

class ParquetWriterJs : public Napi::ObjectWrap<ParquetWriterJs> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "ParquetWriter",
        {InstanceMethod("rowGroup", &ParquetWriterJs::RowGroup), InstanceMethod("finish", &ParquetWriterJs::Finish)});
  }

  explicit ParquetWriterJs(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ParquetWriterJs>(info) {
    Napi::Array columns = info[0].As<Napi::Array>();
    statistics_ = info.Length() < 2 || info[1].ToBoolean();
    for (uint32_t i = 0; i < columns.Length(); i++) {
      Napi::Object c = columns.Get(i).As<Napi::Object>();
      std::string kind = c.Get("kind").As<Napi::String>(), encoding = c.Get("encoding").As<Napi::String>();
      ColumnSpec spec{c.Get("name").As<Napi::String>(), ColumnKind::kInt64, c.Get("nullable").ToBoolean(),
                      encoding == "dictionary" ? ColumnEncoding::kDictionary
                      : encoding == "delta"    ? ColumnEncoding::kDelta
                                               : ColumnEncoding::kPlain};
      if (kind == "int32") spec.kind = ColumnKind::kInt32;
      if (kind == "int16") spec.kind = ColumnKind::kInt16;
      if (kind == "utf8") spec.kind = ColumnKind::kUtf8;
      if (kind == "list<utf8>") spec.kind = ColumnKind::kListUtf8;
      columns_.push_back(std::make_unique<ColumnEncoder>(std::move(spec), scratch_));
    }
  }

 private:
  // Parses column c's slices of a row group of `rows` rows.
  bool ReadSlices(Napi::Array list, const ColumnSpec& spec, int64_t rows, std::vector<ArrowSlice>& slices,
                  std::string* error) {
    slices.clear();
    int64_t total = 0;
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Object o = list.Get(i).As<Napi::Object>();
      ArrowSlice s{
          o.Get("from").As<Napi::Number>().Int64Value(), o.Get("count").As<Napi::Number>().Int64Value(), {}, {}};
      if (s.from < 0 || s.count < 0) return *error = "bad slice", false;
      if (!ReadArray(o, spec.kind, s.from + s.count, &s.array, error)) return false;
      if (spec.kind == ColumnKind::kListUtf8) {
        if (!o.Get("child").IsObject()) return *error = "list without child", false;
        if (!ReadArray(o.Get("child").As<Napi::Object>(), ColumnKind::kUtf8, s.array.offsets[s.from + s.count],
                       &s.child, error))
          return false;
      }
      total += s.count;
      slices.push_back(s);
    }
    if (total != rows) return *error = "slices of " + spec.name + " do not add up to the row group", false;
    return true;
  }

  Napi::Value RowGroup(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int64_t rows = info[0].As<Napi::Number>().Int64Value();
    Napi::Array columns = info[1].As<Napi::Array>();
    if (columns.Length() != columns_.size()) {
      Napi::Error::New(env, "rowGroup: wrong number of columns").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    out_.clear();
    if (position_ == 0) out_.insert(out_.end(), kMagic, kMagic + 4);
    RowGroupMeta group{rows, position_ + int64_t(out_.size()), 0, 0, {}};
    std::vector<ArrowSlice> slices;
    for (size_t c = 0; c < columns_.size(); c++) {
      std::string error;
      if (!ReadSlices(columns.Get(uint32_t(c)).As<Napi::Array>(), columns_[c]->spec(), rows, slices, &error)) {
        Napi::Error::New(env, "rowGroup: " + error).ThrowAsJavaScriptException();
        return env.Undefined();
      }
      size_t start = out_.size();
      ChunkMeta chunk = columns_[c]->Encode(slices, statistics_, out_);
      if (chunk.compressed < 0) {
        Napi::Error::New(env, "rowGroup: zstd failed").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      // Offsets in the file: the chunk's bytes start at `start` of this call's bytes.
      int64_t base = position_;
      chunk.data_page_offset += base;
      if (chunk.dictionary_page_offset >= 0) chunk.dictionary_page_offset += base;
      group.uncompressed += chunk.uncompressed;
      group.compressed += int64_t(out_.size() - start);
      group.chunks.push_back(std::move(chunk));
    }
    row_groups_.push_back(std::move(group));
    position_ += int64_t(out_.size());
    return Napi::Buffer<uint8_t>::Copy(env, out_.data(), out_.size());
  }

  Napi::Value Finish(const Napi::CallbackInfo& info) {
    Napi::Array pairs = info[0].As<Napi::Array>();
    std::string created_by = info[1].As<Napi::String>();
    std::vector<std::pair<std::string, std::string>> metadata;
    for (uint32_t i = 0; i < pairs.Length(); i++) {
      Napi::Array kv = pairs.Get(i).As<Napi::Array>();
      metadata.emplace_back(kv.Get(0u).As<Napi::String>(), kv.Get(1u).As<Napi::String>());
    }
    out_.clear();
    if (position_ == 0) out_.insert(out_.end(), kMagic, kMagic + 4);
    size_t footer = out_.size();
    WriteFileMetaData(metadata, created_by);
    uint32_t length = uint32_t(out_.size() - footer);
    out_.resize(out_.size() + 4);
    memcpy(out_.data() + out_.size() - 4, &length, 4);
    out_.insert(out_.end(), kMagic, kMagic + 4);
    return Napi::Buffer<uint8_t>::Copy(info.Env(), out_.data(), out_.size());
  }

  // The schema as arrow-rs writes it for an Arrow schema: a root, then each column; a list as the standard
  // three levels (optional group argv (LIST) { repeated group list { optional binary item (STRING) } }).
  void WriteSchema(ThriftWriter& t) {
    size_t elements = 1;
    for (auto& c : columns_) elements += c->spec().kind == ColumnKind::kListUtf8 ? 3 : 1;
    t.BeginList(2, ThriftWriter::kStruct, elements);
    t.BeginElement();
    t.Binary(4, "arrow_schema");
    t.I32(5, int32_t(columns_.size()));
    t.EndStruct();
    auto string_type = [&t] {
      t.I32(6, kConvertedUtf8);
      t.BeginStruct(10);
      t.BeginStruct(1);  // LogicalType.STRING
      t.EndStruct();
      t.EndStruct();
    };
    for (auto& c : columns_) {
      const ColumnSpec& s = c->spec();
      t.BeginElement();
      if (s.kind == ColumnKind::kListUtf8) {
        t.I32(3, s.nullable ? kOptional : kRequired);
        t.Binary(4, s.name);
        t.I32(5, 1);
        t.I32(6, kConvertedList);
        t.BeginStruct(10);
        t.BeginStruct(3);  // LogicalType.LIST
        t.EndStruct();
        t.EndStruct();
        t.EndStruct();
        t.BeginElement();
        t.I32(3, kRepeated);
        t.Binary(4, "list");
        t.I32(5, 1);
        t.EndStruct();
        t.BeginElement();
        t.I32(1, kByteArray);
        t.I32(3, kOptional);
        t.Binary(4, "item");
        string_type();
        t.EndStruct();
        continue;
      }
      t.I32(1, s.kind == ColumnKind::kInt64 ? 2 : s.kind == ColumnKind::kUtf8 ? kByteArray : 1);
      t.I32(3, s.nullable ? kOptional : kRequired);
      t.Binary(4, s.name);
      if (s.kind == ColumnKind::kUtf8) string_type();
      if (s.kind == ColumnKind::kInt16) {
        t.I32(6, kConvertedInt16);
        t.BeginStruct(10);
        t.BeginStruct(10);  // LogicalType.INTEGER
        t.I8(1, 16);
        t.Bool(2, true);
        t.EndStruct();
        t.EndStruct();
      }
      t.EndStruct();
    }
  }

  void WriteColumnChunk(ThriftWriter& t, const ColumnSpec& spec, const ChunkMeta& c) {
    t.BeginElement();
    int64_t start = c.dictionary_page_offset >= 0 ? c.dictionary_page_offset : c.data_page_offset;
    t.I64(2, start);
    t.BeginStruct(3);
    t.I32(1, c.physical_type);
    t.BeginList(2, ThriftWriter::kI32, c.encodings.size());
    for (int32_t e : c.encodings) t.ListI32(e);
    bool list = spec.kind == ColumnKind::kListUtf8;
    t.BeginList(3, ThriftWriter::kBinary, list ? 3 : 1);
    t.RawBinary(spec.name);
    if (list) {
      t.RawBinary("list");
      t.RawBinary("item");
    }
    t.I32(4, kZstd);
    t.I64(5, c.num_values);
    t.I64(6, c.uncompressed);
    t.I64(7, c.compressed);
    t.I64(9, c.data_page_offset);
    if (c.dictionary_page_offset >= 0) t.I64(11, c.dictionary_page_offset);
    if (statistics_) {
      t.BeginStruct(12);
      t.I64(3, c.null_count);
      if (c.has_min_max) {
        t.Binary(5, c.max);
        t.Binary(6, c.min);
        t.Bool(7, true);
        t.Bool(8, true);
      }
      t.EndStruct();
    }
    t.EndStruct();
    t.EndStruct();
  }

  void WriteFileMetaData(const std::vector<std::pair<std::string, std::string>>& metadata,
                         const std::string& created_by) {
    ThriftWriter t(out_);
    t.BeginElement();
    t.I32(1, 1);
    WriteSchema(t);
    int64_t rows = 0;
    for (auto& g : row_groups_) rows += g.rows;
    t.I64(3, rows);
    t.BeginList(4, ThriftWriter::kStruct, row_groups_.size());
    for (auto& g : row_groups_) {
      t.BeginElement();
      t.BeginList(1, ThriftWriter::kStruct, g.chunks.size());
      for (size_t c = 0; c < g.chunks.size(); c++) WriteColumnChunk(t, columns_[c]->spec(), g.chunks[c]);
      t.I64(2, g.uncompressed);
      t.I64(3, g.rows);
      t.I64(5, g.offset);
      t.I64(6, g.compressed);
      t.EndStruct();
    }
    t.BeginList(5, ThriftWriter::kStruct, metadata.size());
    for (auto& [key, value] : metadata) {
      t.BeginElement();
      t.Binary(1, key);
      t.Binary(2, value);
      t.EndStruct();
    }
    t.Binary(6, created_by);
    // Min/max are in each type's own order (signed integers, unsigned bytes): TypeDefinedOrder, per leaf.
    t.BeginList(7, ThriftWriter::kStruct, columns_.size());
    for (size_t c = 0; c < columns_.size(); c++) {
      t.BeginElement();
      t.BeginStruct(1);
      t.EndStruct();
      t.EndStruct();
    }
    t.EndStruct();
  }

  ColumnScratch scratch_;
  std::vector<std::unique_ptr<ColumnEncoder>> columns_;
  bool statistics_ = true;
  int64_t position_ = 0;
  std::vector<RowGroupMeta> row_groups_;
  std::vector<uint8_t> out_;
};

}  // namespace

void InitParquetWriter(Napi::Env env, Napi::Object exports) {
  exports.Set("ParquetWriter", ParquetWriterJs::Define(env));
}
