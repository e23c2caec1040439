// One decoded view of a trace batch shared by every detector: typed arrays for the hot columns, lazy
// accessors for the sparse ones. Syscall rows are told apart by their non-null `nr`, so the `kind` string
// is only decoded for the few other rows.
import type { RecordBatch } from 'apache-arrow';
import { numericColumn, stringColumn, validity } from '../trace/columns.js';
import { attachedThreadGroups, groupThreads, type ThreadGroups } from '../trace/thread-groups.js';

/** Columns train and score read; asking for fewer makes Parquet decoding faster. */
export const TRACE_COLUMNS = [
  'ts_ns', 'pid', 'tid', 'comm', 'kind', 'nr', 'path', 'uid', 'exe', 'target_pid', 'target_tid',
  'request', 'addr', 'size', 'dev', 'inode', 'func',
] as const;

export interface BatchView {
  rows: number;
  ts: BigInt64Array;
  pid: Int32Array;
  tid: Int32Array;
  nr: Int16Array;
  isSyscall: (row: number) => boolean;
  /** Rows that are not syscalls, ascending. */
  eventRows: number[];
  kind: (row: number) => string;
  comm: (row: number) => string;
  str: (column: string, row: number) => string | null;
  /** A nullable integer column as a number (64-bit values converted), or null. */
  int: (column: string, row: number) => number | null;
}

let memo: { batch: RecordBatch; view: BatchView; groups?: ThreadGroups } | undefined;

/** A numeric column, or an empty array when the batch was read without it. */
function optionalNumeric<T>(batch: RecordBatch, name: string, empty: T): T {
  return batch.getChild(name) ? numericColumn<T & ArrayLike<number>>(batch, name) : empty;
}

/** The view of `batch`, built once however many detectors ask. */
export function viewOf(batch: RecordBatch): BatchView {
  if (memo?.batch === batch) return memo.view;
  const rows = batch.numRows;
  const isSyscall = validity(batch, 'nr');
  const eventRows: number[] = [];
  const nrVector = batch.getChild('nr')!;
  if (nrVector.nullCount > 0) for (let i = 0; i < rows; i++) if (!isSyscall(i)) eventRows.push(i);
  const kind = batch.getChild('kind') ? stringColumn(batch, 'kind') : () => null;
  const comm = batch.getChild('comm') ? stringColumn(batch, 'comm') : () => null;
  const view: BatchView = {
    rows,
    ts: optionalNumeric(batch, 'ts_ns', new BigInt64Array(0)),
    pid: optionalNumeric(batch, 'pid', new Int32Array(0)),
    tid: numericColumn<Int32Array>(batch, 'tid'),
    nr: numericColumn<Int16Array>(batch, 'nr'),
    isSyscall,
    eventRows,
    kind: (row) => kind(row) ?? '',
    comm: (row) => comm(row) ?? '',
    str: (column, row) => {
      const vector = batch.getChild(column);
      return vector ? ((vector.get(row) as string | null) ?? null) : null;
    },
    int: (column, row) => {
      const vector = batch.getChild(column);
      if (!vector || !vector.isValid(row)) return null;
      const value = vector.get(row) as number | bigint | null;
      return value === null ? null : Number(value);
    },
  };
  memo = { batch, view };
  return view;
}

/** The batch's syscall rows grouped by thread: as the decoder attached them, or computed once. */
export function groupByThread(view: BatchView): ThreadGroups {
  if (memo?.view !== view) return groupThreads(view.tid, view.nr, view.rows, view.eventRows);
  memo.groups ??= attachedThreadGroups(memo.batch) ?? groupThreads(view.tid, view.nr, view.rows, view.eventRows);
  return memo.groups;
}

let lastOffsets: { ts: BigInt64Array; base: bigint; offsets: Float64Array } | undefined;

/**
 * ts - base as a double (exact while the difference stays below 2^53 ns, about 104 days). The result of
 * the latest call is reused when asked again for the same column and base (every detector of a batch);
 * it is only valid until the next call for another column: read it, do not keep it.
 */
export function timeOffsets(ts: BigInt64Array, base: bigint): Float64Array {
  if (lastOffsets !== undefined && lastOffsets.ts === ts && lastOffsets.base === base) return lastOffsets.offsets;
  const offsets = computeTimeOffsets(ts, base);
  lastOffsets = { ts, base, offsets };
  return offsets;
}

/** Backing store of the offsets (reused batch after batch: callers read them before the next batch). */
let offsetStore = new Float64Array(0);

function computeTimeOffsets(ts: BigInt64Array, base: bigint): Float64Array {
  const words = new Uint32Array(ts.buffer, ts.byteOffset, ts.length * 2);
  const high = new Int32Array(ts.buffer, ts.byteOffset, ts.length * 2);
  const baseHigh = Number(base >> 32n);
  const baseLow = Number(base & 0xffffffffn);
  if (offsetStore.length < ts.length) offsetStore = new Float64Array(Math.max(ts.length, 65536));
  const out = offsetStore.subarray(0, ts.length);
  for (let i = 0; i < ts.length; i++) out[i] = (high[2 * i + 1]! - baseHigh) * 4294967296 + (words[2 * i]! - baseLow);
  return out;
}
