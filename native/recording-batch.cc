// Encodes recording batches as Arrow columns: the comm and kind strings are expanded from their tables,
// nr/ret/duration get validity bitmaps only when the batch holds rare rows, and rare rows' fields become
// one JSON object each in the `extra` column (expanded to full columns when the trace is read).
#include "recording-batch.h"

#include <linux/types.h>
#include <string.h>

#include "arrow-ipc.h"

extern "C" {
#include "gpo.h"
}

namespace {

const char* const kRowKindNames[GPO_KIND_COUNT] = {
    "syscall",   "fork",        "thread",       "exec",           "exit",      "rename",      "ptrace",   "vm_read",
    "vm_write",  "proc_open",   "signal",       "pidfd",          "perf_open", "module_load", "bpf_load", "device_open",
    "mmap_exec", "exec_memory", "memfd_create", "io_uring_setup", "libcall",   "loader_env"};

// The JSON names of the rare fields (trace column names), by type.
const std::pair<const char*, std::optional<int32_t> RareFields::*> kInt32Fields[] = {
    {"child_pid", &RareFields::child_pid},   {"child_tid", &RareFields::child_tid},
    {"exit_code", &RareFields::exit_code},   {"group_dead", &RareFields::group_dead},
    {"truncated", &RareFields::truncated},   {"uid", &RareFields::uid},
    {"target_pid", &RareFields::target_pid}, {"target_tid", &RareFields::target_tid}};
const std::pair<const char*, std::optional<int64_t> RareFields::*> kInt64Fields[] = {
    {"request", &RareFields::request}, {"addr", &RareFields::addr},   {"size", &RareFields::size},
    {"dev", &RareFields::dev},         {"inode", &RareFields::inode}, {"offset", &RareFields::offset}};
const std::pair<const char*, std::optional<std::string> RareFields::*> kStringFields[] = {
    {"path", &RareFields::path}, {"exe", &RareFields::exe}, {"func", &RareFields::func}};

bool IsHex(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Strings from the traced world (comm, paths, argv) are bytes that need not be UTF-8; the trace stores them
// as valid UTF-8 without losing a byte: a byte outside any valid UTF-8 sequence becomes the text \xNN
// (lowercase hex), and a backslash that would read as such an escape (followed by x and two hex digits)
// becomes \x5c. Any other string, the usual case, is stored as it is. src/trace/bytes.ts decodes them.
std::string EscapedBytes(const std::string& s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n && p[i] < 0x80 && p[i] != '\\') i++;
  if (i == n) return s;
  std::string out(s, 0, i);
  char hex[5];
  while (i < n) {
    uint8_t c = p[i];
    size_t len = c < 0x80 ? 1 : Utf8SequenceLength(p + i, n - i);
    bool escape = len == 0 || (c == '\\' && i + 3 < n && p[i + 1] == 'x' && IsHex(p[i + 2]) && IsHex(p[i + 3]));
    if (escape) {
      snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
      i++;
    } else {
      out.append(s, i, len);
      i += len;
    }
  }
  return out;
}

// A string as a JSON string (JSON.stringify's escapes), its bytes escaped as above first.
void AppendJsonString(std::string& out, const std::string& raw) {
  const std::string s = EscapedBytes(raw);
  out += '"';
  for (size_t i = 0; i < s.size(); i++) {
    uint8_t c = uint8_t(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c >= 0x20) {
      out += char(c);
    } else if (const char* e = c == '\b'   ? "\\b"
                               : c == '\f' ? "\\f"
                               : c == '\n' ? "\\n"
                               : c == '\r' ? "\\r"
                               : c == '\t' ? "\\t"
                                           : nullptr) {
      out += e;
    } else {
      char u[8];
      snprintf(u, sizeof u, "\\u%04x", c);
      out += u;
    }
  }
  out += '"';
}

// Int64 fields are JSON strings: a JavaScript number would round them.
std::string ExtraJson(const RareFields& f) {
  std::string out = "{";
  auto key = [&](const char* name) {
    if (out.size() > 1) out += ',';
    out += '"';
    out += name;
    out += "\":";
  };
  for (auto [name, field] : kInt32Fields)
    if (f.*field) key(name), out += std::to_string(*(f.*field));
  for (auto [name, field] : kInt64Fields)
    if (f.*field) key(name), out += '"' + std::to_string(*(f.*field)) + '"';
  for (auto [name, field] : kStringFields)
    if (f.*field) key(name), AppendJsonString(out, *(f.*field));
  if (f.argv) {
    key("argv");
    out += '[';
    for (size_t i = 0; i < f.argv->size(); i++) {
      if (i > 0) out += ',';
      AppendJsonString(out, (*f.argv)[i]);
    }
    out += ']';
  }
  return out + "}";
}

// An Arrow string column: int32 offsets (rows + 1) and the bytes.
struct StringColumn {
  std::vector<int32_t> offsets;
  std::string bytes;
};

template <typename Name>
StringColumn Strings(size_t rows, Name name) {
  StringColumn c;
  c.offsets.resize(rows + 1);
  for (size_t i = 0; i < rows; i++) {
    c.bytes += name(i);
    c.offsets[i + 1] = int32_t(c.bytes.size());
  }
  return c;
}

struct Validity {
  std::vector<uint8_t> bits;
  int64_t nulls = 0;
};

template <typename Valid>
Validity Bitmap(size_t rows, Valid valid) {
  Validity v;
  v.bits.assign((rows + 7) / 8, 0);
  for (size_t i = 0; i < rows; i++) {
    if (valid(i))
      v.bits[i >> 3] |= uint8_t(1u << (i & 7));
    else
      v.nulls++;
  }
  return v;
}

template <typename T>
IpcBuffer Buf(const std::vector<T>& v) {
  return {v.data(), v.size() * sizeof(T)};
}

IpcColumn Numbers(size_t rows, const Validity* valid, IpcBuffer values) {
  if (!valid) return {int64_t(rows), 0, {{nullptr, 0}, values}};
  return {int64_t(rows), valid->nulls, {Buf(valid->bits), values}};
}

}  // namespace

size_t Utf8SequenceLength(const uint8_t* p, size_t n) {
  uint8_t c = p[0], lo = 0x80, hi = 0xbf;
  size_t len;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;  // no surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k < len; k++)
    if ((p[k] & 0xc0) != 0x80) return 0;
  return len;
}

const char* RowKindName(uint8_t kind) { return kind < GPO_KIND_COUNT ? kRowKindNames[kind] : "?"; }

void RecordingBatch::Reserve(size_t rows, bool durations) {
  ts.reserve(rows);
  pid.reserve(rows);
  tid.reserve(rows);
  comm.reserve(rows);
  kind.reserve(rows);
  nr.reserve(rows);
  ret.reserve(rows);
  if (durations) duration.reserve(rows);
}

void RecordingBatch::Clear() {
  for (auto* v : {&pid, &tid, &comm}) v->clear();
  for (auto* v : {&ts, &ret, &duration}) v->clear();
  kind.clear();
  nr.clear();
  rare.clear();
  status.clear();
}

std::string RecordingStatusJson(const std::vector<uint64_t>& c, uint64_t syscall_rows, uint64_t lifecycle_rows,
                                uint64_t records_rejected,
                                const std::vector<std::pair<uint32_t, uint64_t>>& dropped_by_nr) {
  auto n = [](uint64_t v) { return std::to_string(v); };
  std::string out =
      "{\"counts\":{\"syscall\":{\"rows\":" + n(syscall_rows) + ",\"dropped\":" + n(c[GPO_CNT_SYSCALLS_DROPPED]) +
      "},\"lifecycle\":{\"rows\":" + n(lifecycle_rows) + ",\"dropped\":" + n(c[GPO_CNT_EVENTS_DROPPED]) + "}";
  if (records_rejected) out += ",\"rejected\":{\"rows\":0,\"dropped\":" + n(records_rejected) + "}";
  out += "},\"syscalls_dropped_by_nr\":{";
  for (size_t i = 0; i < dropped_by_nr.size(); i++)
    out += (i > 0 ? ",\"" : "\"") + n(dropped_by_nr[i].first) + "\":" + n(dropped_by_nr[i].second);
  return out + "},\"truncated\":{\"exec_path\":" + n(c[GPO_CNT_PATH_TRUNCATED]) +
         ",\"exec_argv\":" + n(c[GPO_CNT_ARGV_TRUNCATED]) + ",\"act_path\":" + n(c[GPO_CNT_NAME_TRUNCATED]) +
         ",\"exec_env\":" + n(c[GPO_CNT_ENV_UNSCANNED]) + "}}";
}

ssize_t WriteRecordingBatch(int fd, const RecordingBatch& b, bool durations,
                            const std::vector<std::string>& comm_names) {
  const size_t n = b.size();
  // Each thread name used in the batch is escaped once (they are few; rows refer to them by index).
  std::vector<std::optional<std::string>> escaped_comm(comm_names.size());
  StringColumn comm = Strings(n, [&](size_t i) -> const std::string& {
    auto& name = escaped_comm[size_t(b.comm[i])];
    if (!name) name = EscapedBytes(comm_names[size_t(b.comm[i])]);
    return *name;
  });
  StringColumn kind = Strings(n, [&](size_t i) { return RowKindName(b.kind[i]); });
  // A batch of syscall rows only (the common case) has no nulls in nr and ret; otherwise nr is set on
  // syscall rows, ret also on acts (their outcome), duration on syscall rows.
  std::optional<Validity> is_syscall, has_ret;
  if (!b.rare.empty()) {
    is_syscall = Bitmap(n, [&](size_t i) { return b.kind[i] == GPO_KIND_SYSCALL; });
    has_ret = Bitmap(n, [&](size_t i) { return b.kind[i] == GPO_KIND_SYSCALL || b.kind[i] >= GPO_KIND_PTRACE; });
  }
  // Without durations the column is all null, with buffers of full size (other readers check sizes).
  static thread_local std::vector<uint8_t> zeros;
  if (zeros.size() < n * 8 + 8) zeros.assign(n * 8 + 8, 0);
  const IpcBuffer no_bits{zeros.data(), (n + 7) / 8};
  const IpcColumn no_durations{int64_t(n), int64_t(n), {no_bits, {zeros.data(), n * 8}}};

  // extra: JSON objects on the rare rows (in row order), null elsewhere.
  StringColumn extra;
  extra.offsets.assign(n + 1, 0);
  Validity extra_valid = {std::vector<uint8_t>((n + 7) / 8, 0), int64_t(n - b.rare.size())};
  size_t next = 0;
  for (const RareFields& f : b.rare) {
    for (; next <= f.row; next++) extra.offsets[next] = int32_t(extra.bytes.size());
    extra.bytes += ExtraJson(f);
    extra_valid.bits[f.row >> 3] |= uint8_t(1u << (f.row & 7));
  }
  for (; next <= n; next++) extra.offsets[next] = int32_t(extra.bytes.size());

  const IpcBuffer none{nullptr, 0};
  std::vector<IpcColumn> columns = {
      {int64_t(n), 0, {none, Buf(b.ts)}},
      {int64_t(n), 0, {none, Buf(b.pid)}},
      {int64_t(n), 0, {none, Buf(b.tid)}},
      {int64_t(n), 0, {none, Buf(comm.offsets), {comm.bytes.data(), comm.bytes.size()}}},
      {int64_t(n), 0, {none, Buf(kind.offsets), {kind.bytes.data(), kind.bytes.size()}}},
      Numbers(n, is_syscall ? &*is_syscall : nullptr, Buf(b.nr)),
      Numbers(n, has_ret ? &*has_ret : nullptr, Buf(b.ret)),
      durations ? Numbers(n, is_syscall ? &*is_syscall : nullptr, Buf(b.duration)) : no_durations,
      {int64_t(n),
       extra_valid.nulls,
       {Buf(extra_valid.bits), Buf(extra.offsets), {extra.bytes.data(), extra.bytes.size()}}},
  };
  return WriteRecordBatchMessage(fd, int64_t(n), columns,
                                 b.status.empty() ? IpcMetadata{} : IpcMetadata{{"gpo", b.status}});
}

// writeRecordingBatch(fd, rows, durations): rows are { ts, pid, tid, comm, kind (code), nr, ret, duration?,
// fields? } with fields named as the trace's columns (numbers, bigints, strings, argv: string[]); strings
// may be Buffers, to test bytes that are not UTF-8.
static std::string Bytes(Napi::Value v) {
  if (!v.IsBuffer()) return v.As<Napi::String>();
  auto b = v.As<Napi::Buffer<char>>();
  return std::string(b.Data(), b.Length());
}

static Napi::Value WriteRecordingBatchJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Array rows = info[1].As<Napi::Array>();
  bool durations = info[2].ToBoolean();
  RecordingBatch b;
  std::vector<std::string> comm_names;
  auto int64 = [](Napi::Value v) {
    bool lossless;
    return v.IsBigInt() ? v.As<Napi::BigInt>().Int64Value(&lossless) : v.As<Napi::Number>().Int64Value();
  };
  for (uint32_t i = 0; i < rows.Length(); i++) {
    Napi::Object r = rows.Get(i).As<Napi::Object>();
    b.ts.push_back(int64(r.Get("ts")));
    b.pid.push_back(r.Get("pid").As<Napi::Number>().Int32Value());
    b.tid.push_back(r.Get("tid").As<Napi::Number>().Int32Value());
    comm_names.push_back(Bytes(r.Get("comm")));
    b.comm.push_back(int32_t(i));
    b.kind.push_back(uint8_t(r.Get("kind").As<Napi::Number>().Uint32Value()));
    b.nr.push_back(int16_t(r.Get("nr").As<Napi::Number>().Int32Value()));
    b.ret.push_back(int64(r.Get("ret")));
    if (durations) b.duration.push_back(int64(r.Get("duration")));
    if (!r.Has("fields")) continue;
    Napi::Object fields = r.Get("fields").As<Napi::Object>();
    RareFields f{};
    f.row = i;
    for (auto [name, field] : kInt32Fields)
      if (fields.Has(name)) f.*field = fields.Get(name).As<Napi::Number>().Int32Value();
    for (auto [name, field] : kInt64Fields)
      if (fields.Has(name)) f.*field = int64(fields.Get(name));
    for (auto [name, field] : kStringFields)
      if (fields.Has(name)) f.*field = Bytes(fields.Get(name));
    if (fields.Has("argv")) {
      Napi::Array argv = fields.Get("argv").As<Napi::Array>();
      f.argv.emplace();
      for (uint32_t j = 0; j < argv.Length(); j++) f.argv->push_back(Bytes(argv.Get(j)));
    }
    b.rare.push_back(std::move(f));
  }
  ssize_t written = WriteRecordingBatch(fd, b, durations, comm_names);
  if (written < 0) {
    Napi::Error::New(env, std::string("cannot write the batch: ") + strerror(int(-written)))
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, double(written));
}

void InitRecordingBatch(Napi::Env env, Napi::Object exports) {
  exports.Set("writeRecordingBatch", Napi::Function::New(env, WriteRecordingBatchJs, "writeRecordingBatch"));
}

// The inverse of writeRecordingBatch's rows: strings as Buffers (the bytes as they came), int64 values as
// bigints. Columns of different lengths are an error, not rows.
Napi::Value RecordingBatchRows(Napi::Env env, const RecordingBatch& b, bool durations,
                               const std::vector<std::string>& comm_names) {
  const size_t n = b.size();
  for (size_t len : {b.pid.size(), b.tid.size(), b.comm.size(), b.kind.size(), b.nr.size(), b.ret.size(),
                     durations ? b.duration.size() : n}) {
    if (len != n) {
      Napi::Error::New(env, "the batch's columns have different lengths").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  auto bytes = [&](const std::string& s) { return Napi::Buffer<char>::Copy(env, s.data(), s.size()); };
  Napi::Array out = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("ts", Napi::BigInt::New(env, b.ts[i]));
    r.Set("pid", b.pid[i]);
    r.Set("tid", b.tid[i]);
    r.Set("comm", bytes(comm_names.at(size_t(b.comm[i]))));
    r.Set("kind", uint32_t(b.kind[i]));
    r.Set("nr", int32_t(b.nr[i]));
    r.Set("ret", Napi::BigInt::New(env, b.ret[i]));
    if (durations) r.Set("duration", Napi::BigInt::New(env, b.duration[i]));
    out.Set(uint32_t(i), r);
  }
  for (const RareFields& f : b.rare) {
    if (f.row >= n) {
      Napi::Error::New(env, "a rare row beyond the batch").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Object fields = Napi::Object::New(env);
    for (auto [name, field] : kInt32Fields)
      if (f.*field) fields.Set(name, *(f.*field));
    for (auto [name, field] : kInt64Fields)
      if (f.*field) fields.Set(name, Napi::BigInt::New(env, *(f.*field)));
    for (auto [name, field] : kStringFields)
      if (f.*field) fields.Set(name, bytes(*(f.*field)));
    if (f.argv) {
      Napi::Array argv = Napi::Array::New(env, f.argv->size());
      for (size_t j = 0; j < f.argv->size(); j++) argv.Set(uint32_t(j), bytes((*f.argv)[j]));
      fields.Set("argv", argv);
    }
    out.Get(f.row).As<Napi::Object>().Set("fields", fields);
  }
  return out;
}
