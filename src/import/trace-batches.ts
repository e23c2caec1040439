// Builds Arrow record batches of the trace schema outside the recorder: syscall rows in bulk (imports,
// synthetic benchmark traces) and arbitrary rows one object each (hand-made traces with known answers).
import { type Data, Int16, Int32, Int64, RecordBatch, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { allNull } from '../trace/expand.js';
import { traceSchema, type ColumnName } from '../trace/schema.js';

const utf8 = new TextEncoder();
const SYSCALL_KIND = utf8.encode('syscall');

/** One row of a trace as a plain object; absent columns are null. */
export type TraceRowInput = { ts_ns: bigint; pid: number; tid: number; comm: string; kind: string } & Partial<
  Record<Exclude<ColumnName, 'ts_ns' | 'pid' | 'tid' | 'comm' | 'kind' | 'argv'>, number | bigint | string | null>
> & { argv?: string[] | null };

/** Syscall rows: `commOf(row)` names each row's thread (called once per row, so keep it cheap). */
export interface SyscallColumns {
  ts_ns: BigInt64Array;
  pid: Int32Array;
  tid: Int32Array;
  nr: ArrayLike<number>;
  comm: (row: number) => Uint8Array;
  /** Return values (0 on every row when absent); `retKnown[row]` 0 makes that row's ret null. */
  ret?: BigInt64Array;
  retKnown?: Uint8Array;
  /** Durations, ns; `durationKnown[row]` 0 makes that row's null (all null when absent). */
  duration_ns?: BigInt64Array;
  durationKnown?: Uint8Array;
}

/** An int64 column; `known` (one byte a row) marks the rows that are not null. */
function int64Column(values: BigInt64Array, known: Uint8Array | undefined): Data<Int64> {
  const n = values.length;
  if (known === undefined || known.every((k) => k !== 0)) return makeData({ type: new Int64(), length: n, nullCount: 0, data: values });
  const nullBitmap = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    if (known[i]) nullBitmap[i >> 3]! |= 1 << (i & 7);
    else nullCount++;
  }
  return makeData({ type: new Int64(), length: n, nullCount, data: values, nullBitmap });
}

function utf8Column(n: number, bytesOf: (row: number) => Uint8Array): Data<Utf8> {
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) offsets[i + 1] = total += bytesOf(i).length;
  const data = new Uint8Array(total);
  for (let i = 0; i < n; i++) data.set(bytesOf(i), offsets[i]!);
  return makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: offsets, data });
}

function batchOf(n: number, columns: Partial<Record<string, Data>>): RecordBatch {
  const children = traceSchema.fields.map((f) => columns[f.name] ?? allNull(f.type, n));
  return new RecordBatch(traceSchema, makeData({ type: new Struct(traceSchema.fields), length: n, nullCount: 0, children }));
}

/** A batch of syscall rows. */
export function syscallBatch(columns: SyscallColumns): RecordBatch {
  const n = columns.ts_ns.length;
  return batchOf(n, {
    ts_ns: makeData({ type: new Int64(), length: n, nullCount: 0, data: columns.ts_ns }),
    pid: makeData({ type: new Int32(), length: n, nullCount: 0, data: columns.pid }),
    // apache-arrow's IPC writer corrupts a stream whose columns share one buffer: give tid its own.
    tid: makeData({ type: new Int32(), length: n, nullCount: 0, data: columns.tid.buffer === columns.pid.buffer ? columns.tid.slice() : columns.tid }),
    comm: utf8Column(n, columns.comm),
    kind: utf8Column(n, () => SYSCALL_KIND),
    nr: makeData({ type: new Int16(), length: n, nullCount: 0, data: Int16Array.from(columns.nr) }),
    ret: int64Column(columns.ret ?? new BigInt64Array(n), columns.retKnown),
    ...(columns.duration_ns === undefined ? {} : { duration_ns: int64Column(columns.duration_ns, columns.durationKnown) }),
  });
}

/** A batch of arbitrary rows, one object each (for small hand-made traces). */
export function rowsBatch(rows: readonly TraceRowInput[]): RecordBatch {
  const columns: Record<string, Data> = {};
  for (const field of traceSchema.fields) {
    const values = rows.map((row) => {
      const value = (row as Record<string, unknown>)[field.name];
      if (value === undefined) return field.name === 'ret' && row.kind === 'syscall' ? 0n : null;
      if (field.type instanceof Int64 && typeof value === 'number') return BigInt(value);
      return value;
    });
    columns[field.name] = vectorFromArray(values, field.type).data[0]!;
  }
  return batchOf(rows.length, columns);
}
