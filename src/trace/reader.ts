// Reads a trace file: the final Parquet file, or the Arrow IPC stream a recording leaves while it runs
// (or after gpo was killed). Batches are streamed, so memory stays bounded whatever the trace's size.
import { openAsBlob, readSync, openSync, closeSync, existsSync, statSync } from 'node:fs';
import { type Data, RecordBatch, RecordBatchReader, Schema, Struct, Utf8, makeData, tableFromIPC } from 'apache-arrow';
import * as parquet from 'parquet-wasm/node';
import { GpoError } from '../errors.js';
import { type TraceMetadata, METADATA_KEY, parseMetadata } from './metadata.js';
import { readIpcBatches } from './writer.js';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DecodeMessage, DecodePiece, DecodeRequest, DecodeStart } from './parquet-worker.js';
import { type RowGroupStats, readFooterStats } from './parquet-footer.js';
import { allNull } from './expand.js';
import { BATCH_ROWS, traceSchema } from './schema.js';

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
  let plan: DecodePlan | undefined;
  let fileSchema: Schema | undefined;
  return {
    path,
    format: 'parquet',
    metadata,
    numRows: meta.numRows(),
    async *batches(options = {}) {
      // From a row on: only the row groups from the one holding it (parquet-wasm's own offset is not
      // reliable when streaming), then the rows before it dropped.
      const groupRows = file.metadata().rowGroups().map((group) => group.numRows());
      let skip = options.fromRow ?? 0;
      let first = 0;
      while (skip > 0 && first < groupRows.length && skip >= groupRows[first]!) skip -= groupRows[first++]!;
      if (first > 0 && first === groupRows.length) return;
      const groups = groupRows.map((_, i) => i).slice(first);
      const batchSize = options.batchRows ?? BATCH_ROWS;
      plan ??= decodePlan(path);
      const segments = segmentsOf(plan, groups, groupRows, options.columns);
      if (segments.some((s) => s.fill.length > 0)) fileSchema ??= schemaOf(file);
      const pieces = useDecodeWorker(meta.numRows())
        ? decodeInWorker(file, segments, { path, batchSize, segments: segments.map(({ rowGroups, columns, rows, rowsOnly }) => ({ rowGroups, columns, rows, rowsOnly })), ahead: DECODE_AHEAD })
        : decodeHere(file, batchSize, segments);
      for await (const piece of pieces) {
        const segment = segments[piece.segment]!;
        const batches = piece.ipc ? tableFromIPC(piece.ipc).batches : [undefined];
        for (const decoded of batches) {
          const rows = decoded?.numRows ?? piece.rows!;
          if (skip >= rows) {
            skip -= rows;
            continue;
          }
          const batch = segment.fill.length === 0 ? decoded! : withFilled(decoded, rows, segment, fileSchema!, options.columns);
          yield skip > 0 ? batch.slice(skip) : batch;
          skip = 0;
        }
      }
    },
  };
}

/** What a reader knows of a file's row groups before decoding them: their statistics from the footer. */
interface DecodePlan {
  stats: RowGroupStats[] | undefined;
}

function decodePlan(path: string): DecodePlan {
  return { stats: readFooterStats(path) };
}

/** A column filled without decoding: all null, or one string value on every row. */
interface Fill {
  name: string;
  value?: Uint8Array;
  /** The last column built, reused while batches have the same size (columns are never written to). */
  cached?: Data;
}

/** Consecutive row groups read alike: the same columns decoded, the same columns filled. */
interface Segment {
  rowGroups: number[];
  /** Rows of each of rowGroups. */
  rows: number[];
  /** Columns to decode; undefined: all (only when none is filled). */
  columns?: string[];
  /** Every column asked for is filled: nothing to decode. */
  rowsOnly: boolean;
  fill: Fill[];
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Per row group, the columns that need no decoding, from the column chunk statistics: entirely null
 * (null_count == rows), or a string column with one value on every row (no nulls, min == max). Only when
 * columns are asked for by name; with no statistics, every column is decoded.
 */
function segmentsOf(plan: DecodePlan, groups: number[], groupRows: number[], columns: string[] | undefined): Segment[] {
  const segments: Segment[] = [];
  for (const g of groups) {
    const rows = groupRows[g]!;
    const stats = plan.stats?.[g]?.rows === rows ? plan.stats[g] : undefined;
    const fill: Fill[] = [];
    const decode: string[] = [];
    for (const name of columns?.length ? columns : []) {
      const chunk = stats?.columns.get(name);
      if (chunk?.nullCount === stats!.rows) fill.push({ name });
      else if (chunk?.nullCount === 0 && chunk.min && chunk.max && chunk.min.length < 64 && sameBytes(chunk.min, chunk.max) && STRING_COLUMNS.has(name))
        fill.push({ name, value: chunk.min });
      else decode.push(name);
    }
    const last = segments.at(-1);
    const key = (f: Fill[]) => f.map((x) => `${x.name}=${x.value ? Buffer.from(x.value).toString('hex') : ''}`).join(',');
    if (last && last.rowGroups.at(-1) === g - 1 && key(last.fill) === key(fill) && String(last.columns) === String(columns && decode)) {
      last.rowGroups.push(g);
      last.rows.push(rows);
    } else segments.push({ rowGroups: [g], rows: [rows], columns: fill.length > 0 ? decode : columns, fill, rowsOnly: fill.length > 0 && decode.length === 0 });
  }
  return segments;
}

/** String columns of the trace schema, the only ones filled with a constant value. */
const STRING_COLUMNS = new Set(traceSchema.fields.filter((f) => f.type instanceof Utf8).map((f) => f.name));

function schemaOf(file: parquet.ParquetFile): Schema {
  return tableFromIPC(file.schema().intoIPCStream()).schema;
}

function constantStrings(value: Uint8Array, n: number): Data {
  const offsets = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) offsets[i] = i * value.length;
  const data = new Uint8Array(n * value.length);
  for (let i = 0; i < n; i++) data.set(value, i * value.length);
  return makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: offsets, data });
}

/** The decoded columns and the filled ones, in the file's column order, as a batch of `rows` rows. */
function withFilled(decoded: RecordBatch | undefined, rows: number, segment: Segment, schema: Schema, columns: string[] | undefined): RecordBatch {
  const wanted = new Set(columns);
  const fields = schema.fields.filter((f) => wanted.has(f.name));
  const children = fields.map((field) => {
    const fill = segment.fill.find((f) => f.name === field.name);
    if (!fill) return decoded!.getChild(field.name)!.data[0]!;
    if (fill.cached?.length !== rows) fill.cached = fill.value ? constantStrings(fill.value, rows) : allNull(field.type, rows);
    return fill.cached;
  });
  const out = new Schema(fields, decoded?.schema.metadata ?? schema.metadata);
  return new RecordBatch(out, makeData({ type: new Struct(fields), length: rows, nullCount: 0, children }));
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

async function* decodeHere(file: parquet.ParquetFile, batchSize: number, segments: Segment[]): AsyncGenerator<DecodePiece> {
  for (let segment = 0; segment < segments.length; segment++) {
    const { rowGroups, columns, rows, rowsOnly } = segments[segment]!;
    if (rowsOnly) {
      for (const n of rows) for (let at = 0; at < n; at += batchSize) yield { segment, rows: Math.min(batchSize, n - at) };
      continue;
    }
    const reader = (await file.stream({ batchSize, rowGroups, ...(columns && { columns }) })).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      yield { segment, ipc: (value as parquet.RecordBatch).intoIPCStream() };
    }
  }
}

/**
 * The batches decoded by src/trace/parquet-worker.ts, in order; the worker ends with the iteration. While
 * the worker starts (a new isolate loading parquet-wasm: a few hundred ms), row groups are decoded here, so
 * the caller does not wait; the worker then takes over from the next row group.
 */
async function* decodeInWorker(file: parquet.ParquetFile, segments: Segment[], request: DecodeRequest): AsyncGenerator<DecodePiece> {
  const worker = new Worker(DECODE_WORKER, { workerData: request });
  const queue: DecodeMessage[] = [];
  let ready = false;
  let wake: (() => void) | undefined;
  const push = (message: DecodeMessage) => {
    if ('ready' in message) ready = true;
    else queue.push(message);
    wake?.();
    wake = undefined;
  };
  worker.on('message', push);
  worker.on('error', (err) => push({ error: String(err).split('\n')[0]! }));
  worker.on('exit', (code) => push({ error: `decoding worker exited (${code})` }));
  try {
    let segment = 0;
    let group = 0;
    while (!ready && queue.length === 0 && segment < segments.length) {
      const whole = segments[segment]!;
      const one = { ...whole, rowGroups: [whole.rowGroups[group]!], rows: [whole.rows[group]!] };
      for await (const piece of decodeHere(file, request.batchSize, [one])) yield { ...piece, segment };
      if (++group === whole.rowGroups.length) {
        segment++;
        group = 0;
      }
      // The worker's `ready` is a message: only a turn of the event loop delivers it (decoding here and the
      // caller's work on the batches resolve promises, which never yield to it).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (segment === segments.length) return;
    worker.postMessage({ start: { segment, group } } satisfies DecodeStart);
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const message = queue.shift()!;
      if ('error' in message) throw new GpoError(`${request.path}: cannot decode (${message.error})`);
      if ('done' in message) return;
      worker.postMessage('more');
      yield message as DecodePiece;
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
