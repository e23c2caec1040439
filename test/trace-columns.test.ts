// The trace stage: rows encoded by the addon (as the recorder appends them to the stream) read back as
// rows of the trace schema, and a trace written to Arrow IPC and Parquet reads back with the same rows and
// metadata.
import { mkdtempSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAddon, type NativeTestRow } from '../src/native/addon.js';
import { openTrace } from '../src/trace/reader.js';
import { type TraceMetadata } from '../src/trace/metadata.js';
import { ROW_KINDS, traceSchema } from '../src/trace/schema.js';
import { convertIpcToParquet, TraceStreamWriter } from '../src/trace/writer.js';
import { testMetadata } from './helpers/metadata.js';

const code = (k: string) => ROW_KINDS.indexOf(k as never);
const addon = loadAddon();

function sampleRows(): NativeTestRow[] {
  return [
    { ts: 100n, pid: 10, tid: 10, comm: 'game', kind: code('syscall'), nr: 110, ret: 1n },
    { ts: 200n, pid: 10, tid: 12, comm: 'net\u001b[31m', kind: code('syscall'), nr: 257, ret: -2n },
    { ts: 300n, pid: 10, tid: 10, comm: 'game', kind: code('fork'), nr: -1, ret: 0n, fields: { child_pid: 11, child_tid: 11 } },
    {
      ts: 400n,
      pid: 11,
      tid: 11,
      comm: 'true',
      kind: code('exec'),
      nr: -1,
      ret: 0n,
      fields: { truncated: 1, path: '/bin/true', argv: ['true', '-x'], request: 1n },
    },
  ];
}

/** Writes batches to a new recording stream the way a recording does: the addon appends each batch. */
function writeStream(path: string, batches: NativeTestRow[][], durations = false): TraceStreamWriter {
  const writer = new TraceStreamWriter(path, metadata());
  for (const rows of batches) writer.appended(rows.length, addon.writeRecordingBatch(writer.fd, rows, durations));
  return writer;
}

/** The rows of a stream as trace-schema objects. */
async function readRows(path: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  const trace = await openTrace(path);
  for await (const b of trace.batches()) {
    expect(b.schema.fields.map((f) => f.name)).toEqual(traceSchema.fields.map((f) => f.name));
    for (const r of b) rows.push(r!.toJSON() as Record<string, unknown>);
  }
  return rows;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'gpo-trace-'));

function metadata(): TraceMetadata {
  return testMetadata({
    clock: { wall_offset_ns: '5', start_wall: 'x', end_wall: null, start_ns: '1', end_ns: null },
    hooks: { syscalls: 'tp_btf/sys_exit' },
    counts: { syscall: { rows: 2, dropped: 3 } },
    syscalls_dropped_by_nr: { '110': 3 },
    truncated: { exec_path: 0, exec_argv: 1 },
  });
}

describe('recording batches, as the addon encodes them', () => {
  it('writes a batch of syscalls only (no rare rows) with every other column null', async () => {
    const ipc = join(tmp(), 'only.arrows');
    writeStream(ipc, [sampleRows().slice(0, 2)]).close();
    const rows = await readRows(ipc);
    expect(rows.map((r) => [r.ts_ns, r.tid, r.comm, r.kind, r.nr, r.ret, r.duration_ns, r.argv, r.path, r.exe])).toEqual([
      [100n, 10, 'game', 'syscall', 110, 1n, null, null, null, null],
      [200n, 12, 'net\u001b[31m', 'syscall', 257, -2n, null, null, null, null],
    ]);
  });

  it('builds rows of the trace schema with nulls where a kind has no value', async () => {
    const ipc = join(tmp(), 'mixed.arrows');
    writeStream(ipc, [sampleRows()]).close();
    const rows = await readRows(ipc);
    expect(rows.map((r) => [r.kind, r.comm, r.nr, r.ret])).toEqual([
      ['syscall', 'game', 110, 1n],
      ['syscall', 'net\u001b[31m', 257, -2n],
      ['fork', 'game', null, null],
      ['exec', 'true', null, null],
    ]);
    expect(rows.map((r) => r.child_pid)).toEqual([null, null, 11, null]);
    expect(rows[3].path).toBe('/bin/true');
    expect([...(rows[3].argv as Iterable<string>)]).toEqual(['true', '-x']);
    expect(rows.map((r) => r.truncated)).toEqual([null, null, null, 1]);
    expect(rows.map((r) => r.request)).toEqual([null, null, null, 1n]);
    expect(rows.every((r) => r.duration_ns === null && r.target_pid === null)).toBe(true);
  });

  it('keeps hostile strings and 64-bit values exact, and escapes bytes that are not UTF-8 (\\xNN)', async () => {
    const ipc = join(tmp(), 'hostile.arrows');
    const hostile = 'a"b\\c\n\u0001\u007f é 🎮';
    const fields = {
      path: hostile,
      exe: Buffer.from([0x2f, 0xff, 0x41, 0xc3]),
      argv: [hostile, Buffer.from([0xed, 0xa0, 0x80])],
      addr: 0x7fff_ffff_ffff_fff0n,
      offset: -1n,
      target_pid: 4194303,
    };
    writeStream(ipc, [[{ ts: 1n, pid: 1, tid: 1, comm: 'x', kind: code('ptrace'), nr: 101, ret: -1n, fields }]]).close();
    const [row] = await readRows(ipc);
    expect(row.path).toBe(hostile);
    expect(row.exe).toBe('/\\xffA\\xc3');
    expect([...(row.argv as Iterable<string>)]).toEqual([hostile, '\\xed\\xa0\\x80']);
    // nr is null on every row but syscalls (a non-null nr means a syscall row); ret is an act's outcome.
    expect([row.addr, row.offset, row.target_pid, row.nr, row.ret]).toEqual([0x7fff_ffff_ffff_fff0n, -1n, 4194303, null, -1n]);
  });

  it('writes durations on syscall rows only', async () => {
    const ipc = join(tmp(), 'durations.arrows');
    const rows = sampleRows().map((r, i) => ({ ...r, duration: BigInt(1000 + i) }));
    writeStream(ipc, [rows.slice(0, 2), rows], true).close();
    expect((await readRows(ipc)).map((r) => r.duration_ns)).toEqual([1000n, 1001n, 1000n, 1001n, null, null]);
  });
});

describe('trace files', () => {
  it('round-trips rows and metadata through the IPC stream and Parquet', async () => {
    const dir = tmp();
    const ipc = join(dir, 't.parquet.arrows');
    writeStream(ipc, [sampleRows()]).close();
    const fromIpc = await openTrace(ipc);
    expect(fromIpc.format).toBe('arrow-ipc');
    expect(fromIpc.metadata).toEqual(metadata());

    await convertIpcToParquet(ipc, join(dir, 't.parquet'), metadata());
    expect(existsSync(ipc)).toBe(false);
    const trace = await openTrace(join(dir, 't.parquet'));
    expect(trace.format).toBe('parquet');
    expect(trace.metadata).toEqual(metadata());
    expect(trace.numRows).toBe(4);
    const kinds: string[] = [];
    for await (const b of trace.batches({ columns: ['kind', 'ts_ns'] })) for (const r of b) kinds.push(r!.kind);
    expect(kinds).toEqual(['syscall', 'syscall', 'fork', 'exec']);
  });

  it('writes an empty trace as a valid Parquet file', async () => {
    const dir = tmp();
    const ipc = join(dir, 'e.arrows');
    new TraceStreamWriter(ipc, metadata()).close();
    await convertIpcToParquet(ipc, join(dir, 'e.parquet'), metadata());
    const trace = await openTrace(join(dir, 'e.parquet'));
    expect(trace.numRows).toBe(0);
  });

  it('reads every complete batch of a stream cut mid-write', async () => {
    const ipc = join(tmp(), 'torn.arrows');
    const writer = writeStream(ipc, [sampleRows(), sampleRows()]);
    const full = writer.bytesWritten;
    writer.close();
    truncateSync(ipc, full - 10);
    expect(readFileSync(ipc).length).toBe(full - 10);
    let rows = 0;
    for await (const b of (await openTrace(ipc)).batches()) rows += b.numRows;
    expect(rows).toBe(4);
  });

  it('rejects files that are not traces with a clear message', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'x.txt'), 'hello world');
    await expect(openTrace(join(dir, 'x.txt'))).rejects.toThrow(/not a gpo trace/);
    await expect(openTrace(join(dir, 'missing.parquet'))).rejects.toThrow(/no such file/);
    writeFileSync(join(dir, 'bad.parquet'), 'PAR1 this is not parquet PAR1');
    await expect(openTrace(join(dir, 'bad.parquet'))).rejects.toThrow(/corrupt Parquet/);
  });
});
