// A record batch message is a fixed-shape flatbuffer (Message -> RecordBatch -> FieldNode and Buffer
// vectors) followed by the body; the flatbuffer is laid out by hand here rather than pulling in the Arrow
// C++ library or flatc for one message type. Layout (byte offsets in the flatbuffer):
//    0  root offset -> Message table at 16
//    4  Message vtable: version, header_type, header, bodyLength
//   16  Message table: vtable offset, header -> 56, bodyLength (i64 at 24), version (32), header_type (34)
//   40  RecordBatch vtable: length, nodes, buffers
//   56  RecordBatch table: vtable offset, nodes -> 76, length (i64 at 64), buffers (72)
//   76  nodes vector: count, then 16-byte FieldNode structs from 80; then the Buffer vector, 8-aligned
// With custom metadata, a second Message vtable (one more field: custom_metadata at table offset 20, in the
// table's padding) follows the Buffer vector, then the KeyValue vector, tables and strings.
#include "arrow-ipc.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>

namespace {

constexpr int16_t kMetadataV5 = 4;
constexpr uint8_t kHeaderRecordBatch = 3;
const uint8_t kZeros[8] = {};

template <typename T>
void Put(std::vector<uint8_t>& b, size_t at, T v) {
  memcpy(b.data() + at, &v, sizeof v);
}

size_t Pad8(size_t n) { return (n + 7) & ~size_t(7); }

std::vector<uint8_t> RecordBatchMetadata(int64_t rows, const std::vector<IpcColumn>& columns, int64_t body_length) {
  size_t buffer_count = 0;
  for (const IpcColumn& c : columns) buffer_count += c.buffers.size();
  const size_t nodes_end = 80 + 16 * columns.size();
  const size_t buffers_at = nodes_end + 4;
  std::vector<uint8_t> fb(nodes_end + 8 + 16 * buffer_count, 0);
  Put<uint32_t>(fb, 0, 16);
  const uint16_t message_vtable[] = {12, 20, 16, 18, 4, 8};
  memcpy(fb.data() + 4, message_vtable, sizeof message_vtable);
  Put<int32_t>(fb, 16, 16 - 4);
  Put<uint32_t>(fb, 20, 56 - 20);
  Put<int64_t>(fb, 24, body_length);
  Put<int16_t>(fb, 32, kMetadataV5);
  Put<uint8_t>(fb, 34, kHeaderRecordBatch);
  const uint16_t batch_vtable[] = {10, 20, 8, 4, 16};
  memcpy(fb.data() + 40, batch_vtable, sizeof batch_vtable);
  Put<int32_t>(fb, 56, 56 - 40);
  Put<uint32_t>(fb, 60, 76 - 60);
  Put<int64_t>(fb, 64, rows);
  Put<uint32_t>(fb, 72, uint32_t(buffers_at - 72));
  Put<uint32_t>(fb, 76, uint32_t(columns.size()));
  size_t at = 80;
  for (const IpcColumn& c : columns) {
    Put<int64_t>(fb, at, c.length);
    Put<int64_t>(fb, at + 8, c.null_count);
    at += 16;
  }
  Put<uint32_t>(fb, buffers_at, uint32_t(buffer_count));
  at = buffers_at + 4;
  int64_t offset = 0;
  for (const IpcColumn& c : columns)
    for (const IpcBuffer& b : c.buffers) {
      Put<int64_t>(fb, at, offset);
      Put<int64_t>(fb, at + 8, int64_t(b.size));
      offset += int64_t(Pad8(b.size));
      at += 16;
    }
  return fb;
}

size_t Pad4(size_t n) { return (n + 3) & ~size_t(3); }

// Appends a flatbuffer string (length, bytes, NUL) at a 4-aligned end; returns its position.
size_t AppendString(std::vector<uint8_t>& fb, const std::string& s) {
  size_t at = Pad4(fb.size());
  fb.resize(Pad4(at + 4 + s.size() + 1), 0);
  Put<uint32_t>(fb, at, uint32_t(s.size()));
  memcpy(fb.data() + at + 4, s.data(), s.size());
  return at;
}

// Adds Message.custom_metadata to a message laid out by RecordBatchMetadata.
void AppendCustomMetadata(std::vector<uint8_t>& fb, const IpcMetadata& metadata) {
  // The Message table (at 16) points to a new vtable after everything: soffset = table - vtable.
  size_t vtable = Pad8(fb.size());
  const uint16_t message_vtable[] = {14, 24, 16, 18, 4, 8, 20};
  fb.resize(vtable + sizeof message_vtable, 0);
  memcpy(fb.data() + vtable, message_vtable, sizeof message_vtable);
  Put<int32_t>(fb, 16, int32_t(16 - int64_t(vtable)));
  // KeyValue tables share one vtable: key at 4, value at 8.
  size_t kv_vtable = Pad4(fb.size());
  const uint16_t key_value_vtable[] = {8, 12, 4, 8};
  fb.resize(kv_vtable + sizeof key_value_vtable, 0);
  memcpy(fb.data() + kv_vtable, key_value_vtable, sizeof key_value_vtable);
  size_t vector = Pad4(fb.size());
  fb.resize(vector + 4 + 4 * metadata.size(), 0);
  Put<uint32_t>(fb, 36, uint32_t(vector - 36));
  Put<uint32_t>(fb, vector, uint32_t(metadata.size()));
  for (size_t i = 0; i < metadata.size(); i++) {
    size_t table = Pad4(fb.size());
    fb.resize(table + 12, 0);
    Put<int32_t>(fb, table, int32_t(int64_t(table) - int64_t(kv_vtable)));
    Put<uint32_t>(fb, vector + 4 + 4 * i, uint32_t(table - (vector + 4 + 4 * i)));
    size_t key = AppendString(fb, metadata[i].first);
    Put<uint32_t>(fb, table + 4, uint32_t(key - (table + 4)));
    size_t value = AppendString(fb, metadata[i].second);
    Put<uint32_t>(fb, table + 8, uint32_t(value - (table + 8)));
  }
  fb.resize(Pad8(fb.size()), 0);
}

// writev until everything is written (a regular file can still take a short write).
ssize_t WriteAll(int fd, std::vector<iovec>& iov) {
  size_t total = 0, i = 0;
  while (i < iov.size()) {
    ssize_t n = writev(fd, &iov[i], int(std::min<size_t>(iov.size() - i, IOV_MAX)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    total += size_t(n);
    size_t left = size_t(n);
    while (i < iov.size() && left >= iov[i].iov_len) left -= iov[i++].iov_len;
    if (left > 0) {
      iov[i].iov_base = static_cast<uint8_t*>(iov[i].iov_base) + left;
      iov[i].iov_len -= left;
    }
  }
  return ssize_t(total);
}

// The message's framing and metadata: continuation marker, metadata length (a multiple of 8, so the
// body stays aligned), flatbuffer. The body follows: each buffer padded to 8 bytes.
std::vector<uint8_t> MessageHead(int64_t rows, const std::vector<IpcColumn>& columns, const IpcMetadata& custom,
                                 int64_t* body_length) {
  *body_length = 0;
  for (const IpcColumn& c : columns)
    for (const IpcBuffer& b : c.buffers) *body_length += int64_t(Pad8(b.size));
  std::vector<uint8_t> metadata = RecordBatchMetadata(rows, columns, *body_length);
  if (!custom.empty()) AppendCustomMetadata(metadata, custom);
  std::vector<uint8_t> head(8 + metadata.size());
  Put<uint32_t>(head, 0, 0xffffffffu);
  Put<uint32_t>(head, 4, uint32_t(metadata.size()));
  memcpy(head.data() + 8, metadata.data(), metadata.size());
  return head;
}

}  // namespace

ssize_t WriteRecordBatchMessage(int fd, int64_t rows, const std::vector<IpcColumn>& columns,
                                const IpcMetadata& metadata) {
  int64_t body_length;
  std::vector<uint8_t> head = MessageHead(rows, columns, metadata, &body_length);
  std::vector<iovec> iov = {{head.data(), head.size()}};
  for (const IpcColumn& c : columns)
    for (const IpcBuffer& b : c.buffers) {
      if (b.size > 0) iov.push_back({const_cast<void*>(b.data), b.size});
      if (Pad8(b.size) > b.size) iov.push_back({const_cast<uint8_t*>(kZeros), Pad8(b.size) - b.size});
    }
  return WriteAll(fd, iov);
}

size_t EncodeRecordBatchMessage(int64_t rows, const std::vector<IpcColumn>& columns, uint8_t* out, size_t capacity,
                                const IpcMetadata& metadata) {
  int64_t body_length;
  std::vector<uint8_t> head = MessageHead(rows, columns, metadata, &body_length);
  size_t size = head.size() + size_t(body_length);
  if (size > capacity) return size;
  memcpy(out, head.data(), head.size());
  uint8_t* p = out + head.size();
  for (const IpcColumn& c : columns)
    for (const IpcBuffer& b : c.buffers) {
      if (b.size > 0) memcpy(p, b.data, b.size);
      memset(p + b.size, 0, Pad8(b.size) - b.size);
      p += Pad8(b.size);
    }
  return size;
}

// encodeRecordBatch(out, at, rows, nodes, metadata?): writes one record batch message into out from byte
// `at` and returns the end offset (or the size needed, beyond out's length, without writing). nodes are the
// batch's field nodes in depth-first order: { length, nullCount, buffers: ArrayBufferView[] }; metadata, an
// object of strings, becomes the message's custom metadata.
static Napi::Value EncodeRecordBatchJs(const Napi::CallbackInfo& info) {
  auto out = info[0].As<Napi::Uint8Array>();
  size_t at = info[1].As<Napi::Number>().Uint32Value();
  int64_t rows = info[2].As<Napi::Number>().Int64Value();
  Napi::Array nodes = info[3].As<Napi::Array>();
  std::vector<IpcColumn> columns;
  for (uint32_t i = 0; i < nodes.Length(); i++) {
    Napi::Object node = nodes.Get(i).As<Napi::Object>();
    IpcColumn c{
        node.Get("length").As<Napi::Number>().Int64Value(), node.Get("nullCount").As<Napi::Number>().Int64Value(), {}};
    Napi::Array buffers = node.Get("buffers").As<Napi::Array>();
    for (uint32_t j = 0; j < buffers.Length(); j++) {
      auto view = buffers.Get(j).As<Napi::TypedArray>();
      auto* base = static_cast<uint8_t*>(view.ArrayBuffer().Data());
      c.buffers.push_back({base ? base + view.ByteOffset() : nullptr, view.ByteLength()});
    }
    columns.push_back(std::move(c));
  }
  IpcMetadata metadata;
  if (info.Length() > 4 && info[4].IsObject()) {
    Napi::Object object = info[4].As<Napi::Object>();
    Napi::Array keys = object.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); i++) {
      std::string key = keys.Get(i).As<Napi::String>();
      metadata.emplace_back(key, object.Get(key).As<Napi::String>().Utf8Value());
    }
  }
  size_t capacity = out.ByteLength() > at ? out.ByteLength() - at : 0;
  return Napi::Number::New(info.Env(),
                           double(at + EncodeRecordBatchMessage(rows, columns, out.Data() + at, capacity, metadata)));
}

void InitArrowIpc(Napi::Env env, Napi::Object exports) {
  exports.Set("encodeRecordBatch", Napi::Function::New(env, EncodeRecordBatchJs, "encodeRecordBatch"));
}
