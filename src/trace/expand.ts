// Expands a batch of a recording's Arrow IPC stream (core columns + `extra` JSON) to the trace schema: the
// core columns are kept as they are, the other columns are built from the few rows that have extras.
import { type Data, type DataType, Int16, Int32, Int64, List, RecordBatch, Struct, Utf8, makeData } from 'apache-arrow';
import { EXTRA_COLUMN, traceSchema } from './schema.js';

const utf8 = new TextEncoder();

/** The other columns of one rare row, by column name: numbers, strings, string lists; int64 as strings. */
export type ExtraFields = Record<string, number | string | string[]>;

interface ExtraRow {
  row: number;
  fields: ExtraFields;
}

function validityBitmap(length: number, isValid: (row: number) => boolean): { bits: Uint8Array; nulls: number } {
  const bits = new Uint8Array((length + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < length; i++) {
    if (isValid(i)) bits[i >> 3] |= 1 << (i & 7);
    else nulls++;
  }
  return { bits, nulls };
}

/** A string column from a per-row index into a table of encoded strings. */
function stringsByIndex(indices: ArrayLike<number>, table: (i: number) => Uint8Array): Data<Utf8> {
  const n = indices.length;
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += table(indices[i]).length;
    offsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < n; i++) {
    const bytes = table(indices[i]);
    const at = offsets[i];
    for (let j = 0; j < bytes.length; j++) data[at + j] = bytes[j];
  }
  return makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: offsets, data });
}

let zeros = new ArrayBuffer(1 << 20);

/** A column with no values in this batch: buffers of full size (other readers check sizes), all null.
 * They are views of one shared buffer of zeros (never written), so null columns cost no memory. */
export function allNull(type: DataType, n: number): Data {
  if (zeros.byteLength < 8 * (n + 1)) zeros = new ArrayBuffer(8 * (n + 1));
  const nullBitmap = new Uint8Array(zeros, 0, (n + 7) >> 3);
  const offsets = () => new Int32Array(zeros, 0, n + 1);
  if (type instanceof Utf8) return makeData({ type, length: n, nullCount: n, nullBitmap, valueOffsets: offsets(), data: new Uint8Array(0) });
  if (type instanceof List) return makeData({ type, length: n, nullCount: n, nullBitmap, valueOffsets: offsets(), child: allNull(type.children[0].type, 0) });
  const ArrayType = (type as unknown as { ArrayType: new (b: ArrayBuffer, at: number, n: number) => ArrayBufferView }).ArrayType;
  return makeData({ type, length: n, nullCount: n, nullBitmap, data: new ArrayType(zeros, 0, n) } as never);
}

function sparseNumbers(type: Int16 | Int32 | Int64, n: number, rows: ExtraRow[], name: string): Data {
  const data = type instanceof Int64 ? new BigInt64Array(n) : type instanceof Int16 ? new Int16Array(n) : new Int32Array(n);
  const bits = new Uint8Array((n + 7) >> 3);
  let valid = 0;
  for (const { row, fields } of rows) {
    const v = fields[name];
    if (v === undefined) continue;
    data[row] = (type instanceof Int64 ? BigInt(v as string | number) : Number(v)) as never;
    bits[row >> 3] |= 1 << (row & 7);
    valid++;
  }
  return makeData({ type, length: n, nullCount: n - valid, nullBitmap: bits, data } as never);
}

function sparseStrings(n: number, rows: ExtraRow[], name: string): Data {
  const byRow = new Map<number, Uint8Array>();
  for (const { row, fields } of rows) if (typeof fields[name] === 'string') byRow.set(row, utf8.encode(fields[name] as string));
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += byRow.get(i)?.length ?? 0;
    offsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (const [row, bytes] of byRow) data.set(bytes, offsets[row]);
  const { bits, nulls } = validityBitmap(n, (i) => byRow.has(i));
  return makeData({ type: new Utf8(), length: n, nullCount: nulls, nullBitmap: bits, valueOffsets: offsets, data });
}

function sparseStringLists(type: List<Utf8>, n: number, rows: ExtraRow[], name: string): Data {
  const byRow = new Map<number, string[]>();
  for (const { row, fields } of rows) if (Array.isArray(fields[name])) byRow.set(row, fields[name] as string[]);
  const items: Uint8Array[] = [];
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (const s of byRow.get(i) ?? []) items.push(utf8.encode(s));
    offsets[i + 1] = items.length;
  }
  const child = stringsByIndex(Int32Array.from(items.keys()), (i) => items[i]);
  const { bits, nulls } = validityBitmap(n, (i) => byRow.has(i));
  return makeData({ type, length: n, nullCount: nulls, nullBitmap: bits, valueOffsets: offsets, child });
}

function sparseColumn(type: DataType, n: number, rows: ExtraRow[], name: string): Data {
  if (rows.length === 0) return allNull(type, n);
  if (type instanceof Utf8) return sparseStrings(n, rows, name);
  if (type instanceof List) return sparseStringLists(type as List<Utf8>, n, rows, name);
  return sparseNumbers(type as Int16 | Int32 | Int64, n, rows, name);
}

/** A batch of the recording stream as a batch of the trace schema. Batches already in it pass through. */
export function expandRecordingBatch(batch: RecordBatch): RecordBatch {
  const extra = batch.getChild(EXTRA_COLUMN);
  if (!extra) return batch;
  const n = batch.numRows;
  const rows: ExtraRow[] = [];
  if (extra.nullCount < n)
    for (let row = 0; row < n; row++) {
      const json = extra.get(row) as string | null;
      if (json !== null) rows.push({ row, fields: JSON.parse(json) as ExtraFields });
    }
  const children = traceSchema.fields.map((f) => batch.getChild(f.name)?.data[0] ?? sparseColumn(f.type, n, rows, f.name));
  return new RecordBatch(traceSchema, makeData({ type: new Struct(traceSchema.fields), length: n, nullCount: 0, children }));
}
