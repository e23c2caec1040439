// Process control for ending the tree gpo launched: gpo as child subreaper, signals through pidfds.
#pragma once
#include <napi.h>

// Adds becomeChildSubreaper(), signalProcess(pid, startTicks, signal) and reapChild(pid) to the module exports.
void InitProcessControl(Napi::Env env, Napi::Object exports);
