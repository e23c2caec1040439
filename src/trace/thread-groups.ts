// Syscall rows of a batch grouped by thread: what train and score walk thread by thread. Computed where the
// batch is decoded when a reader asks for it (the decoding worker, off the caller's thread), or on first
// use otherwise; either way the same counting sort, so the same groups.
import { type RecordBatch, tableFromIPC } from 'apache-arrow';
import { numericColumn, validity } from './columns.js';

/**
 * `order` lists row indices thread after thread (row order within each thread), `nrs` their syscall
 * numbers; thread g (tid tids[g], in order of first row) holds order[starts[g]] .. order[starts[g+1]-1].
 * Rows whose `nr` is null (events, not syscalls) are in no group.
 */
export interface ThreadGroups {
  tids: number[];
  starts: Int32Array;
  order: Int32Array;
  nrs: Int32Array;
}

/** Groups the decoder computed, by the batch they were computed for. */
const attached = new WeakMap<RecordBatch, ThreadGroups>();

export function attachThreadGroups(batch: RecordBatch, groups: ThreadGroups): void {
  attached.set(batch, groups);
}

/** The groups computed while decoding `batch`, if any. */
export function attachedThreadGroups(batch: RecordBatch): ThreadGroups | undefined {
  return attached.get(batch);
}

/** Groups of the one batch in a decoded IPC stream (the worker's side), or undefined without tid and nr. */
export function threadGroupsOfIpc(ipc: Uint8Array): ThreadGroups | undefined {
  const batches = tableFromIPC(ipc).batches;
  if (batches.length !== 1) return undefined;
  const batch = batches[0]!;
  if (!batch.getChild('tid') || !batch.getChild('nr')) return undefined;
  const isSyscall = validity(batch, 'nr');
  const eventRows: number[] = [];
  if (batch.getChild('nr')!.nullCount > 0) for (let i = 0; i < batch.numRows; i++) if (!isSyscall(i)) eventRows.push(i);
  return groupThreads(numericColumn<Int32Array>(batch, 'tid'), numericColumn<Int16Array>(batch, 'nr'), batch.numRows, eventRows);
}

/** The ThreadGroups' typed arrays, to transfer them to another thread. */
export function threadGroupBuffers(groups: ThreadGroups): ArrayBuffer[] {
  return [groups.starts.buffer, groups.order.buffer, groups.nrs.buffer] as ArrayBuffer[];
}

/** Size of the direct-mapped cache from tid to group (verified against the group's tid). */
const TID_CACHE = 4096;

/** Batches with at most this many threads are grouped in one pass (the common case); others sorted. */
const FEW_THREADS = 8;

/** Scratch of the one-pass grouping: FEW_THREADS regions of `rows` entries (reused batch after batch). */
let scratchRows = new Int32Array(0);
let scratchNrs = new Int32Array(0);

/** Groups the rows by thread, threads in order of their first row; `eventRows` ascending. */
export function groupThreads(tid: Int32Array, nr: Int16Array, rows: number, eventRows: readonly number[]): ThreadGroups {
  return groupFewThreads(tid, nr, rows, eventRows) ?? sortByThread(tid, nr, rows, eventRows);
}

/**
 * One pass: each row goes straight to its thread's region of the scratch, then the regions are copied
 * out back to back. Undefined when the batch has more than FEW_THREADS threads.
 */
function groupFewThreads(tid: Int32Array, nr: Int16Array, rows: number, eventRows: readonly number[]): ThreadGroups | undefined {
  if (scratchRows.length < rows * FEW_THREADS) {
    scratchRows = new Int32Array(rows * FEW_THREADS);
    scratchNrs = new Int32Array(rows * FEW_THREADS);
  }
  const regionRows = scratchRows;
  const regionNrs = scratchNrs;
  const tids: number[] = [];
  const filled = new Int32Array(FEW_THREADS);
  // Direct-mapped cache tid -> region start (verified against the tid).
  const cachedTid = new Int32Array(TID_CACHE).fill(-1);
  const cachedSlot = new Int32Array(TID_CACHE);
  let nextSkip = eventRows.length > 0 ? eventRows[0]! : rows;
  let skipAt = 0;
  for (let i = 0; i < rows; i++) {
    if (i === nextSkip) {
      nextSkip = ++skipAt < eventRows.length ? eventRows[skipAt]! : rows;
      continue;
    }
    const t = tid[i]!;
    const h = t & (TID_CACHE - 1);
    let slot: number;
    if (cachedTid[h] === t) slot = cachedSlot[h]!;
    else {
      slot = tids.indexOf(t);
      if (slot < 0) {
        if (tids.length === FEW_THREADS) return undefined;
        slot = tids.push(t) - 1;
      }
      cachedTid[h] = t;
      cachedSlot[h] = slot;
    }
    const at = slot * rows + filled[slot]!++;
    regionRows[at] = i;
    regionNrs[at] = nr[i]!;
  }
  const starts = new Int32Array(tids.length + 1);
  for (let g = 0; g < tids.length; g++) starts[g + 1] = starts[g]! + filled[g]!;
  const order = new Int32Array(starts[tids.length]!);
  const nrs = new Int32Array(order.length);
  for (let g = 0; g < tids.length; g++) {
    order.set(regionRows.subarray(g * rows, g * rows + filled[g]!), starts[g]);
    nrs.set(regionNrs.subarray(g * rows, g * rows + filled[g]!), starts[g]);
  }
  return { tids, starts, order, nrs };
}

/** Slot of each row while sorting (reused: only sortByThread reads it). */
let rowSlots = new Int32Array(0);

/** Counting sort by thread: count, then place. */
function sortByThread(tid: Int32Array, nr: Int16Array, rows: number, eventRows: readonly number[]): ThreadGroups {
  const slotOf = new Map<number, number>();
  const cache = new Int32Array(TID_CACHE).fill(-1);
  const tids: number[] = [];
  let counts = new Int32Array(16);
  if (rowSlots.length < rows) rowSlots = new Int32Array(Math.max(rows, 65536));
  const slots = rowSlots;
  let nextSkip = eventRows.length > 0 ? eventRows[0]! : rows;
  let skipAt = 0;
  let lastTid = -1;
  let lastSlot = -1;
  for (let i = 0; i < rows; i++) {
    if (i === nextSkip) {
      slots[i] = -1;
      nextSkip = ++skipAt < eventRows.length ? eventRows[skipAt]! : rows;
      continue;
    }
    const t = tid[i]!;
    if (t !== lastTid) {
      const cached = cache[t & (TID_CACHE - 1)]!;
      let slot = cached >= 0 && tids[cached] === t ? cached : slotOf.get(t);
      if (slot === undefined) {
        slot = tids.length;
        slotOf.set(t, slot);
        tids.push(t);
        if (slot === counts.length) {
          const grown = new Int32Array(2 * counts.length);
          grown.set(counts);
          counts = grown;
        }
      }
      cache[t & (TID_CACHE - 1)] = slot;
      lastTid = t;
      lastSlot = slot;
    }
    slots[i] = lastSlot;
    counts[lastSlot]!++;
  }
  const groupCount = tids.length;
  const starts = new Int32Array(groupCount + 1);
  for (let g = 0; g < groupCount; g++) starts[g + 1] = starts[g]! + counts[g]!;
  const fill = starts.slice(0, groupCount);
  const total = starts[groupCount]!;
  const order = new Int32Array(total);
  const nrs = new Int32Array(total);
  for (let i = 0; i < rows; i++) {
    const slot = slots[i]!;
    if (slot < 0) continue;
    const at = fill[slot]!++;
    order[at] = i;
    nrs[at] = nr[i]!;
  }
  return { tids, starts, order, nrs };
}
