// Module init for gpo's native addon: each part of the addon adds its functions to the exports.
#include <napi.h>

#include "arrow-ipc.h"
#include "decode-records.h"
#include "journal-parquet.h"
#include "parquet-writer.h"
#include "probe.h"
#include "process-control.h"
#include "recorder.h"
#include "recording-batch.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitArrowIpc(env, exports);
  InitDecodeRecords(env, exports);
  InitJournalParquet(env, exports);
  InitParquetWriter(env, exports);
  InitProbe(env, exports);
  InitProcessControl(env, exports);
  InitRecorder(env, exports);
  InitRecordingBatch(env, exports);
  return exports;
}

NODE_API_MODULE(gpo_native, Init)
