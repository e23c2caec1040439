// Hook feature probe for `gpo doctor`: loads and attaches one tiny BPF program per hook type.
#pragma once
#include <napi.h>

// Adds probeHooks(options?: { verbose?: boolean }) to the module exports.
void InitProbe(Napi::Env env, Napi::Object exports);
