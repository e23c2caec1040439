// Reads a trace file: the final Parquet file, or the Arrow IPC stream a recording leaves while it runs
// (or after gpo was killed). Batches are streamed, so memory stays bounded whatever the trace's size.
import { openAsBlob, readSync, openSync, closeSync, existsSync, statSync } from 'node:fs';
import { RecordBatch, RecordBatchReader, tableFromIPC } from 'apache-arrow';
import * as parquet from 'parquet-wasm/node';
import { GpoError } from '../errors.js';
import { type TraceMetadata, METADATA_KEY, parseMetadata } from './metadata.js';
import { readIpcBatches } from './writer.js';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DecodeMessage, DecodeRequest } from './parquet-worker.js';

export type TraceFormat = 'parquet' | 'arrow-ipc';

export interface TraceFile {
  path: string;
  format: TraceFormat;
  metadata: TraceMetadata;
  /** Rows in the file (Parquet), or null when only reading it through would tell (IPC stream). */
  numRows: number | null;
  /** The batches, from row `fromRow` on (0 by default). */
  batches(options?: { columns?: string[]; batchRows?: number; fromRow?: number }): AsyncGenerator<RecordBatch>;
}

function sniff(path: string): TraceFormat {
  if (!existsSync(path)) throw new GpoError(`${path}: no such file`);
  if (!statSync(path).isFile()) throw new GpoError(`${path}: not a file`);
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(8);
  const n = readSync(fd, head, 0, 8, 0);
  closeSync(fd);
  if (n >= 4 && head.toString('latin1', 0, 4) === 'PAR1') return 'parquet';
  // An Arrow IPC stream starts with a continuation marker (0xFFFFFFFF) then the schema message.
  if (n >= 8 && head.readUInt32LE(0) === 0xffffffff) return 'arrow-ipc';
  throw new GpoError(`${path}: not a gpo trace (neither Parquet nor Arrow IPC)`);
}

export async function openTrace(path: string): Promise<TraceFile> {
  const format = sniff(path);
  return format === 'parquet' ? openParquet(path) : openIpc(path);
}

async function openParquet(path: string): Promise<TraceFile> {
  let file: parquet.ParquetFile;
  try {
    file = await parquet.ParquetFile.fromFile(await openAsBlob(path));
  } catch (err) {
    throw new GpoError(`${path}: corrupt Parquet file (${String(err).split('\n')[0]})`);
  }
  const meta = file.metadata().fileMetadata();
  const metadata = parseMetadata(meta.keyValueMetadata().get(METADATA_KEY), path);
  return {
    path,
    format: 'parquet',
    metadata,
    numRows: meta.numRows(),
    async *batches(options = {}) {
      // From a row on: only the row groups from the one holding it (parquet-wasm's own offset is not
      // reliable when streaming), then the rows before it dropped.
      let skip = options.fromRow ?? 0;
      let rowGroups: number[] | undefined;
      if (skip > 0) {
        const sizes = file.metadata().rowGroups().map((group) => group.numRows());
        let first = 0;
        while (first < sizes.length && skip >= sizes[first]!) skip -= sizes[first++]!;
        if (first === sizes.length) return;
        rowGroups = sizes.map((_, i) => i).slice(first);
      }
      const batchSize = options.batchRows ?? 65536;
      const ipcBuffers = useDecodeWorker(meta.numRows())
        ? decodeInWorker({ path, columns: options.columns, batchSize, ...(rowGroups && { rowGroups }), ahead: DECODE_AHEAD })
        : decodeHere(file, { batchSize, columns: options.columns, ...(rowGroups && { rowGroups }) });
      for await (const ipc of ipcBuffers) {
        for (const batch of tableFromIPC(ipc).batches) {
          if (skip >= batch.numRows) {
            skip -= batch.numRows;
            continue;
          }
          yield skip > 0 ? batch.slice(skip) : batch;
          skip = 0;
        }
      }
    },
  };
}

/** Traces of at least this many rows are decoded in a worker thread, overlapping the caller's work. */
const DECODE_WORKER_ROWS = 1_000_000;
/** Decoded batches the worker may keep waiting for the caller. */
const DECODE_AHEAD = 3;

/** The worker's script, next to this module once built (not when this module runs from its .ts source). */
const DECODE_WORKER = new URL('./parquet-worker.js', import.meta.url);
let decodeWorkerBuilt: boolean | undefined;

/** GPO_DECODE_WORKER=0 never uses the worker, =1 always does; otherwise it depends on the trace's size. */
function useDecodeWorker(rows: number): boolean {
  decodeWorkerBuilt ??= existsSync(fileURLToPath(DECODE_WORKER));
  if (!decodeWorkerBuilt) return false;
  const setting = process.env.GPO_DECODE_WORKER;
  if (setting === '0' || setting === '1') return setting === '1';
  return rows >= DECODE_WORKER_ROWS;
}

async function* decodeHere(file: parquet.ParquetFile, options: parquet.ReaderOptions): AsyncGenerator<Uint8Array> {
  const reader = (await file.stream(options)).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    yield (value as parquet.RecordBatch).intoIPCStream();
  }
}

/** The batches decoded by src/trace/parquet-worker.ts, in order; the worker ends with the iteration. */
async function* decodeInWorker(request: DecodeRequest): AsyncGenerator<Uint8Array> {
  const worker = new Worker(DECODE_WORKER, { workerData: request });
  const queue: DecodeMessage[] = [];
  let wake: (() => void) | undefined;
  const push = (message: DecodeMessage) => {
    queue.push(message);
    wake?.();
    wake = undefined;
  };
  worker.on('message', push);
  worker.on('error', (err) => push({ error: String(err).split('\n')[0]! }));
  worker.on('exit', (code) => push({ error: `decoding worker exited (${code})` }));
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const message = queue.shift()!;
      if ('error' in message) throw new GpoError(`${request.path}: cannot decode (${message.error})`);
      if ('done' in message) return;
      worker.postMessage('more');
      yield message.ipc;
    }
  } finally {
    worker.removeAllListeners();
    await worker.terminate();
  }
}

async function openIpc(path: string): Promise<TraceFile> {
  let schemaMetadata: Map<string, string>;
  try {
    const handle = await import('node:fs/promises').then((fs) => fs.open(path, 'r'));
    try {
      const reader = await RecordBatchReader.from(handle.createReadStream());
      await reader.open();
      schemaMetadata = reader.schema.metadata;
      await reader.cancel();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof GpoError) throw err;
    throw new GpoError(`${path}: corrupt Arrow IPC stream`);
  }
  const metadata = parseMetadata(schemaMetadata.get(METADATA_KEY), path);
  return {
    path,
    format: 'arrow-ipc',
    metadata,
    numRows: null,
    async *batches(options = {}) {
      let skip = options.fromRow ?? 0;
      for await (const whole of readIpcBatches(path)) {
        if (skip >= whole.numRows) {
          skip -= whole.numRows;
          continue;
        }
        const batch = skip > 0 ? whole.slice(skip) : whole;
        skip = 0;
        yield options.columns ? batch.select(options.columns) : batch;
      }
    },
  };
}
