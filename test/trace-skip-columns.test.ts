// The Parquet reader skips decoding the columns that are entirely null, or one constant string, in a row
// group (column chunk statistics in the footer) and fills them instead: the rows read back must be the same
// as when every column is decoded, whatever the row group, and files without statistics read as before.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { rowsBatch, syscallBatch, type TraceRowInput } from '../src/import/trace-batches.js';
import { importMetadata } from '../src/import/to-trace.js';
import { TRACE_COLUMNS } from '../src/trace/batch-view.js';
import { readFooterStats } from '../src/trace/parquet-footer.js';
import { openTrace } from '../src/trace/reader.js';
import { traceSchema } from '../src/trace/schema.js';
import { ROW_GROUP_ROWS, streamParquet, writeParquet, writerProperties } from '../src/trace/writer.js';
import { tempDir } from './score/trace-helpers.js';

const PID = 4000;

/** Row group 0: syscalls only (event columns all null, kind and comm constant); row group 1: event rows
 * among syscalls, two thread names. */
function batches(): RecordBatch[] {
  const n = ROW_GROUP_ROWS;
  const ts = BigInt64Array.from({ length: n }, (_, i) => 1_000_000n + BigInt(i));
  const game = new TextEncoder().encode('game');
  const first = syscallBatch({
    ts_ns: ts,
    pid: new Int32Array(n).fill(PID),
    tid: new Int32Array(n).fill(PID),
    nr: Int16Array.from({ length: n }, (_, i) => i % 7),
    comm: () => game,
  });
  const rows: TraceRowInput[] = [];
  for (let i = 0; i < 3000; i++) {
    const ts_ns = 10_000_000n + BigInt(i);
    if (i % 500 === 7) rows.push({ ts_ns, pid: PID, tid: PID, comm: 'game', kind: 'exec', path: '/bin/true', argv: ['true', String(i)], ret: 0 });
    else if (i % 500 === 9)
      rows.push({
        ts_ns,
        pid: 77,
        tid: 77,
        comm: 'cheat',
        kind: 'ptrace',
        uid: 1000,
        exe: '/tmp/cheat',
        target_pid: PID,
        target_tid: PID,
        request: 16,
        addr: BigInt(i),
        ret: 0,
      });
    else rows.push({ ts_ns, pid: PID, tid: PID + (i % 3), comm: i % 3 ? 'worker' : 'game', kind: 'syscall', nr: i % 11 });
  }
  return [first, rowsBatch(rows)];
}

const metadata = () => importMetadata('test', [], { pid: PID, comm: 'game', rows: ROW_GROUP_ROWS + 3000 });

async function readAll(path: string, options: { columns?: string[]; fromRow?: number }): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for await (const batch of (await openTrace(path)).batches(options)) {
    const names = batch.schema.fields.map((f) => f.name);
    expect(names).toEqual(traceSchema.fields.map((f) => f.name).filter((name) => !options.columns || options.columns.includes(name)));
    const columns = names.map((name) => batch.getChild(name)!);
    for (let row = 0; row < batch.numRows; row++) out.push(columns.map((c) => c.get(row)));
  }
  return out;
}

/** Every column decoded (no projection, so nothing is filled), projected here. */
async function expected(path: string, columns: string[], fromRow: number): Promise<unknown[][]> {
  const keep = traceSchema.fields.map((f, i) => (columns.includes(f.name) ? i : -1)).filter((i) => i >= 0);
  return (await readAll(path, { fromRow })).map((row) => keep.map((i) => row[i]));
}

const toText = (rows: unknown[][]) =>
  rows.map((row) =>
    JSON.stringify(row, (_, v) => (typeof v === 'bigint' ? `${v}n` : v && typeof v === 'object' && 'toArray' in v ? [...(v as Iterable<unknown>)] : v)),
  );

describe('Parquet reader: columns filled from the row group statistics', () => {
  it('reads the same rows when event columns are all null in one row group and set in another', async () => {
    const path = join(tempDir(), 'groups.parquet');
    await writeParquet(batches(), path, metadata());
    const stats = readFooterStats(path)!;
    expect(stats.map((g) => g.rows)).toEqual([ROW_GROUP_ROWS, 3000]);
    expect(stats[0]!.columns.get('path')!.nullCount).toBe(ROW_GROUP_ROWS);
    expect(stats[1]!.columns.get('path')!.nullCount).toBeLessThan(3000);
    expect(stats[0]!.columns.has('argv')).toBe(false); // nested: never skipped
    for (const columns of [[...TRACE_COLUMNS], ['kind'], ['tid', 'nr', 'path', 'argv']])
      for (const fromRow of [0, ROW_GROUP_ROWS + 1000]) {
        const got = await readAll(path, { columns, fromRow });
        expect(got.length).toBe(ROW_GROUP_ROWS + 3000 - fromRow);
        expect(toText(got)).toEqual(toText(await expected(path, columns, fromRow)));
      }
  }, 60_000);

  it('decodes every column of a file written without statistics', async () => {
    const dir = tempDir();
    const path = join(dir, 'nostats.parquet');
    const withStats = join(dir, 'stats.parquet');
    await writeParquet(batches(), withStats, metadata());
    // The same rows written without statistics.
    const chunks: Uint8Array[] = [];
    await streamParquet(batches(), { ...writerProperties('test', JSON.stringify(metadata())), statistics: false }, (bytes) => chunks.push(bytes));
    writeFileSync(path, Buffer.concat(chunks));
    expect(readFooterStats(path)!.every((g) => [...g.columns.values()].every((c) => c.nullCount === undefined))).toBe(true);
    const columns = [...TRACE_COLUMNS];
    expect(toText(await readAll(path, { columns }))).toEqual(toText(await expected(path, columns, 0)));
    // And against the file with statistics.
    expect(toText(await readAll(withStats, { columns }))).toEqual(toText(await readAll(path, { columns })));
  }, 60_000);
});
