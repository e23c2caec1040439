// The BPF recorder exposed to JavaScript as class Recorder (see src/native/addon.ts for its typed interface).
#pragma once
#include <napi.h>

// Adds Recorder and layout (record sizes shared with the BPF programs) to the module exports.
void InitRecorder(Napi::Env env, Napi::Object exports);
