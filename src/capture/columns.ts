// Turns a batch drained by the addon (typed columns, string columns it built, a few rare rows) into an
// Arrow record batch of the recording stream's schema.
import { type Data, type DataType, Int16, Int32, Int64, RecordBatch, Struct, Utf8, makeData } from 'apache-arrow';
import type { NativeBatch, NativeLifecycleFields } from '../native/addon.js';
import { allNull, type ExtraFields, validityBitmap } from '../trace/expand.js';
import { EXTRA_COLUMN, ROW_KINDS, recordingSchema } from '../trace/schema.js';

const utf8 = new TextEncoder();
const SYSCALL_KIND = ROW_KINDS.indexOf('syscall');
const FIRST_ACT_KIND = ROW_KINDS.indexOf('ptrace');

/** The addon's field names for the trace columns they fill. */
const EXTRA_FIELDS: [keyof NativeLifecycleFields, string][] = [
  ['childPid', 'child_pid'],
  ['childTid', 'child_tid'],
  ['exitCode', 'exit_code'],
  ['groupDead', 'group_dead'],
  ['path', 'path'],
  ['argv', 'argv'],
  ['truncated', 'truncated'],
  ['uid', 'uid'],
  ['exe', 'exe'],
  ['targetPid', 'target_pid'],
  ['targetTid', 'target_tid'],
  ['request', 'request'],
  ['addr', 'addr'],
  ['size', 'size'],
  ['dev', 'dev'],
  ['inode', 'inode'],
  ['offset', 'offset'],
  ['func', 'func'],
];

function extraJson(f: NativeLifecycleFields): string {
  const fields: ExtraFields = {};
  for (const [from, to] of EXTRA_FIELDS) {
    const v = f[from];
    if (v !== undefined) fields[to] = typeof v === 'bigint' ? v.toString() : (v as number | string | string[]);
  }
  return JSON.stringify(fields);
}

function extraColumn(n: number, rare: NativeLifecycleFields[]): Data {
  if (rare.length === 0) return allNull(new Utf8(), n);
  // Rare rows come in row order; the offsets of the rows between them repeat the last end.
  const json = rare.map((f) => utf8.encode(extraJson(f)));
  const offsets = new Int32Array(n + 1);
  const data = new Uint8Array(json.reduce((sum, b) => sum + b.length, 0));
  const bits = new Uint8Array((n + 7) >> 3);
  let next = 0;
  let end = 0;
  rare.forEach((f, i) => {
    offsets.fill(end, next + 1, f.row + 1);
    data.set(json[i], end);
    end += json[i].length;
    offsets[f.row + 1] = end;
    bits[f.row >> 3] |= 1 << (f.row & 7);
    next = f.row + 1;
  });
  offsets.fill(end, next + 1);
  return makeData({ type: new Utf8(), length: n, nullCount: n - rare.length, nullBitmap: bits, valueOffsets: offsets, data });
}

const strings = (n: number, offsets: ArrayBuffer, bytes: ArrayBuffer) =>
  makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: new Int32Array(offsets), data: new Uint8Array(bytes) });

export function nativeBatchToArrow(batch: NativeBatch): RecordBatch {
  const n = batch.rows;
  const kind = new Uint8Array(batch.kind);
  const rare = batch.lifecycle;
  // nr is set on syscall rows only (a non-null nr means a syscall row); ret also on acts, their outcome.
  const isSyscall = rare.length === 0 ? null : validityBitmap(n, (i) => kind[i] === SYSCALL_KIND);
  const hasRet = rare.length === 0 ? null : validityBitmap(n, (i) => kind[i] === SYSCALL_KIND || kind[i] >= FIRST_ACT_KIND);
  const withValidity = <T extends DataType>(type: T, data: ArrayBufferView, valid: { bits: Uint8Array; nulls: number } | null) =>
    makeData({ type, length: n, nullCount: valid?.nulls ?? 0, nullBitmap: valid?.bits, data } as never) as Data;

  const columns: Record<string, Data> = {
    ts_ns: makeData({ type: new Int64(), length: n, nullCount: 0, data: new BigInt64Array(batch.ts) }),
    pid: makeData({ type: new Int32(), length: n, nullCount: 0, data: new Int32Array(batch.pid) }),
    tid: makeData({ type: new Int32(), length: n, nullCount: 0, data: new Int32Array(batch.tid) }),
    comm: strings(n, batch.commOffsets, batch.commBytes),
    kind: strings(n, batch.kindOffsets, batch.kindBytes),
    nr: withValidity(new Int16(), new Int16Array(batch.nr), isSyscall),
    ret: withValidity(new Int64(), new BigInt64Array(batch.ret), hasRet),
    duration_ns: batch.duration ? withValidity(new Int64(), new BigInt64Array(batch.duration), isSyscall) : allNull(new Int64(), n),
    [EXTRA_COLUMN]: extraColumn(n, rare),
  };
  const children = recordingSchema.fields.map((f) => columns[f.name]);
  return new RecordBatch(recordingSchema, makeData({ type: new Struct(recordingSchema.fields), length: n, nullCount: 0, children }));
}
