// The recorder: loads bpf/record.bpf.c, drains its ring buffer on a background thread every millisecond
// (records are submitted without wakeups, so polling would never wake), turns records into columns and
// appends each batch to the trace's Arrow IPC stream from that thread. JavaScript hears of each batch
// (rows, bytes, processes started and ended) through a bounded thread-safe function.
#include "recorder.h"

#include "libbpf-log.h"
#include "recorder-hooks.h"
#include "recording-batch.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

extern "C" {
#include "gpo.h"
#include "record.skel.h"
}

namespace {

using RowKind = uint8_t;

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

std::string BoundedString(const char* s, size_t max) { return std::string(s, strnlen(s, max)); }

// What JavaScript hears of a written batch: its size, and the processes that started or ended in it
// (to know when the last followed process has gone).
struct BatchWritten {
  uint64_t rows = 0, bytes = 0;
  std::vector<int32_t> forked, exited;
  int error = 0;  // errno of a failed write; nothing is written after it
};

struct Totals {
  uint64_t rows = 0, syscall_rows = 0, lifecycle_rows = 0, batches_read = 0;
};

// [{ signal, hook, unavailable }]: hook null when no hook can serve the signal here.
Napi::Value HookPlanValue(Napi::Env env, const RecorderHookPlan& plan) {
  Napi::Array out = Napi::Array::New(env, plan.signals.size());
  for (size_t i = 0; i < plan.signals.size(); i++) {
    const HookChoice& c = plan.signals[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("signal", c.signal);
    o.Set("hook", c.hook.empty() ? env.Null() : Napi::String::New(env, c.hook));
    o.Set("unavailable", c.unavailable.empty() ? env.Null() : Napi::String::New(env, c.unavailable));
    out.Set(uint32_t(i), o);
  }
  return out;
}

}  // namespace

class Recorder : public Napi::ObjectWrap<Recorder> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Recorder",
                       {InstanceMethod("start", &Recorder::Start), InstanceMethod("track", &Recorder::Track),
                        InstanceMethod("setLauncher", &Recorder::SetLauncher),
                        InstanceMethod("stop", &Recorder::Stop), InstanceMethod("counters", &Recorder::Counters),
                        InstanceMethod("close", &Recorder::Close),
                        InstanceMethod("attachLibcall", &Recorder::AttachLibcall),
                        InstanceMethod("hooks", &Recorder::Hooks),
                        InstanceMethod("attachCheck", &Recorder::AttachCheck)});
  }

  // new Recorder({ ringBufferBytes, followChildren, durations, observeActs, batchRows, verbose })
  explicit Recorder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Recorder>(info) {
    Napi::Env env = info.Env();
    Napi::Object opts = info[0].As<Napi::Object>();
    uint32_t ring_bytes = opts.Get("ringBufferBytes").As<Napi::Number>().Uint32Value();
    bool follow_children = opts.Get("followChildren").ToBoolean();
    durations_ = opts.Get("durations").ToBoolean();
    batch_rows_ = opts.Get("batchRows").As<Napi::Number>().Uint32Value();
    if (opts.Get("deliveryMs").IsNumber()) delivery_ns_ = uint64_t(opts.Get("deliveryMs").As<Napi::Number>().Uint32Value()) * 1000000ull;
    if (opts.Get("consumerNice").IsNumber()) consumer_nice_ = opts.Get("consumerNice").As<Napi::Number>().Int32Value();
    event_delivery_ns_ = delivery_ns_;
    if (opts.Get("eventDeliveryMs").IsNumber()) event_delivery_ns_ = uint64_t(opts.Get("eventDeliveryMs").As<Napi::Number>().Uint32Value()) * 1000000ull;
    verbose_ = opts.Get("verbose").ToBoolean();
    LibbpfLogBegin(verbose_);

    plan_ = PlanRecorderHooks(durations_, opts.Get("observeActs").ToBoolean());
    skel_ = record_bpf__open();
    if (!skel_) {
      Fail(env, "open", errno);
      return;
    }
    base_ns_ = MonotonicNs();
    skel_->rodata->base_ns = base_ns_;
    skel_->rodata->follow_children = follow_children;
    skel_->rodata->record_durations = durations_;
    skel_->rodata->gpo_tgid = getpid();
    skel_->rodata->observe_acts = opts.Get("observeActs").ToBoolean();
    ApplyHookPlan(skel_->obj, plan_);
    if (bpf_map__set_max_entries(skel_->maps.events, ring_bytes)) {
      Fail(env, "size the ring buffer", errno);
      return;
    }
    int err = record_bpf__load(skel_);
    if (err) {
      Fail(env, "load", -err);
      return;
    }
  }

  ~Recorder() override { Release(); }

 private:
  void Fail(Napi::Env env, const char* what, int err) {
    std::string msg = std::string("cannot ") + what + " the BPF recorder: " + strerror(err);
    std::string reason = LibbpfLogReason();
    if (!reason.empty()) msg += ": " + reason;
    if (geteuid() != 0 && (err == EPERM || err == EACCES))
      msg += " (gpo needs root, or CAP_BPF and CAP_PERFMON)";
    else if (!reason.empty())
      msg += " (--verbose shows libbpf's full log)";
    Napi::Error e = Napi::Error::New(env, msg);
    e.Set("errno", Napi::Number::New(env, err));
    e.ThrowAsJavaScriptException();
  }

  // track(tgid): follow this process (and, through the fork hook, its descendants).
  Napi::Value Track(const Napi::CallbackInfo& info) {
    uint32_t tgid = info[0].As<Napi::Number>().Uint32Value();
    if (tgid < GPO_PID_LIMIT) {
      __atomic_fetch_or(&skel_->bss->tracked_tgids[tgid >> 6], 1ull << (tgid & 63), __ATOMIC_SEQ_CST);
      EnterThreads(tgid);
    }
    return info.Env().Undefined();
  }

  // The threads that exist already, in the recorder's table of followed threads (the fork hook enters the
  // ones made from now on): under their global number, and their number in their own pid namespace.
  void EnterThreads(uint32_t tgid) {
    std::string task_dir = "/proc/" + std::to_string(tgid) + "/task";
    DIR* dir = opendir(task_dir.c_str());
    if (!dir) return;
    struct stat init_ns;
    bool have_init = stat("/proc/1/ns/pid", &init_ns) == 0;
    while (dirent* d = readdir(dir)) {
      if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
      gpo_task_ids ids = {tgid, uint32_t(strtoul(d->d_name, nullptr, 10))};
      if (have_init) {
        gpo_task_key k = {uint32_t(init_ns.st_ino), ids.tid};
        bpf_map__update_elem(skel_->maps.task_ids, &k, sizeof(k), &ids, sizeof(ids), BPF_ANY);
      }
      // NSpid's last number is the thread's number in its own namespace (the one /proc/TID/ns/pid names).
      std::ifstream status(task_dir + "/" + d->d_name + "/status");
      struct stat ns;
      for (std::string line; std::getline(status, line);) {
        if (line.rfind("NSpid:", 0) != 0) continue;
        size_t last = line.find_last_of(" \t");
        uint32_t nr = uint32_t(strtoul(line.c_str() + last + 1, nullptr, 10));
        if (nr && stat((task_dir + "/" + d->d_name + "/ns/pid").c_str(), &ns) == 0) {
          gpo_task_key k = {uint32_t(ns.st_ino), nr};
          bpf_map__update_elem(skel_->maps.task_ids, &k, sizeof(k), &ids, sizeof(ids), BPF_ANY);
        }
      }
    }
    closedir(dir);
  }

  // attachCheck(): attaches every loaded program and detaches them at once (what `gpo doctor` checks);
  // returns the error with libbpf's reason, or undefined.
  Napi::Value AttachCheck(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    LibbpfLogBegin(verbose_);
    int err = record_bpf__attach(skel_);
    record_bpf__detach(skel_);
    if (!err) return env.Undefined();
    std::string reason = LibbpfLogReason();
    return Napi::String::New(env, std::string(strerror(-err)) + (reason.empty() ? "" : ": " + reason));
  }

  // hooks(): per signal, the hook serving it on this kernel, or why none can.
  Napi::Value Hooks(const Napi::CallbackInfo& info) { return HookPlanValue(info.Env(), plan_); }

  Napi::Value SetLauncher(const Napi::CallbackInfo& info) {
    __atomic_store_n(&skel_->bss->launcher_tgid, info[0].As<Napi::Number>().Uint32Value(), __ATOMIC_SEQ_CST);
    return info.Env().Undefined();
  }

  // attachLibcall(libraryPath, offset, name, stringArg): a uprobe on one function, for every process that
  // maps the library; the program keeps only followed processes. stringArg (1 or 2, 0 for none) is the
  // argument read as a string. Returns an error message, or undefined.
  Napi::Value AttachLibcall(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string path = info[0].As<Napi::String>();
    uint64_t offset = uint64_t(info[1].As<Napi::Number>().Int64Value());
    std::string name = info[2].As<Napi::String>();
    uint32_t arg = info[3].As<Napi::Number>().Uint32Value();
    LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = uint64_t(libcall_names_.size()) | (uint64_t(arg & 0xff) << 16));
    bpf_link* link = bpf_program__attach_uprobe_opts(skel_->progs.on_libcall, -1, path.c_str(), offset, &opts);
    if (!link) return Napi::String::New(env, strerror(errno));
    libcall_links_.push_back(link);
    libcall_names_.push_back(name);
    return env.Undefined();
  }

  // start(fd, onBatch, onDone): attaches the programs and starts draining; batches are appended to fd (an
  // Arrow IPC stream whose schema message is written).
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    fd_ = info[0].As<Napi::Number>().Int32Value();
    LibbpfLogBegin(verbose_);
    int err = record_bpf__attach(skel_);
    if (err) {
      Fail(env, "attach", -err);
      return env.Undefined();
    }
    rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), &Recorder::OnRecord, this, nullptr);
    if (!rb_) {
      Fail(env, "open the ring buffer of", errno);
      return env.Undefined();
    }
    on_batch_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "gpo-recorder", 4, 1);
    on_done_ = Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "gpo-recorder-done", 1, 1);
    batch_.Reserve(batch_rows_ + GPO_STAGE_RECORDS, durations_);
    consumer_ = std::thread([this] { Consume(); });
    return env.Undefined();
  }

  // stop(): the consumer detaches, drains what is left (ring buffer, then per-CPU stages), calls onDone.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    stop_requested_ = true;
    return info.Env().Undefined();
  }

  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!skel_) return CountersObject(env, std::vector<uint64_t>(GPO_CNT_MAX, 0));
    return CountersObject(env, ReadCounters());
  }

  // close(): after onDone, frees the ring buffer and the programs now rather than at garbage collection
  // (the ring buffer's mapping is most of the recorder's memory).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  void Release() {
    stop_requested_ = true;
    if (consumer_.joinable()) consumer_.join();
    for (bpf_link* link : libcall_links_) bpf_link__destroy(link);
    libcall_links_.clear();
    if (rb_) ring_buffer__free(rb_);
    rb_ = nullptr;
    if (skel_) record_bpf__destroy(skel_);
    skel_ = nullptr;
  }

  std::vector<uint64_t> ReadCounters() {
    std::vector<uint64_t> sums(GPO_CNT_MAX, 0);
    int ncpu = libbpf_num_possible_cpus();
    std::vector<uint64_t> per_cpu(ncpu);
    for (uint32_t i = 0; i < GPO_CNT_MAX; i++) {
      if (bpf_map__lookup_elem(skel_->maps.counters, &i, sizeof(i), per_cpu.data(), per_cpu.size() * 8, 0) == 0)
        for (int c = 0; c < ncpu; c++) sums[i] += per_cpu[c];
    }
    return sums;
  }

  std::vector<std::pair<uint32_t, uint64_t>> ReadDroppedByNr() {
    std::vector<std::pair<uint32_t, uint64_t>> out;
    int ncpu = libbpf_num_possible_cpus();
    std::vector<uint64_t> per_cpu(ncpu);
    for (uint32_t nr = 0; nr < GPO_MAX_SYSCALL; nr++) {
      if (bpf_map__lookup_elem(skel_->maps.dropped_by_nr, &nr, sizeof(nr), per_cpu.data(), per_cpu.size() * 8, 0))
        continue;
      uint64_t sum = 0;
      for (int c = 0; c < ncpu; c++) sum += per_cpu[c];
      if (sum) out.emplace_back(nr, sum);
    }
    return out;
  }

  static Napi::Object CountersObject(Napi::Env env, const std::vector<uint64_t>& c) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("syscallsDropped", double(c[GPO_CNT_SYSCALLS_DROPPED]));
    o.Set("eventsDropped", double(c[GPO_CNT_EVENTS_DROPPED]));
    o.Set("pathTruncated", double(c[GPO_CNT_PATH_TRUNCATED]));
    o.Set("argvTruncated", double(c[GPO_CNT_ARGV_TRUNCATED]));
    o.Set("batchesWritten", double(c[GPO_CNT_BATCHES]));
    o.Set("nameTruncated", double(c[GPO_CNT_NAME_TRUNCATED]));
    return o;
  }

  void Consume() {
    // Linux nice values are per thread: this one alone, so that a storm on every CPU does not keep it off a
    // CPU long enough for the ring buffer to fill. Best effort: it needs CAP_SYS_NICE.
    if (consumer_nice_ != 0) setpriority(PRIO_PROCESS, pid_t(syscall(SYS_gettid)), consumer_nice_);
    uint64_t last_delivery = MonotonicNs();
    while (!stop_requested_) {
      ring_buffer__consume(rb_);
      uint64_t now = MonotonicNs();
      // A batch holding a row that is not a syscall (an act, a library load, a process event) may go sooner.
      uint64_t wait = batch_.rare.empty() ? delivery_ns_ : event_delivery_ns_;
      if (batch_.size() >= batch_rows_ || (batch_.size() > 0 && now - last_delivery > wait)) {
        Deliver();
        last_delivery = now;
      }
      usleep(1000);
    }
    // Detach first so nothing new arrives, then read what the kernel still holds, in order.
    for (bpf_link* link : libcall_links_) bpf_link__destroy(link);
    libcall_links_.clear();
    record_bpf__detach(skel_);
    ring_buffer__consume(rb_);
    DrainStages();
    Deliver();
    auto counters = ReadCounters();
    auto dropped = ReadDroppedByNr();
    Totals totals = totals_;
    on_done_.BlockingCall([counters, dropped, totals](Napi::Env env, Napi::Function done) {
      Napi::Object stats = CountersObject(env, counters);
      Napi::Object by_nr = Napi::Object::New(env);
      for (auto& [nr, n] : dropped) by_nr.Set(std::to_string(nr), double(n));
      stats.Set("syscallsDroppedByNr", by_nr);
      stats.Set("rows", double(totals.rows));
      stats.Set("syscallRows", double(totals.syscall_rows));
      stats.Set("lifecycleRows", double(totals.lifecycle_rows));
      stats.Set("batchesRead", double(totals.batches_read));
      done.Call({stats});
    });
    on_batch_.Release();
    on_done_.Release();
  }

  // After detach, the per-CPU stages hold each CPU's newest records: append them as the last rows.
  void DrainStages() {
    int ncpu = libbpf_num_possible_cpus();
    size_t value_size = bpf_map__value_size(skel_->maps.stages);
    size_t stride = (value_size + 7) & ~size_t(7);
    std::vector<uint8_t> values(stride * ncpu);
    uint32_t zero = 0;
    if (bpf_map__lookup_elem(skel_->maps.stages, &zero, sizeof(zero), values.data(), values.size(), 0)) return;
    for (int c = 0; c < ncpu; c++) {
      const auto* h = reinterpret_cast<const gpo_batch_header*>(values.data() + stride * c);
      if (h->count > 0 && h->count <= GPO_STAGE_RECORDS) {
        gpo_batch_header fixed = *h;
        fixed.record_size = durations_ ? sizeof(gpo_syscall_timed) : sizeof(gpo_syscall);
        std::vector<uint8_t> copy(sizeof(fixed) + size_t(fixed.count) * fixed.record_size);
        memcpy(copy.data(), &fixed, sizeof(fixed));
        memcpy(copy.data() + sizeof(fixed), h + 1, copy.size() - sizeof(fixed));
        AppendSyscalls(copy.data(), copy.size());
      }
    }
  }

  void Deliver() {
    if (batch_.size() == 0) return;
    auto* written = new BatchWritten();
    written->rows = batch_.size();
    for (const RareFields& f : batch_.rare) {
      uint8_t kind = batch_.kind[f.row];
      if (kind == GPO_KIND_FORK) written->forked.push_back(*f.child_pid);
      if (kind == GPO_KIND_EXIT && *f.group_dead) written->exited.push_back(batch_.pid[f.row]);
    }
    if (write_error_ == 0) {
      // What was lost so far goes with the batch (its message's metadata): a killed gpo's stream says it.
      auto counters = ReadCounters();
      auto by_nr = counters[GPO_CNT_SYSCALLS_DROPPED] ? ReadDroppedByNr() : std::vector<std::pair<uint32_t, uint64_t>>{};
      batch_.status = RecordingStatusJson(counters, totals_.syscall_rows, totals_.lifecycle_rows, by_nr);
      ssize_t n = WriteRecordingBatch(fd_, batch_, durations_, comm_names_);
      if (n < 0) write_error_ = int(-n);
      else written->bytes = uint64_t(n);
    }
    written->error = write_error_;
    batch_.Clear();
    // Blocks while JavaScript is 4 batches behind: back-pressure ends in counted kernel-side drops.
    napi_status st = on_batch_.BlockingCall(written, [](Napi::Env env, Napi::Function cb, BatchWritten* w) {
      std::unique_ptr<BatchWritten> owned(w);
      Napi::Object o = Napi::Object::New(env);
      o.Set("rows", double(w->rows));
      o.Set("bytes", double(w->bytes));
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

  // The comm table: each distinct thread name once; rows refer to it by index.
  int32_t CommIndex(const std::string& comm) {
    auto it = comm_index_.find(comm);
    if (it != comm_index_.end()) return it->second;
    int32_t idx = int32_t(comm_index_.size());
    comm_index_.emplace(comm, idx);
    comm_names_.push_back(comm);
    return idx;
  }

  void SetComm(uint32_t tid, const char* comm) { thread_comm_[tid] = CommIndex(BoundedString(comm, GPO_COMM_LEN)); }

  // A thread first seen through a syscall (it existed before we attached): ask /proc for its name.
  int32_t CommOf(uint32_t tgid, uint32_t tid) {
    auto it = thread_comm_.find(tid);
    if (it != thread_comm_.end()) return it->second;
    std::ifstream f("/proc/" + std::to_string(tgid) + "/task/" + std::to_string(tid) + "/comm");
    std::string name;
    if (!std::getline(f, name)) name = "?";
    int32_t idx = CommIndex(name);
    thread_comm_[tid] = idx;
    return idx;
  }

  void AddRow(uint64_t ts, uint32_t tgid, uint32_t tid, RowKind kind, int32_t comm) {
    batch_.ts.push_back(int64_t(base_ns_ + ts));
    batch_.pid.push_back(int32_t(tgid));
    batch_.tid.push_back(int32_t(tid));
    batch_.comm.push_back(comm);
    batch_.kind.push_back(kind);
    if (kind != GPO_KIND_SYSCALL) {
      batch_.nr.push_back(-1);
      batch_.ret.push_back(0);
      if (durations_) batch_.duration.push_back(0);
      totals_.lifecycle_rows++;
    }
    totals_.rows++;
  }

  void AppendSyscalls(const uint8_t* data, size_t size) {
    const auto* h = reinterpret_cast<const gpo_batch_header*>(data);
    size_t rs = h->record_size;
    if (rs < sizeof(gpo_syscall) || sizeof(*h) + h->count * rs > size) return;
    totals_.batches_read++;
    const uint8_t* p = data + sizeof(*h);
    for (uint32_t i = 0; i < h->count; i++, p += rs) {
      const auto* r = reinterpret_cast<const gpo_syscall*>(p);
      AddRow(r->ts_nr & GPO_TS_MASK, r->tgid, r->tid, GPO_KIND_SYSCALL, CommOf(r->tgid, r->tid));
      batch_.nr.push_back(int16_t(r->ts_nr >> GPO_TS_BITS));
      batch_.ret.push_back(r->ret);
      if (durations_) batch_.duration.push_back(int64_t(reinterpret_cast<const gpo_syscall_timed*>(p)->duration_ns));
    }
    totals_.syscall_rows += h->count;
  }

  // A path from the kernel's components, leaf first.
  static std::string JoinParts(const char (&parts)[GPO_NAME_PARTS][GPO_NAME_LEN], uint32_t n) {
    std::string path;
    for (uint32_t i = std::min<uint32_t>(n, GPO_NAME_PARTS); i-- > 0;) path += "/" + BoundedString(parts[i], GPO_NAME_LEN);
    return path;
  }

  // The path of an act: a plain string, or the kernel's path components.
  static std::string ActPath(const gpo_act_event& e) {
    if (e.name_parts == 0) return BoundedString(&e.name[0][0], sizeof(e.name));
    return JoinParts(e.name, e.name_parts);
  }

  void FillAct(RareFields& f, const gpo_act_event& e) {
    bool actor = e.kind >= GPO_KIND_PTRACE && e.kind <= GPO_KIND_DEVICE_OPEN;
    f.uid = int32_t(e.uid);
    if (actor) f.exe = e.exe_parts ? JoinParts(e.exe, e.exe_parts) : std::string("?");
    if (e.target_tgid) {
      f.target_pid = int32_t(e.target_tgid);
      f.target_tid = int32_t(e.target_tid);
    }
    f.request = int64_t(e.request);
    f.addr = int64_t(e.addr);
    f.size = int64_t(e.size);
    if (e.inode) {
      f.dev = int64_t(e.dev);
      f.inode = int64_t(e.inode);
      f.offset = int64_t(e.offset);
    }
    std::string path = ActPath(e);
    if (!path.empty()) f.path = path;
    f.truncated = e.flags != 0;
    if (e.kind == GPO_KIND_LIBCALL) {
      f.func = e.request < libcall_names_.size() ? libcall_names_[e.request] : "?";
      f.request.reset();
    }
  }

  static int OnRecord(void* ctx, void* data, size_t size) {
    static_cast<Recorder*>(ctx)->HandleRecord(static_cast<const uint8_t*>(data), size);
    return 0;
  }

  void HandleRecord(const uint8_t* data, size_t size) {
    // One consume can drain megabytes when the consumer fell behind; batches stay at their size, so the
    // Parquet conversion's memory does not depend on how far behind it was.
    if (batch_.size() >= batch_rows_) Deliver();
    if (size < sizeof(uint32_t)) return;
    uint32_t type = *reinterpret_cast<const uint32_t*>(data);
    if (type == GPO_REC_SYSCALLS) {
      AppendSyscalls(data, size);
      return;
    }
    if (size < sizeof(gpo_event_header)) return;
    const auto* h = reinterpret_cast<const gpo_event_header*>(data);
    RareFields f{};
    f.row = uint32_t(batch_.size());
    switch (type) {
      case GPO_REC_FORK: {
        if (size < sizeof(gpo_fork_event)) return;
        const auto* e = reinterpret_cast<const gpo_fork_event*>(data);
        bool thread = e->child_tgid == h->tgid;
        AddRow(h->ts, h->tgid, h->tid, thread ? GPO_KIND_THREAD : GPO_KIND_FORK, CommOf(h->tgid, h->tid));
        f.child_pid = int32_t(e->child_tgid);
        f.child_tid = int32_t(e->child_tid);
        SetComm(e->child_tid, e->child_comm);
        break;
      }
      case GPO_REC_EXEC: {
        if (size < sizeof(gpo_exec_event)) return;
        const auto* e = reinterpret_cast<const gpo_exec_event*>(data);
        if (e->old_tid != h->tid) thread_comm_.erase(e->old_tid);
        SetComm(h->tid, e->comm);
        AddRow(h->ts, h->tgid, h->tid, GPO_KIND_EXEC, thread_comm_[h->tid]);
        f.path = BoundedString(e->path, GPO_PATH_LEN);
        f.argv.emplace();
        size_t len = e->argv_len < GPO_ARGV_LEN ? e->argv_len : GPO_ARGV_LEN;
        for (size_t start = 0; start < len;) {
          size_t end = start;
          while (end < len && e->argv[end]) end++;
          f.argv->emplace_back(e->argv + start, end - start);
          start = end + 1;
        }
        f.truncated = e->flags != 0;
        f.request = e->nlink;  // 0: a memfd or deleted file, a fileless exec
        f.dev = int64_t(e->dev);
        f.inode = int64_t(e->inode);
        break;
      }
      case GPO_REC_EXIT: {
        if (size < sizeof(gpo_exit_event)) return;
        const auto* e = reinterpret_cast<const gpo_exit_event*>(data);
        AddRow(h->ts, h->tgid, h->tid, GPO_KIND_EXIT, CommIndex(BoundedString(e->comm, GPO_COMM_LEN)));
        f.exit_code = e->exit_code;
        f.group_dead = int32_t(e->group_dead);
        thread_comm_.erase(h->tid);
        break;
      }
      case GPO_REC_RENAME: {
        if (size < sizeof(gpo_rename_event)) return;
        const auto* e = reinterpret_cast<const gpo_rename_event*>(data);
        SetComm(h->tid, e->comm);
        AddRow(h->ts, h->tgid, h->tid, GPO_KIND_RENAME, thread_comm_[h->tid]);
        break;
      }
      case GPO_REC_ACT: {
        if (size < sizeof(gpo_act_event)) return;
        const auto* e = reinterpret_cast<const gpo_act_event*>(data);
        if (e->kind >= GPO_KIND_COUNT) return;
        AddRow(h->ts, h->tgid, h->tid, RowKind(e->kind), CommIndex(BoundedString(e->comm, GPO_COMM_LEN)));
        batch_.nr.back() = int16_t(e->nr);  // the syscall that did it (0 for library calls)
        batch_.ret.back() = e->ret;
        FillAct(f, *e);
        break;
      }
      default:
        return;
    }
    batch_.rare.push_back(std::move(f));
  }

  RecorderHookPlan plan_;
  record_bpf* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  uint64_t base_ns_ = 0;
  bool durations_ = false;
  bool verbose_ = false;
  uint32_t batch_rows_ = 65536;
  // A partial batch waits at most this long (a live scorer asks for less: it bounds alert latency).
  uint64_t delivery_ns_ = 200000000ull;
  // The same for a batch holding a row that is not a syscall (default: the delivery period).
  uint64_t event_delivery_ns_ = 200000000ull;
  int consumer_nice_ = 0;
  std::atomic<bool> stop_requested_{false};
  std::thread consumer_;
  Napi::ThreadSafeFunction on_batch_, on_done_;
  // Owned by the consumer thread once started.
  int fd_ = -1;
  int write_error_ = 0;
  RecordingBatch batch_;
  Totals totals_;
  std::unordered_map<std::string, int32_t> comm_index_;
  std::vector<std::string> comm_names_;
  std::unordered_map<uint32_t, int32_t> thread_comm_;
  std::vector<bpf_link*> libcall_links_;
  std::vector<std::string> libcall_names_;  // indexed by the uprobe's cookie
};

void InitRecorder(Napi::Env env, Napi::Object exports) {
  exports.Set("Recorder", Recorder::Define(env));
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("syscallRecord", double(sizeof(gpo_syscall)));
  layout.Set("syscallTimedRecord", double(sizeof(gpo_syscall_timed)));
  layout.Set("batchHeader", double(sizeof(gpo_batch_header)));
  layout.Set("execEvent", double(sizeof(gpo_exec_event)));
  layout.Set("pidLimit", double(GPO_PID_LIMIT));
  exports.Set("layout", layout);
  Napi::Array kinds = Napi::Array::New(env);
  for (uint32_t i = 0; i < GPO_KIND_COUNT; i++) kinds.Set(i, RowKindName(uint8_t(i)));
  exports.Set("rowKinds", kinds);
}
