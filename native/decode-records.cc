// decodeRecords(records, options?): the recorder's record decoder (record-decoder.cc) on records given as
// bytes, one Uint8Array per ring-buffer record, without BPF or root: for tests with records made by hand.
#include "decode-records.h"

#include "record-decoder.h"
#include "recording-batch.h"

namespace {

// options: { durations?, baseNs?: bigint, libcalls?: string[], threadName?: (tgid, tid) => string | Buffer }.
// A thread no record named gets threadName's answer, "?" without one.
Napi::Value DecodeRecordsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array records = info[0].As<Napi::Array>();
  Napi::Object opts = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  bool durations = opts.Get("durations").ToBoolean();
  uint64_t base_ns = 0;
  if (opts.Get("baseNs").IsBigInt()) {
    bool lossless;
    base_ns = opts.Get("baseNs").As<Napi::BigInt>().Uint64Value(&lossless);
  }
  Napi::Value thread_name_fn = opts.Get("threadName");
  RecordDecoder::ThreadName thread_name = [&](uint32_t tgid, uint32_t tid) -> std::string {
    if (!thread_name_fn.IsFunction()) return "?";
    Napi::Value name =
        thread_name_fn.As<Napi::Function>().Call({Napi::Number::New(env, tgid), Napi::Number::New(env, tid)});
    if (name.IsBuffer())
      return std::string(name.As<Napi::Buffer<char>>().Data(), name.As<Napi::Buffer<char>>().Length());
    return name.IsString() ? name.As<Napi::String>().Utf8Value() : "?";
  };
  RecordDecoder decoder(durations, base_ns, thread_name);
  if (opts.Get("libcalls").IsArray()) {
    Napi::Array libcalls = opts.Get("libcalls").As<Napi::Array>();
    for (uint32_t i = 0; i < libcalls.Length(); i++) decoder.AddLibcall(libcalls.Get(i).As<Napi::String>());
  }
  RecordingBatch batch;
  for (uint32_t i = 0; i < records.Length(); i++) {
    // The record's own bytes, not a copy: a decoder reading past the end would read its neighbours.
    Napi::Value value = records.Get(i);
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      Napi::TypeError::New(env, "decodeRecords: each record is a Uint8Array").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto record = value.As<Napi::Uint8Array>();
    decoder.Decode(record.Data(), record.ByteLength(), batch);
    if (env.IsExceptionPending()) return env.Undefined();
  }
  Napi::Value rows = RecordingBatchRows(env, batch, durations, decoder.comm_names());
  if (env.IsExceptionPending()) return env.Undefined();
  const DecoderTotals& t = decoder.totals();
  Napi::Object totals = Napi::Object::New(env);
  totals.Set("rows", double(t.rows));
  totals.Set("syscallRows", double(t.syscall_rows));
  totals.Set("lifecycleRows", double(t.lifecycle_rows));
  totals.Set("batchesRead", double(t.batches_read));
  totals.Set("recordsRejected", double(t.records_rejected));
  Napi::Object out = Napi::Object::New(env);
  out.Set("rows", rows);
  out.Set("totals", totals);
  return out;
}

}  // namespace

void InitDecodeRecords(Napi::Env env, Napi::Object exports) {
  exports.Set("decodeRecords", Napi::Function::New(env, DecodeRecordsJs, "decodeRecords"));
}
