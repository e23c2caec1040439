// Decodes a Parquet trace in a worker thread, so that decoding the next batches overlaps what the caller
// does with the current one (train, score): each decoded batch is posted as an Arrow IPC buffer
// (transferred, not copied). At most `ahead` batches wait to be taken, so memory stays bounded.
import { openAsBlob } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import * as parquet from 'parquet-wasm/node';

export interface DecodeRequest {
  path: string;
  columns?: string[];
  batchSize: number;
  rowGroups?: number[];
  ahead: number;
}

export type DecodeMessage = { ipc: Uint8Array } | { done: true } | { error: string };

const request = workerData as DecodeRequest;
const port = parentPort!;
let credits = request.ahead;
let wake: (() => void) | undefined;
port.on('message', () => {
  credits++;
  wake?.();
  wake = undefined;
});

async function run(): Promise<void> {
  const file = await parquet.ParquetFile.fromFile(await openAsBlob(request.path));
  const stream = await file.stream({ batchSize: request.batchSize, columns: request.columns, ...(request.rowGroups && { rowGroups: request.rowGroups }) });
  const reader = stream.getReader();
  for (;;) {
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    const { value, done } = await reader.read();
    if (done) break;
    const ipc = (value as parquet.RecordBatch).intoIPCStream();
    credits--;
    port.postMessage({ ipc } satisfies DecodeMessage, [ipc.buffer as ArrayBuffer]);
  }
  port.postMessage({ done: true } satisfies DecodeMessage);
}

run().catch((err: unknown) => port.postMessage({ error: String(err).split('\n')[0]! } satisfies DecodeMessage));
