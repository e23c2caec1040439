// Train and score walk syscall rows thread by thread. On big traces the decoding worker groups each batch's
// rows by thread while it decodes; the groups it attaches must be exactly those the caller would compute,
// event rows (null nr) left out. Runs the built reader (dist/), the only one with the worker next to it.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { rowsBatch, syscallBatch, type TraceRowInput } from '../src/import/trace-batches.js';
import { importMetadata } from '../src/import/to-trace.js';
import { groupThreads } from '../src/trace/thread-groups.js';
import { writeParquet } from '../src/trace/writer.js';
import { ROOT } from './helpers/gpo.js';
import { tempDir } from './score/trace-helpers.js';

type Reader = typeof import('../src/trace/reader.js');
type Groups = typeof import('../src/trace/thread-groups.js');
type Columns = typeof import('../src/trace/columns.js');

const PID = 4000;
const SYSCALL_ROWS = 300_000;

/** Syscalls of 5 threads interleaved without runs, then a few hundred rows with events among them. */
function* batches(): Generator<RecordBatch> {
  const comm = new TextEncoder().encode('game');
  for (let part = 0; part < 6; part++) {
    const ts = BigInt64Array.from({ length: SYSCALL_ROWS }, (_, i) => BigInt(part * 1e7 + i));
    const tid = Int32Array.from({ length: SYSCALL_ROWS }, (_, i) => PID + ((i * 7 + part) % 5));
    const nr = Int16Array.from({ length: SYSCALL_ROWS }, (_, i) => (i * 13) % 17);
    yield syscallBatch({ ts_ns: ts, pid: new Int32Array(SYSCALL_ROWS).fill(PID), tid, nr, comm: () => comm });
    const rows: TraceRowInput[] = [];
    for (let i = 0; i < 300; i++) {
      const ts_ns = BigInt(part * 1e7 + SYSCALL_ROWS + i);
      if (i % 10 === 3) rows.push({ ts_ns, pid: PID, tid: PID, comm: 'game', kind: 'exec', path: '/bin/true', argv: ['true'], ret: 0 });
      else rows.push({ ts_ns, pid: PID, tid: PID + (i % 3), comm: 'game', kind: 'syscall', nr: i % 11 });
    }
    yield rowsBatch(rows);
  }
}

/** The groups as the definition says: rows with a syscall, by thread in order of first row, in row order. */
function naiveGroups(tid: Int32Array, nr: Int16Array, events: Set<number>) {
  const byThread = new Map<number, number[]>();
  tid.forEach((t, row) => {
    if (events.has(row)) return;
    if (!byThread.has(t)) byThread.set(t, []);
    byThread.get(t)!.push(row);
  });
  const order = [...byThread.values()].flat();
  const starts = [0];
  for (const rows of byThread.values()) starts.push(starts.at(-1)! + rows.length);
  return { tids: [...byThread.keys()], starts, order, nrs: order.map((row) => nr[row]!) };
}

describe('groupThreads', () => {
  it('groups rows by thread, events left out, with few threads (one pass) and many (sorted)', () => {
    let seed = 12345;
    const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (const threads of [1, 3, 8, 9, 40, 5000]) {
      const rows = 20_000;
      // tids 4096 apart collide in the direct-mapped tid cache: every lookup must be verified.
      const tid = Int32Array.from({ length: rows }, () => 100 + Math.floor(next() * threads) * (threads > 100 ? 1 : 4096));
      const nr = Int16Array.from({ length: rows }, () => Math.floor(next() * 400));
      const eventRows = [...Array(rows).keys()].filter(() => next() < 0.01);
      const groups = groupThreads(tid, nr, rows, eventRows);
      const expected = naiveGroups(tid, nr, new Set(eventRows));
      expect(groups.tids).toEqual(expected.tids);
      expect([...groups.starts]).toEqual(expected.starts);
      expect([...groups.order]).toEqual(expected.order);
      expect([...groups.nrs]).toEqual(expected.nrs);
    }
  });
});

describe('thread groups computed by the decoding worker', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are the groups the caller would compute, for every batch the worker decoded', async () => {
    const dist = (path: string) => import(join(ROOT, 'dist', 'src', path));
    const { openTrace } = (await dist('trace/reader.js')) as Reader;
    const { attachedThreadGroups, groupThreads: groupHere } = (await dist('trace/thread-groups.js')) as Groups;
    const { numericColumn, validity } = (await dist('trace/columns.js')) as Columns;
    const path = join(dir, 'threads.parquet');
    await writeParquet(batches(), path, importMetadata('test', [], { pid: PID, comm: 'game', rows: 6 * (SYSCALL_ROWS + 300) }));

    const saved = process.env.GPO_DECODE_WORKER;
    process.env.GPO_DECODE_WORKER = '1';
    let attached = 0;
    let rows = 0;
    let events = 0;
    try {
      for await (const batch of (await openTrace(path)).batches({ columns: ['ts_ns', 'tid', 'nr'], threadGroups: true })) {
        rows += batch.numRows;
        // A caller that takes its time over each batch, as train and score do: the worker takes over soon.
        await new Promise((resolve) => setTimeout(resolve, 40));
        const groups = attachedThreadGroups(batch);
        if (groups === undefined) continue;
        attached++;
        const isSyscall = validity(batch, 'nr');
        const eventRows = [...Array(batch.numRows).keys()].filter((row) => !isSyscall(row));
        events += eventRows.length;
        const expected = groupHere(numericColumn(batch, 'tid'), numericColumn<Int16Array>(batch, 'nr'), batch.numRows, eventRows);
        expect(groups.tids).toEqual(expected.tids);
        expect([...groups.starts]).toEqual([...expected.starts]);
        expect(Buffer.from(groups.order.buffer, groups.order.byteOffset, groups.order.byteLength).equals(Buffer.from(expected.order.buffer, expected.order.byteOffset, expected.order.byteLength))).toBe(true);
        expect(Buffer.from(groups.nrs.buffer, groups.nrs.byteOffset, groups.nrs.byteLength).equals(Buffer.from(expected.nrs.buffer, expected.nrs.byteOffset, expected.nrs.byteLength))).toBe(true);
        expect(groups.nrs.length).toBe(batch.numRows - eventRows.length);
      }
    } finally {
      if (saved === undefined) delete process.env.GPO_DECODE_WORKER;
      else process.env.GPO_DECODE_WORKER = saved;
    }
    expect(rows).toBe(6 * (SYSCALL_ROWS + 300));
    // The first row groups are decoded on the caller's thread while the worker starts; the rest by the worker.
    expect(attached).toBeGreaterThan(0);
    expect(events).toBeGreaterThan(0);
  }, 60_000);
});
