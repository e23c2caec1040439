// The recorder exposed to JavaScript: class Recorder ties the BPF object (recorder-bpf.cc), the
// library-call uprobes (recorder-libcalls.cc), the record decoder (record-decoder.cc) and the consumer
// thread (recorder-consumer.cc) together.
#include "recorder.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "libbpf-log.h"
#include "record-decoder.h"
#include "recorder-bpf.h"
#include "recorder-consumer.h"
#include "recorder-hooks.h"
#include "recorder-libcalls.h"
#include "recording-batch.h"

extern "C" {
#include <linux/types.h>

#include "gpo.h"
}

namespace {

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

// A thread first seen through a syscall (it existed before we attached): its name from /proc.
std::string ThreadNameFromProc(uint32_t tgid, uint32_t tid) {
  std::ifstream f("/proc/" + std::to_string(tgid) + "/task/" + std::to_string(tid) + "/comm");
  std::string name;
  if (!std::getline(f, name)) name = "?";
  return name;
}

}  // namespace

class Recorder : public Napi::ObjectWrap<Recorder> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Recorder",
        {InstanceMethod("start", &Recorder::Start), InstanceMethod("track", &Recorder::Track),
         InstanceMethod("setLauncher", &Recorder::SetLauncher), InstanceMethod("stop", &Recorder::Stop),
         InstanceMethod("counters", &Recorder::Counters), InstanceMethod("close", &Recorder::Close),
         InstanceMethod("redirect", &Recorder::Redirect), InstanceMethod("attachLibcall", &Recorder::AttachLibcall),
         InstanceMethod("hooks", &Recorder::Hooks), InstanceMethod("attachCheck", &Recorder::AttachCheck),
         InstanceMethod("ready", &Recorder::Ready)});
  }

  // new Recorder({ ringBufferBytes, followChildren, durations, observeActs, batchRows, deliveryMs?,
  //               eventDeliveryMs?, consumerNice?, verbose, background? }): loads the programs the hook plan
  // chooses, or throws; with background, loads them on a thread of the pool and ready() settles when done.
  explicit Recorder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Recorder>(info) {
    Napi::Env env = info.Env();
    Napi::Object opts = info[0].As<Napi::Object>();
    options_.ring_buffer_bytes = opts.Get("ringBufferBytes").As<Napi::Number>().Uint32Value();
    options_.follow_children = opts.Get("followChildren").ToBoolean();
    options_.durations = durations_ = opts.Get("durations").ToBoolean();
    options_.observe_acts = opts.Get("observeActs").ToBoolean();
    batch_rows_ = opts.Get("batchRows").As<Napi::Number>().Uint32Value();
    if (opts.Get("deliveryMs").IsNumber())
      pacing_.delivery_ns = uint64_t(opts.Get("deliveryMs").As<Napi::Number>().Uint32Value()) * 1000000ull;
    pacing_.event_delivery_ns = pacing_.delivery_ns;
    if (opts.Get("eventDeliveryMs").IsNumber())
      pacing_.event_delivery_ns = uint64_t(opts.Get("eventDeliveryMs").As<Napi::Number>().Uint32Value()) * 1000000ull;
    if (opts.Get("consumerNice").IsNumber()) pacing_.nice = opts.Get("consumerNice").As<Napi::Number>().Int32Value();
    verbose_ = opts.Get("verbose").ToBoolean();

    if (opts.Get("background").ToBoolean()) {
      // libbpf's echo waits for ready(): what it says comes where a load in the constructor would have said it.
      LibbpfLogBegin(verbose_, true);
      loading_ = true;
      (new LoadWorker(this))->Queue();
      return;
    }
    LibbpfLogBegin(verbose_);
    load_error_ = Load(&load_what_);
    if (load_error_) Error(env, load_what_, load_error_).ThrowAsJavaScriptException();
  }
  ~Recorder() override { Release(); }

 private:
  // Loads the programs (on any thread): 0, or the errno of the step named in *what.
  int Load(const char** what) {
    plan_ = PlanRecorderHooks(durations_, options_.observe_acts);
    int err = bpf_.Load(options_, plan_, what);
    if (!err) decoder_ = std::make_unique<RecordDecoder>(durations_, bpf_.base_ns(), ThreadNameFromProc);
    return err;
  }

  // A background load, on a thread of libuv's pool: the programs verify while JavaScript goes on.
  class LoadWorker : public Napi::AsyncWorker {
   public:
    // The reference keeps the recorder from garbage collection while its load runs.
    explicit LoadWorker(Recorder* recorder)
        : Napi::AsyncWorker(recorder->Env()), recorder_(recorder), keep_(Napi::Persistent(recorder->Value())) {}
    void Execute() override { error_ = recorder_->Load(&what_); }
    void OnOK() override { recorder_->Loaded(Env(), error_, what_); }

   private:
    Recorder* recorder_;
    Napi::ObjectReference keep_;
    int error_ = 0;
    const char* what_ = "";
  };

  void Loaded(Napi::Env env, int error, const char* what) {
    loading_ = false;
    load_error_ = error;
    load_what_ = what;
    if (close_requested_) Release();
    if (!ready_.empty()) Settle(env);
  }

  // Settles the promises ready() gave, once the load is done; libbpf's held echo comes out first.
  void Settle(Napi::Env env) {
    LibbpfLogRelease();
    Napi::Value error = load_error_ ? Error(env, load_what_, load_error_).Value() : env.Undefined();
    for (Napi::Promise::Deferred& d : ready_) load_error_ ? d.Reject(error) : d.Resolve(env.Undefined());
    ready_.clear();
  }

  // ready(): resolves once the programs are loaded, rejects with the error the constructor would have thrown.
  Napi::Value Ready(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ready_.push_back(Napi::Promise::Deferred::New(env));
    Napi::Promise promise = ready_.back().Promise();
    if (!loading_) Settle(env);
    return promise;
  }

  // Methods other than ready() and close() need the programs loaded.
  bool Usable(Napi::Env env) {
    if (!loading_ && !load_error_) return true;
    Napi::Error::New(env, loading_ ? "the BPF recorder is still loading" : "the BPF recorder did not load")
        .ThrowAsJavaScriptException();
    return false;
  }

  Napi::Error Error(Napi::Env env, const char* what, int err) {
    std::string msg = std::string("cannot ") + what + " the BPF recorder: " + strerror(err);
    std::string reason = LibbpfLogReason();
    if (!reason.empty()) msg += ": " + reason;
    if (geteuid() != 0 && (err == EPERM || err == EACCES))
      msg += " (gpo needs root, or CAP_BPF and CAP_PERFMON)";
    else if (!reason.empty())
      msg += " (--verbose shows libbpf's full log)";
    Napi::Error e = Napi::Error::New(env, msg);
    e.Set("errno", Napi::Number::New(env, err));
    return e;
  }

  void Fail(Napi::Env env, const char* what, int err) { Error(env, what, err).ThrowAsJavaScriptException(); }

  // track(tgid): follow this process (and, through the fork hook, its descendants).
  Napi::Value Track(const Napi::CallbackInfo& info) {
    if (!Usable(info.Env())) return info.Env().Undefined();
    bpf_.Track(info[0].As<Napi::Number>().Uint32Value());
    return info.Env().Undefined();
  }

  // attachCheck(): attaches every loaded program and detaches them at once (what `gpo doctor` checks);
  // returns the error with libbpf's reason, or undefined.
  Napi::Value AttachCheck(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env)) return env.Undefined();
    LibbpfLogBegin(verbose_);
    int err = bpf_.Attach();
    bpf_.Detach();
    if (!err) return env.Undefined();
    std::string reason = LibbpfLogReason();
    return Napi::String::New(env, std::string(strerror(-err)) + (reason.empty() ? "" : ": " + reason));
  }

  // hooks(): per signal, the hook serving it on this kernel, or why none can.
  Napi::Value Hooks(const Napi::CallbackInfo& info) {
    if (!Usable(info.Env())) return info.Env().Undefined();
    return HookPlanValue(info.Env(), plan_);
  }

  Napi::Value SetLauncher(const Napi::CallbackInfo& info) {
    if (!Usable(info.Env())) return info.Env().Undefined();
    bpf_.SetLauncher(info[0].As<Napi::Number>().Uint32Value());
    return info.Env().Undefined();
  }

  // attachLibcall(libraryPath, offset, name, stringArg): a uprobe on one function; stringArg (1 or 2, 0 for
  // none) is the argument read as a string. Returns an error message, or undefined.
  Napi::Value AttachLibcall(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env)) return env.Undefined();
    std::string path = info[0].As<Napi::String>();
    uint64_t offset = uint64_t(info[1].As<Napi::Number>().Int64Value());
    std::string name = info[2].As<Napi::String>();
    uint32_t arg = info[3].As<Napi::Number>().Uint32Value();
    std::string error = libcalls_.Attach(bpf_.libcall_program(), path, offset, decoder_->libcall_count(), arg);
    if (!error.empty()) return Napi::String::New(env, error);
    decoder_->AddLibcall(name);
    return env.Undefined();
  }

  // start(fd, onBatch, onDone): attaches the programs and starts draining; batches are appended to fd (an
  // Arrow IPC stream whose schema message is written).
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env)) return env.Undefined();
    LibbpfLogBegin(verbose_);
    int err = bpf_.Attach();
    if (err) {
      Fail(env, "attach", -err);
      return env.Undefined();
    }
    consumer_ = std::make_unique<RecordConsumer>(bpf_, libcalls_, *decoder_, durations_, batch_rows_, pacing_);
    err = consumer_->Start(env, info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Function>(),
                           info[2].As<Napi::Function>());
    if (err) Fail(env, "open the ring buffer of", err);
    return env.Undefined();
  }

  // redirect(fd): batches go to fd (another stream whose schema message is written) from the next one on.
  Napi::Value Redirect(const Napi::CallbackInfo& info) {
    if (consumer_) consumer_->Redirect(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  }

  // stop(): the consumer detaches, drains what is left (ring buffer, then per-CPU stages), calls onDone.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (consumer_) consumer_->RequestStop();
    return info.Env().Undefined();
  }

  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (loading_ || !bpf_.loaded()) return CountersObject(env, std::vector<uint64_t>(GPO_CNT_MAX, 0));
    return CountersObject(env, bpf_.ReadCounters());
  }

  // close(): after onDone, frees the ring buffer and the programs now rather than at garbage collection
  // (the ring buffer's mapping is most of the recorder's memory).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (loading_)
      close_requested_ = true;
    else
      Release();
    return info.Env().Undefined();
  }

  void Release() {
    consumer_.reset();
    libcalls_.DetachAll();
    bpf_.Destroy();
  }

  RecorderBpfOptions options_ = {};
  RecorderHookPlan plan_;
  // A background load: running (the pool thread owns plan_, bpf_ and decoder_ until Loaded), its result,
  // the promises waiting for it, and a close() that came meanwhile.
  bool loading_ = false;
  int load_error_ = 0;
  const char* load_what_ = "";
  std::vector<Napi::Promise::Deferred> ready_;
  bool close_requested_ = false;
  bool durations_ = false;
  bool verbose_ = false;
  uint32_t batch_rows_ = 65536;
  ConsumerPacing pacing_;
  // Destroyed in reverse: the consumer thread ends before what it uses goes.
  RecorderBpf bpf_;
  LibcallProbes libcalls_;
  std::unique_ptr<RecordDecoder> decoder_;
  std::unique_ptr<RecordConsumer> consumer_;
};

void InitRecorder(Napi::Env env, Napi::Object exports) {
  exports.Set("Recorder", Recorder::Define(env));
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("syscallRecord", double(sizeof(gpo_syscall)));
  layout.Set("syscallTimedRecord", double(sizeof(gpo_syscall_timed)));
  layout.Set("batchHeader", double(sizeof(gpo_batch_header)));
  layout.Set("eventHeader", double(sizeof(gpo_event_header)));
  layout.Set("forkEvent", double(sizeof(gpo_fork_event)));
  layout.Set("execEvent", double(sizeof(gpo_exec_event)));
  layout.Set("exitEvent", double(sizeof(gpo_exit_event)));
  layout.Set("renameEvent", double(sizeof(gpo_rename_event)));
  layout.Set("actEvent", double(sizeof(gpo_act_event)));
  layout.Set("pidLimit", double(GPO_PID_LIMIT));
  exports.Set("layout", layout);
  Napi::Array kinds = Napi::Array::New(env);
  for (uint32_t i = 0; i < GPO_KIND_COUNT; i++) kinds.Set(i, RowKindName(uint8_t(i)));
  exports.Set("rowKinds", kinds);
}
