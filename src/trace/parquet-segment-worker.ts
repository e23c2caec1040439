// Writes a recording's Parquet file in a worker thread while the recording goes on: the batches the addon
// appends to the journal (the Arrow IPC stream) are read back from the page cache by the journal's own
// descriptor (descriptors are the process's, shared with this thread) and encoded as they arrive, so
// stopping waits only for what was not encoded yet. The main thread sends how far the journal is complete.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { JournalParquet } from './journal-parquet.js';
import type { ParquetFileSpec } from './parquet-encoder.js';
import { failureReason } from '../errors.js';

export interface SegmentWriterData {
  journalFd: number;
  /** The Parquet file (created new by the main thread), written from its start. */
  parquetFd: number;
  /** The file's columns and footer metadata (gpo's: reservedMetadata, room for the final document). */
  file: ParquetFileSpec;
}

/** To the worker: the journal is complete up to this byte; or: it is final, write the end of the file. */
export type SegmentWriterRequest = { upTo: number } | { finish: { upTo: number } };
/** From the worker: rows encoded so far; the file is complete (its footer with the reserved metadata), of
 * `bytes` bytes; or why it could not be written. */
export type SegmentWriterMessage = { rows: number } | { done: { rows: number; bytes: number } } | { error: string };

const data = workerData as SegmentWriterData;
const port = parentPort!;
let upTo = 0;
let finish: { upTo: number } | undefined;
let wake: (() => void) | undefined;
port.on('message', (request: SegmentWriterRequest) => {
  if ('finish' in request) {
    finish = request.finish;
    // Recording is over: what is left is what gpo's exit waits for.
    renice(0);
    upTo = Math.max(upTo, request.finish.upTo);
  } else upTo = Math.max(upTo, request.upTo);
  wake?.();
  wake = undefined;
});

// Encoding is the recording's least urgent work: the kernel's ring buffer must be drained first and the
// target must not be slowed, so while recording this thread takes only CPU time nobody else wants (nice 19;
// Linux sets the nice value of the calling thread only). A recording that keeps every CPU busy is encoded
// when it stops, as if it had not been written while recording.
function renice(value: number): void {
  try {
    setPriority(value);
  } catch {
    // Not allowed (not root, or a container that forbids it): the priority stays as it is.
  }
}
renice(19);

async function run(): Promise<void> {
  const journal = new JournalParquet(data);
  for (;;) {
    if (journal.step(upTo)) {
      port.postMessage({ rows: journal.rows } satisfies SegmentWriterMessage);
      // A turn of the event loop between chunks lets a message in (a newer end of the journal, the end of
      // recording).
      await new Promise<void>((resolve) => setImmediate(resolve));
    } else if (finish) {
      // Everything complete is encoded and the journal is final.
      break;
    } else await new Promise<void>((resolve) => (wake = resolve));
  }
  port.postMessage({ done: journal.finish() } satisfies SegmentWriterMessage);
}

run().catch((err: unknown) => {
  port.postMessage({ error: failureReason(err) } satisfies SegmentWriterMessage);
});
