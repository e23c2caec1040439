// Decodes a Parquet trace in a worker thread, so that decoding the next batches overlaps what the caller
// does with the current one (train, score): each decoded batch is posted as an Arrow IPC buffer
// (transferred, not copied). At most `ahead` batches wait to be taken, so memory stays bounded.
import { openAsBlob } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import * as parquet from 'parquet-wasm/node';

export interface DecodeRequest {
  path: string;
  batchSize: number;
  /** Read in turn: these row groups (with `rows` rows each), these columns (all when undefined);
   * rowsOnly: nothing to decode, only the batch sizes are sent. */
  segments: { rowGroups: number[]; rows: number[]; columns?: string[]; rowsOnly: boolean }[];
  ahead: number;
}

/** A decoded batch of a segment (Arrow IPC), or only its size when the segment decodes no column. */
export type DecodePiece = { segment: number; ipc?: Uint8Array; rows?: number };

/** From the worker: `ready` once it has opened the file, then pieces until done (or an error). To the
 * worker: first where to start (the caller decodes the row groups before it itself while the worker
 * starts), then 'more' for each piece taken. */
export type DecodeMessage = DecodePiece | { ready: true } | { done: true } | { error: string };
export type DecodeStart = { start: { segment: number; group: number } };

const request = workerData as DecodeRequest;
const port = parentPort!;
let credits = request.ahead;
let wake: (() => void) | undefined;
let start: DecodeStart['start'] | undefined;
port.on('message', (message: 'more' | DecodeStart) => {
  if (message === 'more') credits++;
  else start = message.start;
  wake?.();
  wake = undefined;
});

async function run(): Promise<void> {
  const file = await parquet.ParquetFile.fromFile(await openAsBlob(request.path));
  port.postMessage({ ready: true } satisfies DecodeMessage);
  while (!start) await new Promise<void>((resolve) => (wake = resolve));
  const from = start;
  const credit = async () => {
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    credits--;
  };
  for (let segment = from.segment; segment < request.segments.length; segment++) {
    const skip = segment === from.segment ? from.group : 0;
    const { columns, rowsOnly } = request.segments[segment]!;
    const rowGroups = request.segments[segment]!.rowGroups.slice(skip);
    const rows = request.segments[segment]!.rows.slice(skip);
    if (rowGroups.length === 0) continue;
    if (rowsOnly) {
      for (const n of rows)
        for (let at = 0; at < n; at += request.batchSize) {
          await credit();
          port.postMessage({ segment, rows: Math.min(request.batchSize, n - at) } satisfies DecodeMessage);
        }
      continue;
    }
    const reader = (await file.stream({ batchSize: request.batchSize, rowGroups, ...(columns && { columns }) })).getReader();
    for (;;) {
      await credit();
      const { value, done } = await reader.read();
      if (done) {
        credits++;
        break;
      }
      const ipc = (value as parquet.RecordBatch).intoIPCStream();
      port.postMessage({ segment, ipc } satisfies DecodeMessage, [ipc.buffer as ArrayBuffer]);
    }
  }
  port.postMessage({ done: true } satisfies DecodeMessage);
}

run().catch((err: unknown) => port.postMessage({ error: String(err).split('\n')[0]! } satisfies DecodeMessage));
