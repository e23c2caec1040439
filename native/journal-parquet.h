// The Parquet file of a recording's journal, encoded by the addon alone: the journal's batches, read and
// expanded natively (native/journal-reader.cc), go straight into the row groups of the Parquet writer
// (native/parquet-writer.cc). What src/trace/journal-parquet.ts drives, in the segment worker or the main
// thread, so that neither holds the rows in JavaScript.
#pragma once
#include <napi.h>

// Adds the JournalParquet class to the exports:
// new JournalParquet(journalFd, columns, statistics, rowGroupRows): columns as ParquetWriter's.
//   pump(upTo) -> Buffer: reads the journal's messages complete up to byte upTo (a chunk at most) and returns
//     the file's bytes of the row groups they completed (often none).
//   finish(keyValueMetadata, createdBy) -> Buffer: the last row group (if rows wait) and the footer.
//   offset: where the next unread message starts; rows: rows read so far.
void InitJournalParquet(Napi::Env env, Napi::Object exports);
