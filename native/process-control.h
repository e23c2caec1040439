// Process control for ending the tree gpo launched: gpo as child subreaper, signals through pidfds.
#pragma once
#include <napi.h>

// Adds becomeChildSubreaper() and signalProcess(pid, startTicks, signal) to the module exports.
void InitProcessControl(Napi::Env env, Napi::Object exports);
