// new ParquetWriter(columns, statistics): columns are { name, kind: 'int64' | 'int32' | 'int16' | 'utf8' |
// 'list<utf8>', nullable, encoding: 'plain' | 'dictionary' | 'delta' }.
//   rowGroup(rows, slices) -> Buffer: the next bytes of the file (the first call starts with PAR1); slices[c]
//     lists column c's Arrow arrays: { from, count, bitOffset, validity?, values?, offsets?, child? }.
//   finish(keyValueMetadata: [key, value][], createdBy) -> Buffer: the footer (and PAR1 if nothing came yet).
#include "parquet-writer.h"

#include <string.h>

#include "parquet-thrift.h"

namespace {

constexpr int32_t kByteArray = 6, kZstd = 6;
constexpr int32_t kRequired = 0, kOptional = 1, kRepeated = 2;
constexpr int32_t kConvertedUtf8 = 0, kConvertedList = 3, kConvertedInt16 = 16;
const char kMagic[] = "PAR1";

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

// Reads one Arrow array of a slice and checks rows [0, end) of it.
bool ReadArray(Napi::Object o, ColumnKind kind, int64_t end, ArrowArray* a, std::string* error) {
  a->bit_offset = o.Has("bitOffset") ? o.Get("bitOffset").As<Napi::Number>().Int64Value() : 0;
  View validity = ViewOf(o.Get("validity")), values = ViewOf(o.Get("values")), offsets = ViewOf(o.Get("offsets"));
  a->validity = validity.data;
  a->values = values.data;
  a->offsets = reinterpret_cast<const int32_t*>(offsets.data);
  return CheckArray(kind, end, *a, validity.bytes, values.bytes, offsets.bytes, error);
}

// Parses a column's slices of a row group of `rows` rows.
bool ReadSlices(Napi::Array list, const ColumnSpec& spec, int64_t rows, std::vector<ArrowSlice>& slices,
                std::string* error) {
  slices.clear();
  int64_t total = 0;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Object o = list.Get(i).As<Napi::Object>();
    ArrowSlice s{o.Get("from").As<Napi::Number>().Int64Value(), o.Get("count").As<Napi::Number>().Int64Value(), {}, {}};
    if (s.from < 0 || s.count < 0) return *error = "bad slice", false;
    if (!ReadArray(o, spec.kind, s.from + s.count, &s.array, error)) return false;
    if (spec.kind == ColumnKind::kListUtf8) {
      if (!o.Get("child").IsObject()) return *error = "list without child", false;
      if (!ReadArray(o.Get("child").As<Napi::Object>(), ColumnKind::kUtf8, s.array.offsets[s.from + s.count], &s.child,
                     error))
        return false;
    }
    total += s.count;
    slices.push_back(s);
  }
  if (total != rows) return *error = "slices of " + spec.name + " do not add up to the row group", false;
  return true;
}

class ParquetWriterJs : public Napi::ObjectWrap<ParquetWriterJs> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "ParquetWriter",
        {InstanceMethod("rowGroup", &ParquetWriterJs::RowGroup), InstanceMethod("finish", &ParquetWriterJs::Finish)});
  }

  explicit ParquetWriterJs(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<ParquetWriterJs>(info),
        file_(SpecsOf(info[0].As<Napi::Array>()), info.Length() < 2 || info[1].ToBoolean()) {}

 private:
  static std::vector<ColumnSpec> SpecsOf(Napi::Array columns) {
    std::vector<ColumnSpec> specs;
    for (uint32_t i = 0; i < columns.Length(); i++) specs.push_back(ColumnSpecOf(columns.Get(i).As<Napi::Object>()));
    return specs;
  }

  Napi::Value RowGroup(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int64_t rows = info[0].As<Napi::Number>().Int64Value();
    Napi::Array columns = info[1].As<Napi::Array>();
    std::string error;
    if (columns.Length() != file_.columns()) error = "wrong number of columns";
    std::vector<std::vector<ArrowSlice>> slices(file_.columns());
    for (size_t c = 0; c < file_.columns() && error.empty(); c++)
      ReadSlices(columns.Get(uint32_t(c)).As<Napi::Array>(), file_.spec(c), rows, slices[c], &error);
    out_.clear();
    if (error.empty()) file_.RowGroup(rows, slices, out_, &error);
    if (!error.empty()) {
      Napi::Error::New(env, "rowGroup: " + error).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Buffer<uint8_t>::Copy(env, out_.data(), out_.size());
  }

  Napi::Value Finish(const Napi::CallbackInfo& info) {
    out_.clear();
    file_.Finish(KeyValuesOf(info[0].As<Napi::Array>()), info[1].As<Napi::String>(), out_);
    return Napi::Buffer<uint8_t>::Copy(info.Env(), out_.data(), out_.size());
  }

  ParquetFileWriter file_;
  std::vector<uint8_t> out_;
};

}  // namespace

bool CheckArray(ColumnKind kind, int64_t end, const ArrowArray& a, size_t validity_bytes, size_t values_bytes,
                size_t offsets_bytes, std::string* error) {
  if (a.validity && validity_bytes * 8 < uint64_t(a.bit_offset + end)) return *error = "validity too short", false;
  size_t width = kind == ColumnKind::kInt64 ? 8 : kind == ColumnKind::kInt32 ? 4 : kind == ColumnKind::kInt16 ? 2 : 0;
  if (width > 0) {
    if (values_bytes < width * size_t(end)) return *error = "values too short", false;
    return true;
  }
  if (offsets_bytes < 4 * size_t(end + 1)) return *error = "offsets too short", false;
  // Offsets must rise within the values (strings) or the child (lists, checked by the caller).
  if (a.offsets[0] < 0) return *error = "bad offsets", false;
  for (int64_t i = 0; i < end; i++)
    if (a.offsets[i + 1] < a.offsets[i]) return *error = "bad offsets", false;
  if (kind == ColumnKind::kUtf8 && values_bytes < size_t(a.offsets[end])) return *error = "values too short", false;
  return true;
}

ColumnSpec ColumnSpecOf(Napi::Object c) {
  std::string kind = c.Get("kind").As<Napi::String>(), encoding = c.Get("encoding").As<Napi::String>();
  ColumnSpec spec{c.Get("name").As<Napi::String>(), ColumnKind::kInt64, c.Get("nullable").ToBoolean(),
                  encoding == "dictionary" ? ColumnEncoding::kDictionary
                  : encoding == "delta"    ? ColumnEncoding::kDelta
                                           : ColumnEncoding::kPlain};
  if (kind == "int32") spec.kind = ColumnKind::kInt32;
  if (kind == "int16") spec.kind = ColumnKind::kInt16;
  if (kind == "utf8") spec.kind = ColumnKind::kUtf8;
  if (kind == "list<utf8>") spec.kind = ColumnKind::kListUtf8;
  return spec;
}

std::vector<std::pair<std::string, std::string>> KeyValuesOf(Napi::Array pairs) {
  std::vector<std::pair<std::string, std::string>> metadata;
  for (uint32_t i = 0; i < pairs.Length(); i++) {
    Napi::Array kv = pairs.Get(i).As<Napi::Array>();
    metadata.emplace_back(kv.Get(0u).As<Napi::String>(), kv.Get(1u).As<Napi::String>());
  }
  return metadata;
}

ParquetFileWriter::ParquetFileWriter(const std::vector<ColumnSpec>& columns, bool statistics)
    : statistics_(statistics) {
  for (const ColumnSpec& spec : columns) columns_.push_back(std::make_unique<ColumnEncoder>(spec, scratch_));
}

bool ParquetFileWriter::RowGroup(int64_t rows, const std::vector<std::vector<ArrowSlice>>& slices,
                                 std::vector<uint8_t>& out, std::string* error) {
  const size_t first = out.size();
  if (position_ == 0) out.insert(out.end(), kMagic, kMagic + 4);
  RowGroupMeta group{rows, position_ + int64_t(out.size() - first), 0, 0, {}};
  for (size_t c = 0; c < columns_.size(); c++) {
    size_t start = out.size();
    ChunkMeta chunk = columns_[c]->Encode(slices[c], statistics_, out);
    if (chunk.compressed < 0) return *error = "zstd failed", false;
    // The chunk's offsets are from the start of out; in the file, out[first] is at position_.
    int64_t base = position_ - int64_t(first);
    chunk.data_page_offset += base;
    if (chunk.dictionary_page_offset >= 0) chunk.dictionary_page_offset += base;
    group.uncompressed += chunk.uncompressed;
    group.compressed += int64_t(out.size() - start);
    group.chunks.push_back(std::move(chunk));
  }
  row_groups_.push_back(std::move(group));
  position_ += int64_t(out.size() - first);
  return true;
}

void ParquetFileWriter::Finish(const std::vector<std::pair<std::string, std::string>>& metadata,
                               const std::string& created_by, std::vector<uint8_t>& out) {
  if (position_ == 0) out.insert(out.end(), kMagic, kMagic + 4);
  size_t footer = out.size();
  ThriftWriter t(out);
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
  uint32_t length = uint32_t(out.size() - footer);
  out.resize(out.size() + 4);
  memcpy(out.data() + out.size() - 4, &length, 4);
  out.insert(out.end(), kMagic, kMagic + 4);
}

// The schema as arrow-rs writes it for an Arrow schema: a root, then each column; a list as the standard
// three levels (optional group argv (LIST) { repeated group list { optional binary item (STRING) } }).
void ParquetFileWriter::WriteSchema(ThriftWriter& t) {
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

void ParquetFileWriter::WriteColumnChunk(ThriftWriter& t, const ColumnSpec& spec, const ChunkMeta& c) {
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

void InitParquetWriter(Napi::Env env, Napi::Object exports) {
  exports.Set("ParquetWriter", ParquetWriterJs::Define(env));
}
