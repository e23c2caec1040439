// The journal's messages are Arrow IPC stream messages: a schema message (written by apache-arrow, so read
// generically through its flatbuffer vtables), then record batches (laid out by native/arrow-ipc.cc). The
// `extra` JSON is parsed by a parser for exactly what ExtraJson (native/recording-batch.cc) writes; anything
// else is an error rather than a guess, since the two must give the same trace as JSON.parse (expand.ts).
#include "journal-reader.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "parquet-writer.h"
#include "recording-batch.h"

namespace {

constexpr uint32_t kContinuation = 0xffffffffu;
constexpr uint8_t kHeaderSchema = 1, kHeaderRecordBatch = 3;
constexpr uint8_t kTypeInt = 2, kTypeUtf8 = 5;

// Bounds-checked reads of a flatbuffer: a read outside it sets `bad` and gives 0.
struct Flat {
  const uint8_t* p;
  size_t n;
  bool bad = false;

  template <typename T>
  T Get(size_t at) {
    T v{};
    if (at > n || n - at < sizeof v) {
      bad = true;
      return v;
    }
    memcpy(&v, p + at, sizeof v);
    return v;
  }
  // Where field `id` of the table at `table` is, or 0 if absent.
  size_t Field(size_t table, int id) {
    int64_t vtable = int64_t(table) - Get<int32_t>(table);
    if (vtable < 0) return bad = true, 0;
    size_t slot = 4 + 2 * size_t(id);
    if (slot + 2 > Get<uint16_t>(size_t(vtable))) return 0;
    uint16_t at = Get<uint16_t>(size_t(vtable) + slot);
    return at ? table + at : 0;
  }
  template <typename T>
  T Scalar(size_t table, int id) {
    size_t at = Field(table, id);
    return at ? Get<T>(at) : T{};
  }
  // The table, vector or string that field `id` refers to, or 0 if absent.
  size_t Ref(size_t table, int id) {
    size_t at = Field(table, id);
    return at ? at + Get<uint32_t>(at) : 0;
  }
  // Element i of a vector of tables or strings.
  size_t Element(size_t vector, uint32_t i) {
    size_t at = vector + 4 + 4 * size_t(i);
    return at + Get<uint32_t>(at);
  }
  std::string String(size_t at) {
    uint32_t size = Get<uint32_t>(at);
    if (at + 4 > n || n - at - 4 < size) return bad = true, "";
    return std::string(reinterpret_cast<const char*>(p + at + 4), size);
  }
};

// A column built from the extras of a batch: validity, values (integers) or offsets and bytes (strings;
// lists: offsets into the child's strings).
struct Sparse {
  std::vector<uint8_t> bits, bytes;
  std::vector<int32_t> offsets, child_offsets;
  int64_t valid = 0;
  size_t next = 0;  // the first offset not written yet
};

// A value of one extra field, as its column takes it.
struct Value {
  bool set = false;
  int64_t number = 0;
  std::string text;
  std::vector<std::string> items;
};

// The JSON object of one row's extra, into values[k] for the column of specs[k] (the columns from extras).
class ExtraParser {
 public:
  ExtraParser(const char* p, size_t n, const std::vector<const ColumnSpec*>& specs, std::vector<Value>& values)
      : p_(p), end_(p + n), specs_(specs), values_(values) {}

  bool Parse(std::string* error) {
    for (Value& v : values_) v.set = false;
    bool ok = Object();
    if (ok && p_ != end_) ok = Fail("text after the object");
    if (!ok) *error = error_;
    return ok;
  }

 private:
  bool Fail(const std::string& what) {
    if (error_.empty()) error_ = what;
    return false;
  }
  void Space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) p_++;
  }
  bool Take(char c) {
    Space();
    if (p_ < end_ && *p_ == c) return ++p_, true;
    return false;
  }

  bool Object() {
    if (!Take('{')) return Fail("not an object");
    if (Take('}')) return true;
    do {
      std::string key;
      Space();
      if (!String(key)) return false;
      if (!Take(':')) return Fail("no ':' after \"" + key + "\"");
      size_t k = 0;
      while (k < specs_.size() && specs_[k]->name != key) k++;
      if (k == specs_.size()) return Fail("unknown field \"" + key + "\"");
      Value& v = values_[k];
      v.set = true;
      Space();
      switch (specs_[k]->kind) {
        case ColumnKind::kInt32:
        case ColumnKind::kInt16:
          if (!Integer(INT32_MIN, INT32_MAX, &v.number)) return Fail(key + " is not an int32 number");
          break;
        case ColumnKind::kInt64:
          // Int64 values are strings of digits (a JSON number would have rounded them).
          if (!String(v.text) || !Digits(v.text, &v.number)) return Fail(key + " is not an int64 string");
          break;
        case ColumnKind::kUtf8:
          if (!String(v.text)) return Fail(key + " is not a string");
          break;
        case ColumnKind::kListUtf8:
          if (!Strings(v.items)) return Fail(key + " is not an array of strings");
          break;
      }
    } while (Take(','));
    if (!Take('}')) return Fail("no '}' at the end");
    return true;
  }

  bool Strings(std::vector<std::string>& items) {
    items.clear();
    if (!Take('[')) return false;
    if (Take(']')) return true;
    do {
      Space();
      items.emplace_back();
      if (!String(items.back())) return false;
    } while (Take(','));
    return Take(']');
  }

  // A JSON number that is an integer within [lo, hi].
  bool Integer(int64_t lo, int64_t hi, int64_t* out) {
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') p_++;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0' && p_ + 1 < end_ && p_[1] >= '0' && p_[1] <= '9') return false;  // JSON has no leading zeros
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') p_++;
    if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    return Digits(std::string(start, p_), out) && *out >= lo && *out <= hi;
  }

  // "-?[0-9]+" within int64.
  static bool Digits(const std::string& s, int64_t* out) {
    size_t i = s.size() > 0 && s[0] == '-' ? 1 : 0;
    if (i == s.size()) return false;
    uint64_t v = 0, limit = i ? uint64_t(INT64_MAX) + 1 : uint64_t(INT64_MAX);
    for (; i < s.size(); i++) {
      if (s[i] < '0' || s[i] > '9') return false;
      unsigned d = unsigned(s[i] - '0');
      if (v > (limit - d) / 10) return false;
      v = v * 10 + d;
    }
    *out = s[0] == '-' ? int64_t(0 - v) : int64_t(v);
    return true;
  }

  static int Hex(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  }
  bool Hex4(uint32_t* out) {
    if (end_ - p_ < 4) return false;
    *out = 0;
    for (int k = 0; k < 4; k++) {
      int h = Hex(*p_++);
      if (h < 0) return false;
      *out = *out << 4 | uint32_t(h);
    }
    return true;
  }
  static void Utf8(uint32_t c, std::string& out) {
    if (c < 0x80) {
      out += char(c);
    } else if (c < 0x800) {
      out += char(0xc0 | c >> 6), out += char(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      out += char(0xe0 | c >> 12), out += char(0x80 | (c >> 6 & 0x3f)), out += char(0x80 | (c & 0x3f));
    } else {
      out += char(0xf0 | c >> 18), out += char(0x80 | (c >> 12 & 0x3f));
      out += char(0x80 | (c >> 6 & 0x3f)), out += char(0x80 | (c & 0x3f));
    }
  }

  // A JSON string's UTF-8 bytes (TextEncoder's bytes of JSON.parse's string).
  bool String(std::string& out) {
    out.clear();
    if (p_ == end_ || *p_ != '"') return Fail("expected a string");
    p_++;
    while (p_ < end_) {
      uint8_t c = uint8_t(*p_);
      if (c == '"') return ++p_, true;
      if (c < 0x20) return Fail("a control character in a string");
      if (c >= 0x80) {
        size_t len = Utf8SequenceLength(reinterpret_cast<const uint8_t*>(p_), size_t(end_ - p_));
        if (len == 0) return Fail("bytes that are not UTF-8");
        out.append(p_, len);
        p_ += len;
        continue;
      }
      p_++;
      if (c != '\\') {
        out += char(c);
        continue;
      }
      if (p_ == end_) break;
      char e = *p_++;
      uint32_t u;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u':
          if (!Hex4(&u)) return Fail("a bad \\u escape");
          if (u >= 0xd800 && u <= 0xdbff) {
            uint32_t low;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return Fail("a lone surrogate");
            p_ += 2;
            if (!Hex4(&low) || low < 0xdc00 || low > 0xdfff) return Fail("a lone surrogate");
            u = 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00);
          } else if (u >= 0xdc00 && u <= 0xdfff) {
            return Fail("a lone surrogate");
          }
          Utf8(u, out);
          break;
        default:
          return Fail("a bad escape");
      }
    }
    return Fail("an unterminated string");
  }

  const char* p_;
  const char* end_;
  const std::vector<const ColumnSpec*>& specs_;
  std::vector<Value>& values_;
  std::string error_;
};

bool IsValid(const ArrowArray& a, int64_t i) { return !a.validity || (a.validity[i >> 3] >> (i & 7) & 1); }

// Writes offsets up to row `row` (its start) at the current size.
void FillOffsets(std::vector<int32_t>& offsets, size_t& next, size_t row, size_t size) {
  for (; next <= row; next++) offsets[next] = int32_t(size);
}

}  // namespace

JournalReader::JournalReader(int fd, std::vector<ColumnSpec> columns, size_t chunk_bytes)
    : fd_(fd), columns_(std::move(columns)), chunk_bytes_(chunk_bytes) {}

bool JournalReader::Read(int64_t end, std::vector<std::shared_ptr<JournalBatch>>& out, std::string* error) {
  for (;;) {
    // Never past the file's end: a mapped page beyond it would fault (SIGBUS) rather than read short.
    struct stat st;
    if (fstat(fd_, &st) != 0) return *error = std::string("cannot read the journal: ") + strerror(errno), false;
    const int64_t left = std::min<int64_t>(end, st.st_size) - offset_;
    if (left < 8) return true;
    const size_t want = size_t(std::min<int64_t>(left, int64_t(std::max(chunk_bytes_, needed_))));
    // The chunk is mapped, not read: the columns point into the page cache, with no copy nor fresh pages.
    const int64_t page = offset_ & ~int64_t(sysconf(_SC_PAGESIZE) - 1);
    const size_t length = size_t(offset_ - page) + want;
    void* map = mmap(nullptr, length, PROT_READ, MAP_SHARED | MAP_POPULATE, fd_, off_t(page));
    if (map == MAP_FAILED) return *error = std::string("cannot map the journal: ") + strerror(errno), false;
    std::shared_ptr<const uint8_t> chunk(static_cast<const uint8_t*>(map) + (offset_ - page),
                                         [map, length](const uint8_t*) { munmap(map, length); });
    size_t at = 0;
    bool again = false;
    while (at + 8 <= want) {
      message_at_ = offset_ + int64_t(at);
      uint32_t marker;
      int32_t metadata_size;
      memcpy(&marker, chunk.get() + at, 4);
      memcpy(&metadata_size, chunk.get() + at + 4, 4);
      if (marker != kContinuation || metadata_size < 0)
        return *error = "corrupt Arrow IPC stream at byte " + std::to_string(message_at_), false;
      // 0: the end-of-stream marker.
      if (metadata_size == 0 || at + 8 + size_t(metadata_size) > want) break;
      const uint8_t* metadata = chunk.get() + at + 8;
      Flat f{metadata, size_t(metadata_size)};
      size_t message = f.Get<uint32_t>(0);
      uint8_t header_type = f.Scalar<uint8_t>(message, 1);
      int64_t body_size = f.Scalar<int64_t>(message, 3);
      if (f.bad || body_size < 0)
        return *error = "corrupt Arrow IPC message at byte " + std::to_string(message_at_), false;
      const size_t next = at + 8 + size_t(metadata_size) + size_t(body_size);
      if (next > want) {
        if (at == 0 && int64_t(next) <= left) {
          // A message larger than one chunk: read again, up to its end.
          needed_ = next;
          again = true;
        }
        break;
      }
      if (header_type == kHeaderSchema && fields_.empty()) {
        if (!ReadSchema(metadata, size_t(metadata_size), error)) return false;
      } else if (header_type == kHeaderRecordBatch) {
        if (fields_.empty()) return *error = "a record batch before the journal's schema", false;
        std::shared_ptr<JournalBatch> batch;
        if (!ReadBatch(metadata, size_t(metadata_size), metadata + metadata_size, size_t(body_size), batch, error))
          return false;
        if (batch) {
          batch->keep.push_back(chunk);
          rows_ += batch->rows;
          out.push_back(std::move(batch));
        }
      }
      at = next;
    }
    offset_ += int64_t(at);
    if (!again) return true;
  }
}

bool JournalReader::ReadSchema(const uint8_t* metadata, size_t size, std::string* error) {
  Flat f{metadata, size};
  size_t schema = f.Ref(f.Get<uint32_t>(0), 2);
  size_t list = schema ? f.Ref(schema, 1) : 0;
  uint32_t count = list ? f.Get<uint32_t>(list) : 0;
  std::vector<Field> fields;
  for (uint32_t i = 0; i < count && !f.bad; i++) {
    size_t field = f.Element(list, i);
    size_t name = f.Ref(field, 0), type = f.Ref(field, 3);
    uint8_t type_type = f.Scalar<uint8_t>(field, 2);
    const int bits = type_type == kTypeInt && type ? f.Scalar<int32_t>(type, 0) : 0;
    Field out{name ? f.String(name) : "", ColumnKind::kUtf8};
    if (type_type == kTypeInt && (bits == 16 || bits == 32 || bits == 64))
      out.kind = bits == 64 ? ColumnKind::kInt64 : bits == 32 ? ColumnKind::kInt32 : ColumnKind::kInt16;
    else if (type_type != kTypeUtf8)
      return *error = "the journal's column " + out.name + " is of an unknown type", false;
    fields.push_back(std::move(out));
  }
  if (f.bad || fields.empty()) return *error = "the journal's schema cannot be read", false;
  // Each trace column is the journal's column of that name (of the same type), or comes from `extra`.
  std::vector<int> source(columns_.size(), -1);
  std::vector<bool> used(fields.size(), false);
  for (size_t c = 0; c < columns_.size(); c++)
    for (size_t j = 0; j < fields.size(); j++) {
      if (fields[j].name != columns_[c].name) continue;
      if (fields[j].kind != columns_[c].kind)
        return *error = "the journal's column " + fields[j].name + " is not of the trace's type", false;
      source[c] = int(j);
      used[j] = true;
    }
  for (size_t j = 0; j < fields.size(); j++) {
    if (used[j]) continue;
    if (fields[j].name != "extra" || fields[j].kind != ColumnKind::kUtf8)
      return *error = "the journal has a column the trace does not: " + fields[j].name, false;
    extra_ = int(j);
  }
  fields_ = std::move(fields);
  source_ = std::move(source);
  return true;
}

bool JournalReader::ReadBatch(const uint8_t* metadata, size_t size, const uint8_t* body, size_t body_size,
                              std::shared_ptr<JournalBatch>& batch, std::string* error) {
  Flat f{metadata, size};
  size_t record_batch = f.Ref(f.Get<uint32_t>(0), 2);
  const int64_t rows = record_batch ? f.Scalar<int64_t>(record_batch, 0) : 0;
  const std::string where = " at byte " + std::to_string(message_at_);
  if (!record_batch || f.bad || rows < 0) return *error = "a record batch that cannot be read" + where, false;
  // Batches of no rows only carry metadata.
  if (rows == 0) return true;
  if (f.Ref(record_batch, 3) != 0) return *error = "a compressed record batch" + where, false;
  size_t nodes = f.Ref(record_batch, 1), buffers = f.Ref(record_batch, 2);
  size_t buffer_count = 0;
  for (const Field& field : fields_) buffer_count += field.kind == ColumnKind::kUtf8 ? 3 : 2;
  if (!nodes || !buffers || f.Get<uint32_t>(nodes) != fields_.size() || f.Get<uint32_t>(buffers) != buffer_count)
    return *error = "a record batch not of the journal's schema" + where, false;

  std::vector<ArrowArray> arrays(fields_.size());
  size_t b = 0;
  for (size_t j = 0; j < fields_.size(); j++) {
    const int64_t length = f.Get<int64_t>(nodes + 4 + 16 * j), nulls = f.Get<int64_t>(nodes + 12 + 16 * j);
    if (length != rows || nulls < 0 || nulls > rows) return *error = "a bad field node" + where, false;
    size_t sizes[3] = {};
    const uint8_t* data[3] = {};
    const bool utf8 = fields_[j].kind == ColumnKind::kUtf8;
    for (size_t k = 0; k < (utf8 ? 3u : 2u); k++, b++) {
      int64_t at = f.Get<int64_t>(buffers + 4 + 16 * b), bytes = f.Get<int64_t>(buffers + 12 + 16 * b);
      if (at < 0 || bytes < 0 || uint64_t(at) + uint64_t(bytes) > body_size)
        return *error = "a buffer outside its message" + where, false;
      data[k] = body + at;
      sizes[k] = size_t(bytes);
    }
    ArrowArray& a = arrays[j];
    if (nulls > 0) a.validity = data[0];
    if (nulls > 0 && sizes[0] == 0) return *error = "nulls without a validity bitmap" + where, false;
    a.values = utf8 ? data[2] : data[1];
    if (utf8) a.offsets = reinterpret_cast<const int32_t*>(data[1]);
    std::string bad;
    if (!CheckArray(fields_[j].kind, rows, a, sizes[0], utf8 ? sizes[2] : sizes[1], sizes[1], &bad))
      return *error = "the journal's column " + fields_[j].name + where + ": " + bad, false;
  }
  if (f.bad) return *error = "a record batch that cannot be read" + where, false;

  batch = std::make_shared<JournalBatch>();
  batch->rows = rows;
  batch->columns.resize(columns_.size());
  for (size_t c = 0; c < columns_.size(); c++) {
    batch->columns[c].from = 0;
    batch->columns[c].count = rows;
    if (source_[c] >= 0) batch->columns[c].array = arrays[size_t(source_[c])];
  }
  return Expand(extra_ >= 0 ? arrays[size_t(extra_)] : ArrowArray{}, *batch, error);
}

const uint8_t* JournalReader::Zeros(size_t bytes, JournalBatch& batch) {
  if (!zeros_ || zeros_->size() < bytes)
    zeros_ = std::make_shared<std::vector<uint8_t>>(std::max(bytes, size_t(1) << 20));
  batch.keep.push_back(zeros_);
  return zeros_->data();
}

bool JournalReader::Expand(const ArrowArray& extra, JournalBatch& batch, std::string* error) {
  const int64_t n = batch.rows;
  std::vector<size_t> targets;  // trace columns built from extras
  std::vector<const ColumnSpec*> specs;
  for (size_t c = 0; c < columns_.size(); c++)
    if (source_[c] < 0) targets.push_back(c), specs.push_back(&columns_[c]);
  // Rows with extras (their JSON is valid where the bitmap says so).
  std::vector<int64_t> rows;
  for (int64_t i = 0; extra.offsets && i < n; i++) {
    // A batch of syscalls has none: its bitmap is skipped a byte at a time.
    if (extra.validity && i % 8 == 0 && extra.validity[i >> 3] == 0) {
      i += 7;
      continue;
    }
    if (IsValid(extra, i)) rows.push_back(i);
  }
  if (rows.empty()) {
    // All null, in buffers of full size: a bitmap of zeros, zero offsets (the writer reads nothing else).
    const uint8_t* zeros = Zeros(size_t(8 * (n + 1)), batch);
    for (size_t c : targets) {
      ArrowArray& a = batch.columns[c].array;
      a.validity = zeros;
      a.values = zeros;
      a.offsets = reinterpret_cast<const int32_t*>(zeros);
      batch.columns[c].child = a;
    }
    return true;
  }

  auto sparse = std::make_shared<std::vector<Sparse>>(targets.size());
  for (size_t k = 0; k < targets.size(); k++) {
    Sparse& s = (*sparse)[k];
    s.bits.assign(size_t((n + 7) / 8), 0);
    switch (specs[k]->kind) {
      case ColumnKind::kInt64:
        s.bytes.assign(size_t(n) * 8, 0);
        break;
      case ColumnKind::kInt32:
        s.bytes.assign(size_t(n) * 4, 0);
        break;
      case ColumnKind::kInt16:
        s.bytes.assign(size_t(n) * 2, 0);
        break;
      case ColumnKind::kListUtf8:
        s.child_offsets.push_back(0);
        [[fallthrough]];
      case ColumnKind::kUtf8:
        s.offsets.assign(size_t(n) + 1, 0);
        break;
    }
  }
  std::vector<Value> values(targets.size());
  for (int64_t row : rows) {
    const char* json = reinterpret_cast<const char*>(extra.values) + extra.offsets[row];
    ExtraParser parser(json, size_t(extra.offsets[row + 1] - extra.offsets[row]), specs, values);
    std::string why;
    if (!parser.Parse(&why))
      return *error = "the extra of a row of the journal's batch at byte " + std::to_string(message_at_) + ": " + why,
             false;
    for (size_t k = 0; k < targets.size(); k++) {
      if (!values[k].set) continue;
      Sparse& s = (*sparse)[k];
      const Value& v = values[k];
      s.bits[size_t(row) >> 3] |= uint8_t(1u << (row & 7));
      s.valid++;
      switch (specs[k]->kind) {
        case ColumnKind::kInt64:
          memcpy(s.bytes.data() + 8 * size_t(row), &v.number, 8);
          break;
        case ColumnKind::kInt32: {
          int32_t x = int32_t(v.number);
          memcpy(s.bytes.data() + 4 * size_t(row), &x, 4);
          break;
        }
        case ColumnKind::kInt16: {
          // As an Int16Array stores a number: modulo 2^16.
          int16_t x = int16_t(uint16_t(v.number));
          memcpy(s.bytes.data() + 2 * size_t(row), &x, 2);
          break;
        }
        case ColumnKind::kUtf8:
          FillOffsets(s.offsets, s.next, size_t(row), s.bytes.size());
          s.bytes.insert(s.bytes.end(), v.text.begin(), v.text.end());
          break;
        case ColumnKind::kListUtf8:
          FillOffsets(s.offsets, s.next, size_t(row), s.child_offsets.size() - 1);
          for (const std::string& item : v.items) {
            s.bytes.insert(s.bytes.end(), item.begin(), item.end());
            s.child_offsets.push_back(int32_t(s.bytes.size()));
          }
          break;
      }
    }
  }
  for (size_t k = 0; k < targets.size(); k++) {
    Sparse& s = (*sparse)[k];
    ArrowSlice& slice = batch.columns[targets[k]];
    if (specs[k]->kind == ColumnKind::kUtf8) FillOffsets(s.offsets, s.next, size_t(n), s.bytes.size());
    if (specs[k]->kind == ColumnKind::kListUtf8) {
      FillOffsets(s.offsets, s.next, size_t(n), s.child_offsets.size() - 1);
      slice.child.values = s.bytes.data();
      slice.child.offsets = s.child_offsets.data();
    } else {
      slice.array.values = s.bytes.data();
    }
    if (!s.offsets.empty()) slice.array.offsets = s.offsets.data();
    slice.array.validity = s.valid < n ? s.bits.data() : nullptr;
  }
  batch.keep.push_back(sparse);
  return true;
}
