// Module init for gpo's native addon: each part of the addon adds its functions to the exports.
#include <napi.h>

#include "probe.h"
#include "recorder.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitProbe(env, exports);
  InitRecorder(env, exports);
  return exports;
}

NODE_API_MODULE(gpo_native, Init)
