// The Parquet file of a journal, encoded from its batches as JournalTail reads them: what the segment writer's
// worker runs while recording (src/trace/parquet-segment-worker.ts), and what the main thread runs itself
// when a recording ends before its journal was worth a worker (src/trace/parquet-segment.ts).
import { writeSync } from 'node:fs';
import type { RecordBatch } from 'apache-arrow';
import { JournalTail } from './journal-tail.js';
import { collectEvery } from './memory.js';
import type { SegmentWriterData } from './parquet-segment-worker.js';
import { streamParquet, writerProperties } from './writer.js';

/** Writes the Parquet file from its start, from the batches `batchesOf` takes from the journal's tail;
 * returns the rows written and the file's size. */
export async function encodeJournal(
  data: SegmentWriterData,
  batchesOf: (tail: JournalTail) => AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
): Promise<{ rows: number; bytes: number }> {
  const tail = new JournalTail(data.journalFd);
  let position = 0;
  await streamParquet(
    batchesOf(tail),
    writerProperties(data.gpoVersion, data.reservedMetadata),
    (bytes) => {
      for (let done = 0; done < bytes.length;) done += writeSync(data.parquetFd, bytes, done, bytes.length - done, position + done);
      position += bytes.length;
    },
    // Collections keep this part of gpo's memory small (encoding allocates large short-lived buffers).
    collectEvery(2),
  );
  return { rows: tail.rows, bytes: position };
}

/** The journal's batches up to byte `upTo` (it is complete there), a chunk at a time. */
export function* journalUpTo(tail: JournalTail, upTo: number): Generator<RecordBatch> {
  for (;;) {
    const from = tail.offset;
    yield* tail.read(upTo);
    if (tail.offset === from) return;
  }
}
