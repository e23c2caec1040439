// The recorder's consumer thread: drains the ring buffer every millisecond (records are submitted without
// wakeups, so polling would never wake), decodes the records into a batch and appends each batch to the
// trace's Arrow IPC stream from that thread. JavaScript hears of each batch (rows, bytes, processes started
// and ended) through a bounded thread-safe function, and of the end (the final counters) through another.
#pragma once
#include <napi.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "record-decoder.h"
#include "recorder-bpf.h"
#include "recorder-libcalls.h"
#include "recording-batch.h"

struct ring_buffer;

// When the consumer writes a partial batch, and at which priority it runs.
struct ConsumerPacing {
  // The longest a partial batch waits before it is written (a live scorer asks for less: it bounds alert
  // latency)...
  uint64_t delivery_ns = 200000000ull;
  // ...and the same for a batch holding a row that is not a syscall (an act, a library load, a process event).
  uint64_t event_delivery_ns = 200000000ull;
  // Nice value of the consumer thread alone (0: unchanged); best effort, it needs CAP_SYS_NICE.
  int nice = 0;
};

class RecordConsumer {
 public:
  RecordConsumer(RecorderBpf& bpf, LibcallProbes& libcalls, RecordDecoder& decoder, bool durations, uint32_t batch_rows,
                 ConsumerPacing pacing);
  RecordConsumer(const RecordConsumer&) = delete;
  RecordConsumer& operator=(const RecordConsumer&) = delete;
  // Stops the thread if it runs, then frees the ring buffer.
  ~RecordConsumer();

  // Opens the ring buffer and starts the thread, which appends batches to fd (an Arrow IPC stream whose
  // schema message is written). 0, or the errno of opening the ring buffer.
  int Start(Napi::Env env, int fd, Napi::Function on_batch, Napi::Function on_done);
  // The thread detaches the programs, drains what is left (ring buffer, then per-CPU stages), calls
  // on_done and ends.
  void RequestStop() { stop_requested_ = true; }
  // Batches go to fd (another stream whose schema message is written) from the next one on: a segmented
  // trace's next part.
  void Redirect(int fd) { next_fd_ = fd; }

 private:
  void Consume();
  void Finish();
  void Deliver();
  // Whether the batch holds the exit of a process's last thread (its rare rows not looked at yet are checked).
  bool HoldsProcessEnd();
  static int OnRecord(void* ctx, void* data, size_t size);

  RecorderBpf& bpf_;
  LibcallProbes& libcalls_;
  RecordDecoder& decoder_;
  bool durations_;
  uint32_t batch_rows_;
  ConsumerPacing pacing_;
  ring_buffer* rb_ = nullptr;
  std::atomic<bool> stop_requested_{false};
  std::atomic<int> next_fd_{-1};
  std::thread thread_;
  Napi::ThreadSafeFunction on_batch_, on_done_;
  // Owned by the thread once started.
  int fd_ = -1;
  int write_error_ = 0;
  RecordingBatch batch_;
  size_t rare_checked_ = 0;
};

// The counters JavaScript sees (NativeCounters in src/native/addon.ts), from enum gpo_counter's.
Napi::Object CountersObject(Napi::Env env, const std::vector<uint64_t>& counters);
