// A Parquet file writer for gpo's traces (src/trace/writer.ts drives it): the file's bytes are handed back
// in order, row group by row group, then the footer (FileMetaData: schema, row groups, key-value metadata).
#pragma once
#include <napi.h>

// Adds the ParquetWriter class to the exports.
void InitParquetWriter(Napi::Env env, Napi::Object exports);
