// Arrow IPC stream messages for record batches, written straight from column memory: gpo's recorder
// appends each batch to the trace's stream file from its consumer thread, without a copy into JavaScript.
#pragma once
#include <napi.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

struct IpcBuffer {
  const void* data;
  size_t size;
};

// One field node of a batch (a column, or the child array of a list column, after its parent): its row count, null
// count and buffers in the order the Arrow format gives for its type (validity then values for numbers; validity,
// offsets, bytes for strings). A validity buffer of size 0 means no nulls.
struct IpcColumn {
  int64_t length;
  int64_t null_count;
  std::vector<IpcBuffer> buffers;
};

// The custom metadata of a message (Message.custom_metadata: key-value pairs; apache-arrow reads it as
// RecordBatch.metadata).
using IpcMetadata = std::vector<std::pair<std::string, std::string>>;

// Writes one RecordBatch message (Arrow format V5, no body compression) for columns already described by
// the stream's schema message. Returns the bytes written, or -errno.
ssize_t WriteRecordBatchMessage(int fd, int64_t rows, const std::vector<IpcColumn>& columns,
                                const IpcMetadata& metadata = {});

// Encodes the same message into memory (for handing batches to other Arrow readers); returns its size,
// and writes nothing if that is more than capacity.
size_t EncodeRecordBatchMessage(int64_t rows, const std::vector<IpcColumn>& columns, uint8_t* out, size_t capacity,
                                const IpcMetadata& metadata = {});

// Adds encodeRecordBatch(out, at, rows, nodes, metadata?) to the exports (see src/trace/encode.ts).
void InitArrowIpc(Napi::Env env, Napi::Object exports);
