// The record decoder exposed to JavaScript for tests (see decodeRecords in src/native/addon.ts).
#pragma once
#include <napi.h>

// Adds decodeRecords(records, options?) to the module exports.
void InitDecodeRecords(Napi::Env env, Napi::Object exports);
