#include "recorder-consumer.h"

#include "clock.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

extern "C" {
#include "gpo.h"
}

namespace {

// What JavaScript hears of a written batch: its size, and the processes that started or ended in it
// (to know when the last followed process has gone).
struct BatchWritten {
  uint64_t rows = 0, bytes = 0;
  std::vector<int32_t> forked, exited;
  int error = 0;  // errno of a failed write; nothing is written after it
  int fd = -1;    // the stream the batch went to (Redirect switches streams between batches)
};

}  // namespace

Napi::Object CountersObject(Napi::Env env, const std::vector<uint64_t>& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("syscallsDropped", double(c[GPO_CNT_SYSCALLS_DROPPED]));
  o.Set("eventsDropped", double(c[GPO_CNT_EVENTS_DROPPED]));
  o.Set("pathTruncated", double(c[GPO_CNT_PATH_TRUNCATED]));
  o.Set("argvTruncated", double(c[GPO_CNT_ARGV_TRUNCATED]));
  o.Set("batchesWritten", double(c[GPO_CNT_BATCHES]));
  o.Set("nameTruncated", double(c[GPO_CNT_NAME_TRUNCATED]));
  o.Set("envUnscanned", double(c[GPO_CNT_ENV_UNSCANNED]));
  return o;
}

RecordConsumer::RecordConsumer(RecorderBpf& bpf, LibcallProbes& libcalls, RecordDecoder& decoder, bool durations,
                               uint32_t batch_rows, ConsumerPacing pacing)
    : bpf_(bpf),
      libcalls_(libcalls),
      decoder_(decoder),
      durations_(durations),
      batch_rows_(batch_rows),
      pacing_(pacing) {}

RecordConsumer::~RecordConsumer() {
  stop_requested_ = true;
  if (thread_.joinable()) thread_.join();
  if (rb_) ring_buffer__free(rb_);
}

int RecordConsumer::Start(Napi::Env env, int fd, Napi::Function on_batch, Napi::Function on_done) {
  rb_ = ring_buffer__new(bpf_.events_fd(), &RecordConsumer::OnRecord, this, nullptr);
  if (!rb_) return errno;
  fd_ = fd;
  on_batch_ = Napi::ThreadSafeFunction::New(env, on_batch, "gpo-recorder", 4, 1);
  on_done_ = Napi::ThreadSafeFunction::New(env, on_done, "gpo-recorder-done", 1, 1);
  batch_.Reserve(batch_rows_ + GPO_STAGE_RECORDS, durations_);
  thread_ = std::thread([this] { Consume(); });
  return 0;
}

void RecordConsumer::Consume() {
  // Linux nice values are per thread: this one alone, so that a storm on every CPU does not keep it off a
  // CPU long enough for the ring buffer to fill. Best effort: it needs CAP_SYS_NICE.
  if (pacing_.nice != 0) setpriority(PRIO_PROCESS, pid_t(syscall(SYS_gettid)), pacing_.nice);
  uint64_t last_delivery = MonotonicNs();
  while (!stop_requested_) {
    ring_buffer__consume(rb_);
    uint64_t now = MonotonicNs();
    // A batch holding a row that is not a syscall (an act, a library load, a process event) may go sooner,
    // and one holding the end of a process within 5 ms: recording stops when the last one ends (a tree that
    // forks and ends many processes still gets at most 200 batches a second for it).
    uint64_t wait = batch_.rare.empty() ? pacing_.delivery_ns : pacing_.event_delivery_ns;
    if (HoldsProcessEnd()) wait = std::min<uint64_t>(wait, 5000000);
    if (batch_.size() >= batch_rows_ || (batch_.size() > 0 && now - last_delivery > wait)) {
      Deliver();
      last_delivery = now;
    }
    usleep(1000);
  }
  Finish();
}

// Detach first so nothing new arrives (the uprobes are removed meanwhile: recorder-libcalls.cc), then read
// what the kernel still holds, in order: the ring buffer, then the per-CPU stages (each CPU's newest records,
// the last rows).
void RecordConsumer::Finish() {
  libcalls_.DetachAll();
  bpf_.Detach();
  ring_buffer__consume(rb_);
  for (const std::vector<uint8_t>& stage : bpf_.ReadStages()) decoder_.Decode(stage.data(), stage.size(), batch_);
  Deliver();
  auto counters = bpf_.ReadCounters();
  auto dropped = bpf_.ReadDroppedByNr();
  DecoderTotals totals = decoder_.totals();
  on_done_.BlockingCall([counters, dropped, totals](Napi::Env env, Napi::Function done) {
    Napi::Object stats = CountersObject(env, counters);
    Napi::Object by_nr = Napi::Object::New(env);
    for (auto& [nr, n] : dropped) by_nr.Set(std::to_string(nr), double(n));
    stats.Set("syscallsDroppedByNr", by_nr);
    stats.Set("rows", double(totals.rows));
    stats.Set("syscallRows", double(totals.syscall_rows));
    stats.Set("lifecycleRows", double(totals.lifecycle_rows));
    stats.Set("batchesRead", double(totals.batches_read));
    stats.Set("recordsRejected", double(totals.records_rejected));
    done.Call({stats});
  });
  on_batch_.Release();
  on_done_.Release();
}

int RecordConsumer::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<RecordConsumer*>(ctx);
  // One consume can drain megabytes when the consumer fell behind; batches stay at their size, so the
  // Parquet conversion's memory does not depend on how far behind it was.
  if (self->batch_.size() >= self->batch_rows_) self->Deliver();
  self->decoder_.Decode(static_cast<const uint8_t*>(data), size, self->batch_);
  return 0;
}

bool RecordConsumer::HoldsProcessEnd() {
  for (; rare_checked_ < batch_.rare.size(); rare_checked_++) {
    const RareFields& f = batch_.rare[rare_checked_];
    if (batch_.kind[f.row] == GPO_KIND_EXIT && f.group_dead.value_or(0)) return true;
  }
  return false;
}

void RecordConsumer::Deliver() {
  rare_checked_ = 0;
  if (batch_.size() == 0) return;
  auto* written = new BatchWritten();
  written->rows = batch_.size();
  for (const RareFields& f : batch_.rare) {
    uint8_t kind = batch_.kind[f.row];
    if (kind == GPO_KIND_FORK) written->forked.push_back(*f.child_pid);
    if (kind == GPO_KIND_EXIT && *f.group_dead) written->exited.push_back(batch_.pid[f.row]);
  }
  int next_fd = next_fd_.exchange(-1);
  if (next_fd >= 0) fd_ = next_fd;
  written->fd = fd_;
  if (write_error_ == 0) {
    // What was lost so far goes with the batch (its message's metadata): a killed gpo's stream says it.
    auto counters = bpf_.ReadCounters();
    auto by_nr =
        counters[GPO_CNT_SYSCALLS_DROPPED] ? bpf_.ReadDroppedByNr() : std::vector<std::pair<uint32_t, uint64_t>>{};
    const DecoderTotals& totals = decoder_.totals();
    batch_.status =
        RecordingStatusJson(counters, totals.syscall_rows, totals.lifecycle_rows, totals.records_rejected, by_nr);
    ssize_t n = WriteRecordingBatch(fd_, batch_, durations_, decoder_.comm_names());
    if (n < 0)
      write_error_ = int(-n);
    else
      written->bytes = uint64_t(n);
  }
  written->error = write_error_;
  batch_.Clear();
  // Blocks while JavaScript is 4 batches behind: back-pressure ends in counted kernel-side drops.
  napi_status st = on_batch_.BlockingCall(written, [](Napi::Env env, Napi::Function cb, BatchWritten* w) {
    std::unique_ptr<BatchWritten> owned(w);
    Napi::Object o = Napi::Object::New(env);
    o.Set("rows", double(w->rows));
    o.Set("bytes", double(w->bytes));
    o.Set("fd", w->fd);
    auto pids = [&](const std::vector<int32_t>& v) {
      Napi::Array a = Napi::Array::New(env, v.size());
      for (size_t i = 0; i < v.size(); i++) a.Set(uint32_t(i), v[i]);
      return a;
    };
    o.Set("forked", pids(w->forked));
    o.Set("exited", pids(w->exited));
    if (w->error) o.Set("error", strerror(w->error));
    cb.Call({o});
  });
  if (st != napi_ok) delete written;
}
