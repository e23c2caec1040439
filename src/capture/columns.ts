// Turns a batch drained by the addon (typed columns plus a few lifecycle rows) into an Arrow record batch
// of the trace schema. Syscall rows dominate, so per-row work here is kept to plain typed-array loops.
import { type Data, type DataType, Int16, Int32, Int64, List, RecordBatch, Struct, Utf8, makeData } from 'apache-arrow';
import type { NativeBatch, NativeLifecycleFields } from '../native/addon.js';
import { ROW_KINDS, traceSchema } from '../trace/schema.js';

const utf8 = new TextEncoder();
const KIND_BYTES = ROW_KINDS.map((k) => utf8.encode(k));
const SYSCALL_KIND = ROW_KINDS.indexOf('syscall');
const FIRST_ACT_KIND = ROW_KINDS.indexOf('ptrace');

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

type Sparse = NativeLifecycleFields;

/** A mostly-null column holding values only on the batch's rare rows. */
function sparseNumbers(type: Int16 | Int32 | Int64, n: number, rows: Sparse[], value: (f: Sparse) => number | bigint | undefined): Data {
  const data = type instanceof Int64 ? new BigInt64Array(n) : type instanceof Int16 ? new Int16Array(n) : new Int32Array(n);
  const bits = new Uint8Array((n + 7) >> 3);
  let valid = 0;
  for (const f of rows) {
    const v = value(f);
    if (v === undefined) continue;
    data[f.row] = (type instanceof Int64 ? BigInt(v) : Number(v)) as never;
    bits[f.row >> 3] |= 1 << (f.row & 7);
    valid++;
  }
  return makeData({ type, length: n, nullCount: n - valid, nullBitmap: bits, data } as never);
}

function sparseStrings(n: number, rows: Sparse[], value: (f: Sparse) => string | undefined): Data {
  const byRow = new Map<number, Uint8Array>();
  for (const f of rows) {
    const v = value(f);
    if (v !== undefined) byRow.set(f.row, utf8.encode(v));
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

function sparseStringLists(n: number, rows: Sparse[], value: (f: Sparse) => string[] | undefined): Data {
  const byRow = new Map<number, string[]>();
  for (const f of rows) {
    const v = value(f);
    if (v !== undefined) byRow.set(f.row, v);
  }
  const items: Uint8Array[] = [];
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (const s of byRow.get(i) ?? []) items.push(utf8.encode(s));
    offsets[i + 1] = items.length;
  }
  const child = stringsByIndex(Int32Array.from(items.keys()), (i) => items[i]);
  const { bits, nulls } = bitmap(n, (i) => byRow.has(i));
  const listType = traceSchema.fields.find((f) => f.name === 'argv')!.type as List<Utf8>;
  return makeData({ type: listType, length: n, nullCount: nulls, nullBitmap: bits, valueOffsets: offsets, child });
}

/** Columns filled only on rare rows, from the addon's per-row fields. */
const SPARSE_COLUMNS: Record<string, (n: number, rows: Sparse[]) => Data> = {
  child_pid: (n, r) => sparseNumbers(new Int32(), n, r, (f) => f.childPid),
  child_tid: (n, r) => sparseNumbers(new Int32(), n, r, (f) => f.childTid),
  exit_code: (n, r) => sparseNumbers(new Int32(), n, r, (f) => f.exitCode),
  group_dead: (n, r) => sparseNumbers(new Int16(), n, r, (f) => f.groupDead),
  path: (n, r) => sparseStrings(n, r, (f) => f.path),
  argv: (n, r) => sparseStringLists(n, r, (f) => f.argv),
  truncated: (n, r) => sparseNumbers(new Int16(), n, r, (f) => f.truncated),
  uid: (n, r) => sparseNumbers(new Int32(), n, r, (f) => f.uid),
  exe: (n, r) => sparseStrings(n, r, (f) => f.exe),
  target_pid: (n, r) => sparseNumbers(new Int32(), n, r, (f) => f.targetPid),
  target_tid: (n, r) => sparseNumbers(new Int32(), n, r, (f) => f.targetTid),
  request: (n, r) => sparseNumbers(new Int64(), n, r, (f) => f.request),
  addr: (n, r) => sparseNumbers(new Int64(), n, r, (f) => f.addr),
  size: (n, r) => sparseNumbers(new Int64(), n, r, (f) => f.size),
  dev: (n, r) => sparseNumbers(new Int64(), n, r, (f) => f.dev),
  inode: (n, r) => sparseNumbers(new Int64(), n, r, (f) => f.inode),
  offset: (n, r) => sparseNumbers(new Int64(), n, r, (f) => f.offset),
  func: (n, r) => sparseStrings(n, r, (f) => f.func),
};

/** A column with no values in this batch: buffers of full size (other readers check sizes), all null. */
function allNull(type: DataType, n: number): Data {
  const nullBitmap = new Uint8Array((n + 7) >> 3);
  if (type instanceof Utf8)
    return makeData({ type, length: n, nullCount: n, nullBitmap, valueOffsets: new Int32Array(n + 1), data: new Uint8Array(0) });
  if (type instanceof List)
    return makeData({ type, length: n, nullCount: n, nullBitmap, valueOffsets: new Int32Array(n + 1), child: allNull(type.children[0].type, 0) });
  const ArrayType = (type as unknown as { ArrayType: new (n: number) => ArrayBufferView }).ArrayType;
  return makeData({ type, length: n, nullCount: n, nullBitmap, data: new ArrayType(n) } as never);
}

export function nativeBatchToArrow(batch: NativeBatch, comms: CommTable): RecordBatch {
  comms.add(batch.newComms);
  const n = batch.rows;
  const kind = new Uint8Array(batch.kind);
  const lifecycle = batch.lifecycle;
  // nr is set on syscall rows only (a non-null nr means a syscall row); ret also on acts, their outcome.
  const isSyscall = lifecycle.length === 0 ? null : bitmap(n, (i) => kind[i] === SYSCALL_KIND);
  const hasRet = lifecycle.length === 0 ? null : bitmap(n, (i) => kind[i] === SYSCALL_KIND || kind[i] >= FIRST_ACT_KIND);
  const syscallOnly = <T extends DataType>(type: T, data: ArrayBufferView) =>
    makeData({
      type,
      length: n,
      nullCount: isSyscall?.nulls ?? 0,
      nullBitmap: isSyscall?.bits,
      data,
    } as never) as unknown as Data<T>;
  const columns: Record<string, Data> = {
    ts_ns: makeData({ type: new Int64(), length: n, nullCount: 0, data: new BigInt64Array(batch.ts) }),
    pid: makeData({ type: new Int32(), length: n, nullCount: 0, data: new Int32Array(batch.pid) }),
    tid: makeData({ type: new Int32(), length: n, nullCount: 0, data: new Int32Array(batch.tid) }),
    comm: stringsByIndex(new Int32Array(batch.comm), (i) => comms.get(i)),
    kind: stringsByIndex(kind, (i) => KIND_BYTES[i]),
    nr: syscallOnly(new Int16(), new Int16Array(batch.nr)),
    ret: makeData({ type: new Int64(), length: n, nullCount: hasRet?.nulls ?? 0, nullBitmap: hasRet?.bits, data: new BigInt64Array(batch.ret) }),
  };
  if (batch.duration) columns.duration_ns = syscallOnly(new Int64(), new BigInt64Array(batch.duration));
  if (lifecycle.length > 0) for (const [name, build] of Object.entries(SPARSE_COLUMNS)) columns[name] = build(n, lifecycle);
  const children = traceSchema.fields.map((f) => columns[f.name] ?? allNull(f.type, n));
  return new RecordBatch(traceSchema, makeData({ type: new Struct(traceSchema.fields), length: n, nullCount: 0, children }));
}
