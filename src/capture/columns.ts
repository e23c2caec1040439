// Turns a batch drained by the addon (typed columns plus a few lifecycle rows) into an Arrow record batch
// of the trace schema. Syscall rows dominate, so per-row work here is kept to plain typed-array loops.
import { type Data, type DataType, Int16, Int32, Int64, List, RecordBatch, Struct, Utf8, makeData } from 'apache-arrow';
import type { NativeBatch, NativeLifecycleFields } from '../native/addon.js';
import { ROW_KINDS, traceSchema } from '../trace/schema.js';

const utf8 = new TextEncoder();
const KIND_BYTES = ROW_KINDS.map((k) => utf8.encode(k));
const SYSCALL_KIND = ROW_KINDS.indexOf('syscall');

/** Thread names seen so far, in the addon's order; rows refer to them by index. */
export class CommTable {
  private readonly encoded: Uint8Array[] = [];
  add(names: string[]): void {
    for (const name of names) this.encoded.push(utf8.encode(name));
  }
  get(index: number): Uint8Array {
    return this.encoded[index] ?? utf8.encode('?');
  }
}

function bitmap(length: number, isValid: (row: number) => boolean): { bits: Uint8Array; nulls: number } {
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

/** A mostly-null column holding values only on the batch's lifecycle rows. */
function sparseInt<T extends Int32 | Int16>(
  type: T,
  n: number,
  lifecycle: NativeLifecycleFields[],
  value: (f: NativeLifecycleFields) => number | null,
): Data<T> {
  const data = type instanceof Int16 ? new Int16Array(n) : new Int32Array(n);
  const bits = new Uint8Array((n + 7) >> 3);
  let valid = 0;
  for (const f of lifecycle) {
    const v = value(f);
    if (v === null) continue;
    data[f.row] = v;
    bits[f.row >> 3] |= 1 << (f.row & 7);
    valid++;
  }
  return makeData({ type, length: n, nullCount: n - valid, nullBitmap: bits, data } as never) as unknown as Data<T>;
}

function sparseStrings(n: number, lifecycle: NativeLifecycleFields[], value: (f: NativeLifecycleFields) => string | null) {
  const byRow = new Map<number, Uint8Array>();
  for (const f of lifecycle) {
    const v = value(f);
    if (v !== null) byRow.set(f.row, utf8.encode(v));
  }
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += byRow.get(i)?.length ?? 0;
    offsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (const [row, bytes] of byRow) data.set(bytes, offsets[row]);
  const { bits, nulls } = bitmap(n, (i) => byRow.has(i));
  return makeData({ type: new Utf8(), length: n, nullCount: nulls, nullBitmap: bits, valueOffsets: offsets, data });
}

function sparseStringLists(n: number, lifecycle: NativeLifecycleFields[], value: (f: NativeLifecycleFields) => string[] | null) {
  const byRow = new Map<number, string[]>();
  for (const f of lifecycle) {
    const v = value(f);
    if (v !== null) byRow.set(f.row, v);
  }
  const items: string[] = [];
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    items.push(...(byRow.get(i) ?? []));
    offsets[i + 1] = items.length;
  }
  const encoded = items.map((s) => utf8.encode(s));
  const child = stringsByIndex(
    Int32Array.from(encoded.keys()),
    (i) => encoded[i],
  );
  const { bits, nulls } = bitmap(n, (i) => byRow.has(i));
  const listType = traceSchema.fields.find((f) => f.name === 'argv')!.type as List<Utf8>;
  return makeData({ type: listType, length: n, nullCount: nulls, nullBitmap: bits, valueOffsets: offsets, child });
}

/** A column with no values in this batch: buffers of full size (other readers check sizes), all null. */
function allNull(type: DataType, n: number): Data {
  const nullBitmap = new Uint8Array((n + 7) >> 3);
  if (type instanceof Utf8)
    return makeData({ type, length: n, nullCount: n, nullBitmap, valueOffsets: new Int32Array(n + 1), data: new Uint8Array(0) });
  const ArrayType = (type as unknown as { ArrayType: new (n: number) => ArrayBufferView }).ArrayType;
  return makeData({ type, length: n, nullCount: n, nullBitmap, data: new ArrayType(n) } as never);
}

export function nativeBatchToArrow(batch: NativeBatch, comms: CommTable): RecordBatch {
  comms.add(batch.newComms);
  const n = batch.rows;
  const kind = new Uint8Array(batch.kind);
  const lifecycle = batch.lifecycle;
  const isSyscall = lifecycle.length === 0 ? null : bitmap(n, (i) => kind[i] === SYSCALL_KIND);
  const syscallOnly = <T extends DataType>(type: T, data: ArrayBufferView) =>
    makeData({
      type,
      length: n,
      nullCount: isSyscall?.nulls ?? 0,
      nullBitmap: isSyscall?.bits,
      data,
    } as never) as unknown as Data<T>;
  const byKind = (f: NativeLifecycleFields, kinds: string[], v: number) => (kinds.includes(ROW_KINDS[kind[f.row]]) ? v : null);

  const columns: Record<string, Data> = {
    ts_ns: makeData({ type: new Int64(), length: n, nullCount: 0, data: new BigInt64Array(batch.ts) }),
    pid: makeData({ type: new Int32(), length: n, nullCount: 0, data: new Int32Array(batch.pid) }),
    tid: makeData({ type: new Int32(), length: n, nullCount: 0, data: new Int32Array(batch.tid) }),
    comm: stringsByIndex(new Int32Array(batch.comm), (i) => comms.get(i)),
    kind: stringsByIndex(kind, (i) => KIND_BYTES[i]),
    nr: syscallOnly(new Int16(), new Int16Array(batch.nr)),
    ret: syscallOnly(new Int64(), new BigInt64Array(batch.ret)),
    duration_ns: batch.duration
      ? syscallOnly(new Int64(), new BigInt64Array(batch.duration))
      : makeData({ type: new Int64(), length: n, nullCount: n, nullBitmap: new Uint8Array((n + 7) >> 3), data: new BigInt64Array(n) }),
    child_pid: sparseInt(new Int32(), n, lifecycle, (f) => byKind(f, ['fork', 'thread'], f.childPid)),
    child_tid: sparseInt(new Int32(), n, lifecycle, (f) => byKind(f, ['fork', 'thread'], f.childTid)),
    exit_code: sparseInt(new Int32(), n, lifecycle, (f) => byKind(f, ['exit'], f.exitCode)),
    group_dead: sparseInt(new Int16(), n, lifecycle, (f) => byKind(f, ['exit'], f.groupDead)),
    path: sparseStrings(n, lifecycle, (f) => (ROW_KINDS[kind[f.row]] === 'exec' ? f.path : null)),
    argv: sparseStringLists(n, lifecycle, (f) => (ROW_KINDS[kind[f.row]] === 'exec' ? f.argv : null)),
    truncated: sparseInt(new Int16(), n, lifecycle, (f) => byKind(f, ['exec'], f.truncated)),
  };
  const children = traceSchema.fields.map((f) => columns[f.name] ?? allNull(f.type, n));
  return new RecordBatch(traceSchema, makeData({ type: new Struct(traceSchema.fields), length: n, nullCount: 0, children }));
}
