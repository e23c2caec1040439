// Reads a trace file: the final Parquet file, or the Arrow IPC stream a recording leaves while it runs
// (or after gpo was killed). Batches are streamed, so memory stays bounded whatever the trace's size.
import { openAsBlob, readSync, openSync, closeSync, existsSync, statSync } from 'node:fs';
import { type Data, RecordBatch, RecordBatchReader, Schema, Struct, Utf8, makeData, tableFromIPC } from 'apache-arrow';
import * as parquet from 'parquet-wasm/node';
import { GpoError } from '../errors.js';
import { type TraceMetadata, METADATA_KEY, parseMetadata } from './metadata.js';
import { readIpcBatches } from './writer.js';
import { lastBatchMetadata } from './stream-metadata.js';
import { isSegmentedTrace, segmentFiles } from './segment-layout.js';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DecodeMessage, DecodePiece, DecodeRequest, DecodeStart } from './parquet-worker.js';
import { type RowGroupStats, readFooterStats } from './parquet-footer.js';
import { allNull } from './expand.js';
import { BATCH_ROWS, EXTRA_COLUMN, recordingSchema, traceSchema } from './schema.js';

export type TraceFormat = 'parquet' | 'arrow-ipc' | 'segmented';

export interface TraceFile {
  path: string;
  format: TraceFormat;
  metadata: TraceMetadata;
  /** Rows in the file (Parquet), or null when only reading it through would tell (IPC stream). */
  numRows: number | null;
  /** A segmented trace's parts: how many are read as Parquet, and as journals (open parts: gpo was killed). */
  parts?: { parquet: number; journals: number };
  /** The batches, from row `fromRow` on (0 by default). */
  batches(options?: { columns?: string[]; batchRows?: number; fromRow?: number }): AsyncGenerator<RecordBatch>;
}

function sniff(path: string): TraceFormat {
  if (!existsSync(path)) throw new GpoError(`${path}: no such file`);
  if (statSync(path).isDirectory() && isSegmentedTrace(path)) return 'segmented';
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
  if (format === 'segmented') return openSegmented(path);
  return format === 'parquet' ? openParquet(path) : openIpc(path);
}

/**
 * A segmented trace (src/trace/segment-layout.ts) as one trace: its parts in order, a part's journal where
 * it was not closed (gpo was killed). The metadata is the newest part's (the latest counters, and what --max-size
 * removed); parts it says were removed are skipped if a crash left them.
 */
async function openSegmented(path: string): Promise<TraceFile> {
  const files = segmentFiles(path)!;
  const parts: TraceFile[] = [];
  for (const file of files) parts.push(file.journal ? await openIpc(file.path) : await openParquet(file.path));
  const metadata = parts.at(-1)!.metadata;
  const removed = metadata.segment?.dropped.segments ?? 0;
  const keptAt = files.flatMap((file, i) => (file.index >= removed ? [i] : []));
  const kept = keptAt.map((i) => parts[i]!);
  for (const i of keptAt) {
    const part = parts[i]!;
    if (part.metadata.recording_id !== metadata.recording_id)
      throw new GpoError(
        `${path}: not one trace: ${part.path} is of recording ${part.metadata.recording_id ?? '(none)'}, ${parts.at(-1)!.path} of ${metadata.recording_id ?? '(none)'}`,
      );
    if (part.metadata.segment?.index !== files[i]!.index)
      throw new GpoError(`${path}: not one trace: ${part.path} says it is part ${part.metadata.segment?.index ?? '(none)'}`);
  }
  const journals = keptAt.filter((i) => files[i]!.journal).length;
  const numRows = kept.every((p) => p.numRows !== null) ? kept.reduce((sum, p) => sum + p.numRows!, 0) : null;
  return {
    path,
    format: 'segmented',
    metadata,
    numRows,
    parts: { parquet: kept.length - journals, journals },
    async *batches(options = {}) {
      let skip = options.fromRow ?? 0;
      // Each part guards its own span; this, the whole recording's.
      const span = new TimeSpanGuard(path);
      for (const part of kept) {
        // Whole parts before the first row asked for are not decoded.
        if (part.numRows !== null && skip >= part.numRows) {
          skip -= part.numRows;
          continue;
        }
        for await (const batch of part.batches({ ...options, fromRow: skip })) {
          span.check(batch);
          yield batch;
        }
        skip = 0;
      }
    },
  };
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
  try {
    fileSchema = schemaOf(file);
  } catch (err) {
    throw new GpoError(`${path}: corrupt Parquet file (${String(err).split('\n')[0]})`);
  }
  checkColumns(fileSchema, traceSchema, path);
  return {
    path,
    format: 'parquet',
    metadata,
    numRows: meta.numRows(),
    async *batches(options = {}) {
      // From a row on: only the row groups from the one holding it (parquet-wasm's own offset is not
      // reliable when streaming), then the rows before it dropped.
      const groupRows = file
        .metadata()
        .rowGroups()
        .map((group) => group.numRows());
      let skip = options.fromRow ?? 0;
      let first = 0;
      while (skip > 0 && first < groupRows.length && skip >= groupRows[first]!) skip -= groupRows[first++]!;
      if (first > 0 && first === groupRows.length) return;
      const groups = groupRows.map((_, i) => i).slice(first);
      const batchSize = options.batchRows ?? BATCH_ROWS;
      plan ??= decodePlan(path);
      const segments = segmentsOf(plan, groups, groupRows, options.columns);
      const span = new TimeSpanGuard(path);
      const pieces = useDecodeWorker(meta.numRows())
        ? decodeInWorker(file, segments, {
            path,
            batchSize,
            segments: segments.map(({ rowGroups, columns, rows, rowsOnly }) => ({ rowGroups, columns, rows, rowsOnly })),
            ahead: DECODE_AHEAD,
          })
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
          span.check(batch);
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
  let streamSchema: Schema;
  try {
    const handle = await import('node:fs/promises').then((fs) => fs.open(path, 'r'));
    try {
      const reader = await RecordBatchReader.from(handle.createReadStream());
      await reader.open();
      schemaMetadata = reader.schema.metadata;
      streamSchema = reader.schema;
      await reader.cancel();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof GpoError) throw err;
    throw new GpoError(`${path}: corrupt Arrow IPC stream`);
  }
  // The counters (and, once the stream ended, the final document) come after the schema, with the batches.
  const text = schemaMetadata.get(METADATA_KEY);
  const later = text === undefined ? undefined : lastBatchMetadata(path);
  const metadata = parseMetadata(later === undefined ? text : mergeMetadataText(text!, later, path), path);
  checkColumns(streamSchema, streamSchema.fields.some((f) => f.name === EXTRA_COLUMN) ? recordingSchema : traceSchema, path);
  return {
    path,
    format: 'arrow-ipc',
    metadata,
    numRows: null,
    async *batches(options = {}) {
      let skip = options.fromRow ?? 0;
      const span = new TimeSpanGuard(path);
      for await (const whole of readIpcBatches(path)) {
        span.check(whole);
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

/** The schema's metadata document with the top-level fields a later batch updated. */
function mergeMetadataText(first: string, later: string, path: string): string {
  try {
    return JSON.stringify({ ...(JSON.parse(first) as object), ...(JSON.parse(later) as object) });
  } catch {
    throw new GpoError(`${path}: corrupt gpo metadata`);
  }
}

/** Every column of `expected` must be in the file with its type: readers (and the WebAssembly decoder)
 * take them as they are. */
function checkColumns(schema: Schema, expected: Schema, path: string): void {
  const types = new Map(schema.fields.map((f) => [f.name, String(f.type)]));
  for (const field of expected.fields) {
    const type = types.get(field.name);
    if (type === undefined) throw new GpoError(`${path}: not a gpo trace: column ${field.name} is missing`);
    if (type !== String(field.type)) throw new GpoError(`${path}: not a gpo trace: column ${field.name} is ${type}, expected ${String(field.type)}`);
  }
}

/** The longest time a trace may span: its cost (rate windows of each process, from its first call to its
 * last) grows with the span, so a crafted one would make scoring run for hours. */
export const MAX_TRACE_SPAN_DAYS = 31;
const DAY_NS = 86_400e9;

/**
 * Refuses a trace whose times are negative or span more than MAX_TRACE_SPAN_DAYS, batch by batch before the
 * batch is used (the file's statistics could lie). Reads the high 32 bits of each time only: units of
 * 2^32 ns (4.3 s) are precise enough, and an Int32Array pass costs about a nanosecond a row.
 */
class TimeSpanGuard {
  private lo = Infinity;
  private hi = -Infinity;
  constructor(private readonly path: string) {}

  check(batch: RecordBatch): void {
    const data = batch.getChild('ts_ns')?.data;
    if (!data) return;
    for (const chunk of data) {
      const words = new Int32Array(chunk.values.buffer, chunk.values.byteOffset, chunk.length * 2);
      let lo = this.lo;
      let hi = this.hi;
      for (let i = 1; i < words.length; i += 2) {
        const w = words[i]!;
        if (w < lo) lo = w;
        if (w > hi) hi = w;
      }
      this.lo = lo;
      this.hi = hi;
    }
    if (this.lo < 0) throw new GpoError(`${this.path}: not a gpo trace: a row has a negative time`);
    const spanDays = ((this.hi - this.lo) * 2 ** 32) / DAY_NS;
    if (spanDays > MAX_TRACE_SPAN_DAYS)
      throw new GpoError(`${this.path}: the time span of its rows (${Math.round(spanDays)} days) is longer than gpo reads (${MAX_TRACE_SPAN_DAYS} days)`);
  }
}
