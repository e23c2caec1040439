// Pure logic of the capture and trace stages: addon batches become Arrow rows of the schema, and a trace
// written to Arrow IPC and Parquet reads back with the same rows and metadata.
import { mkdtempSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeBatchToArrow } from '../src/capture/columns.js';
import type { NativeBatch } from '../src/native/addon.js';
import { openTrace } from '../src/trace/reader.js';
import { type TraceMetadata } from '../src/trace/metadata.js';
import { expandRecordingBatch } from '../src/trace/expand.js';
import { ROW_KINDS, recordingSchema, traceSchema } from '../src/trace/schema.js';
import { convertIpcToParquet, TraceStreamWriter } from '../src/trace/writer.js';

const code = (k: string) => ROW_KINDS.indexOf(k as never);

const buf = <T extends { buffer: ArrayBufferLike }>(a: T) => a.buffer as ArrayBuffer;

/** Offsets and bytes of a string column, as the addon builds them. */
function stringColumn(values: string[]): [ArrayBuffer, ArrayBuffer] {
  const bytes = values.map((v) => new TextEncoder().encode(v));
  const offsets = new Int32Array(values.length + 1);
  bytes.forEach((b, i) => (offsets[i + 1] = offsets[i] + b.length));
  const data = new Uint8Array(offsets[values.length]);
  bytes.forEach((b, i) => data.set(b, offsets[i]));
  return [buf(offsets), buf(data)];
}

function sampleBatch(): NativeBatch {
  const [commOffsets, commBytes] = stringColumn(['game', 'net\u001b[31m', 'game', 'true']);
  const [kindOffsets, kindBytes] = stringColumn(['syscall', 'syscall', 'fork', 'exec']);
  return {
    rows: 4,
    ts: buf(new BigInt64Array([100n, 200n, 300n, 400n])),
    pid: buf(new Int32Array([10, 10, 10, 11])),
    tid: buf(new Int32Array([10, 12, 10, 11])),
    commOffsets,
    commBytes,
    kindOffsets,
    kindBytes,
    kind: buf(new Uint8Array([code('syscall'), code('syscall'), code('fork'), code('exec')])),
    nr: buf(new Int16Array([110, 257, -1, -1])),
    ret: buf(new BigInt64Array([1n, -2n, 0n, 0n])),
    lifecycle: [
      { row: 2, childPid: 11, childTid: 11 },
      { row: 3, truncated: 1, path: '/bin/true', argv: ['true', '-x'], request: 1n },
    ],
  };
}

function metadata(): TraceMetadata {
  return {
    gpo_version: 'test',
    schema_version: 1,
    target: { pid: 10, comm: 'game', exe: '/game', cmdline: ['game'], exe_sha256: null, build_id: null, mode: 'launch', loader_env: {} },
    host: { hostname: 'h', kernel_release: 'k', boot_id: 'b' },
    clock: { wall_offset_ns: '5', start_wall: 'x', end_wall: null, start_ns: '1', end_ns: null },
    hooks: { syscalls: 'tp_btf/sys_exit' },
    options: { follow_children: true, durations: false, ring_buffer_bytes: 4096 },
    counts: { syscall: { rows: 2, dropped: 3 } },
    syscalls_dropped_by_nr: { '110': 3 },
    truncated: { exec_path: 0, exec_argv: 1 },
    status: 'complete',
    stop_reason: 'target-exited',
  };
}

describe('recording batches', () => {
  it('writes a batch of syscalls only (no rare rows) with every other column null', () => {
    const only = { ...sampleBatch(), rows: 2, lifecycle: [], kind: new Uint8Array([0, 0]).buffer as ArrayBuffer };
    for (const key of ['ts', 'pid', 'tid', 'nr', 'ret'] as const) only[key] = only[key].slice(0, key === 'ts' || key === 'ret' ? 16 : key === 'nr' ? 4 : 8);
    [only.commOffsets, only.commBytes] = stringColumn(['game', 'net']);
    [only.kindOffsets, only.kindBytes] = stringColumn(['syscall', 'syscall']);
    const batch = expandRecordingBatch(nativeBatchToArrow(only));
    const rows = [...batch].map((r) => r!.toJSON() as Record<string, unknown>);
    expect(rows.map((r) => [r.kind, r.nr, r.argv, r.path, r.exe])).toEqual([
      ['syscall', 110, null, null, null],
      ['syscall', 257, null, null, null],
    ]);
  });

  it('builds rows of the trace schema with nulls where a kind has no value', () => {
    const recorded = nativeBatchToArrow(sampleBatch());
    expect(recorded.schema.fields.map((f) => f.name)).toEqual(recordingSchema.fields.map((f) => f.name));
    const batch = expandRecordingBatch(recorded);
    expect(batch.schema.fields.map((f) => f.name)).toEqual(traceSchema.fields.map((f) => f.name));
    const rows = [...batch].map((r) => r!.toJSON() as Record<string, unknown>);
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
    expect(rows.every((r) => r.duration_ns === null && r.target_pid === null)).toBe(true);
  });
});

describe('trace files', () => {
  it('round-trips rows and metadata through the IPC stream and Parquet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpo-trace-'));
    const ipc = join(dir, 't.parquet.arrows');
    const writer = new TraceStreamWriter(ipc, metadata());
    writer.write(nativeBatchToArrow(sampleBatch()));
    writer.close();
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
    const dir = mkdtempSync(join(tmpdir(), 'gpo-trace-'));
    const ipc = join(dir, 'e.arrows');
    new TraceStreamWriter(ipc, metadata()).close();
    await convertIpcToParquet(ipc, join(dir, 'e.parquet'), metadata());
    const trace = await openTrace(join(dir, 'e.parquet'));
    expect(trace.numRows).toBe(0);
  });

  it('reads every complete batch of a stream cut mid-write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpo-trace-'));
    const ipc = join(dir, 'torn.arrows');
    const writer = new TraceStreamWriter(ipc, metadata());
    writer.write(nativeBatchToArrow(sampleBatch()));
    writer.write(nativeBatchToArrow(sampleBatch()));
    const full = writer.bytesWritten;
    writer.close();
    const { readFileSync, truncateSync } = await import('node:fs');
    truncateSync(ipc, full - 10);
    expect(readFileSync(ipc).length).toBe(full - 10);
    let rows = 0;
    for await (const b of (await openTrace(ipc)).batches()) rows += b.numRows;
    expect(rows).toBe(4);
  });

  it('rejects files that are not traces with a clear message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpo-trace-'));
    writeFileSync(join(dir, 'x.txt'), 'hello world');
    await expect(openTrace(join(dir, 'x.txt'))).rejects.toThrow(/not a gpo trace/);
    await expect(openTrace(join(dir, 'missing.parquet'))).rejects.toThrow(/no such file/);
    writeFileSync(join(dir, 'bad.parquet'), 'PAR1 this is not parquet PAR1');
    await expect(openTrace(join(dir, 'bad.parquet'))).rejects.toThrow(/corrupt Parquet/);
  });
});
