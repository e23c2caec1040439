// gpo's own Parquet encoder (native/parquet-*.cc driven by src/trace/parquet-encoder.ts): every column type
// of the trace schema, nulls, all-null columns, empty and non-ASCII strings, argv lists of every shape,
// extreme integers, several row groups with batches split across them, and a dictionary given up for plain
// values. The file is read back by gpo's reader, by hyparquet and by DuckDB, value by value, and its footer
// statistics (what the reader skips columns by) are checked against the rows.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { rowsBatch, type TraceRowInput } from '../src/import/trace-batches.js';
import { readFooterStats } from '../src/trace/parquet-footer.js';
import { openTrace } from '../src/trace/reader.js';
import { traceSchema } from '../src/trace/schema.js';
import { ROW_GROUP_ROWS, streamParquet, writerProperties, writeParquet } from '../src/trace/writer.js';
import { testMetadata } from './helpers/metadata.js';

const dir = mkdtempSync(join(tmpdir(), 'gpo-parquet-writer-'));
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;
const STRINGS = ['', 'a', 'game', 'Ünïcödé ✓', '日本語', 'x'.repeat(300), 'Z'];
const ARGVS: (string[] | null)[] = [null, [], ['only'], ['a', '', 'ü', 'longer argument'], ['', '']];

/** The value of every column of row i (null where absent), deterministic and varied. */
function row(i: number): Record<string, unknown> {
  const pick = <T>(values: T[], k: number) => values[k % values.length]!;
  return {
    // Rising unevenly, with steps back (gpo's reader refuses negative times; delta's extremes: below).
    ts_ns: i === 2 ? 0n : BigInt(10_000_000_000 + i * 1000 + (i % 7) * 999_999 - (i % 11 === 0 ? 5_000_000 : 0)),
    pid: i === 3 ? I32_MIN : i === 4 ? I32_MAX : 100 + (i % 3),
    tid: i === 5 ? I32_MIN : 1000 + (i % 11),
    comm: pick(STRINGS, i),
    kind: i % 17 === 0 ? 'exec' : 'syscall',
    nr: i % 5 === 0 ? null : i === 6 ? -32768 : i === 7 ? 32767 : i % 400,
    ret: i % 9 === 0 ? null : i === 8 ? I64_MIN : i === 10 ? I64_MAX : BigInt(i - 50),
    duration_ns: null,
    child_pid: i % 13 === 0 ? i : null,
    child_tid: null,
    exit_code: i % 29 === 0 ? -1 : null,
    group_dead: i % 29 === 0 ? i % 2 : null,
    path: i % 3 === 0 ? null : pick(STRINGS, i + 1),
    argv: i % 17 === 0 ? pick(ARGVS, i / 17) : null,
    truncated: i % 17 === 0 ? 0 : null,
    uid: i % 31 === 0 ? I32_MAX : null,
    exe: i % 31 === 0 ? '/usr/bin/ünï' : null,
    target_pid: null,
    target_tid: null,
    request: i % 37 === 0 ? I64_MIN : null,
    addr: i % 37 === 0 ? I64_MAX : null,
    size: i % 37 === 0 ? 0n : null,
    dev: null,
    inode: i % 41 === 0 ? BigInt(i) : null,
    offset: null,
    func: i % 43 === 0 ? 'libc.so.6:dlopen' : null,
  };
}

/** argv with null items, which rowsBatch's row objects cannot say: built as an Arrow list directly. */
function batches(n: number, batchRows: number) {
  const rows = Array.from({ length: n }, (_, i) => row(i));
  const out = [];
  for (let at = 0; at < n; at += batchRows) out.push(rowsBatch(rows.slice(at, at + batchRows) as unknown as TraceRowInput[]));
  return { rows, batches: out };
}

/** Plain JS values: bigint for int64, number for int32/int16, string, string[] (items may be null). */
function normalize(name: string, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  const type = traceSchema.fields.find((f) => f.name === name)!.type.toString();
  if (type === 'Int64') return BigInt(value as bigint);
  if (type.startsWith('List')) return Array.from(value as Iterable<unknown>, (v) => (v === undefined ? null : v));
  return value;
}

async function viaGpo(path: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const batch of (await openTrace(path)).batches()) {
    expect(batch.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual(traceSchema.fields.map((f) => [f.name, String(f.type), f.nullable]));
    for (let i = 0; i < batch.numRows; i++) {
      const r: Record<string, unknown> = {};
      for (const f of traceSchema.fields) {
        const v = batch.getChild(f.name)!.get(i);
        r[f.name] = normalize(f.name, v === null || v === undefined ? null : f.name === 'argv' ? [...(v as Iterable<unknown>)] : v);
      }
      out.push(r);
    }
  }
  return out;
}

async function viaHyparquet(path: string): Promise<Record<string, unknown>[]> {
  const file = await asyncBufferFromFile(path);
  const rows = (await parquetReadObjects({ file, compressors })) as Record<string, unknown>[];
  return rows.map((r) => Object.fromEntries(traceSchema.fields.map((f) => [f.name, normalize(f.name, r[f.name])])));
}

async function duckdb(sql: string): Promise<Record<string, unknown>[]> {
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
  }
}

async function viaDuckdb(path: string): Promise<Record<string, unknown>[]> {
  const rows = await duckdb(`select * from read_parquet('${path}')`);
  return rows.map((r) => Object.fromEntries(traceSchema.fields.map((f) => [f.name, normalize(f.name, r[f.name])])));
}

describe('gpo Parquet encoder', () => {
  it('writes every column type so that gpo, hyparquet and DuckDB read back every value', async () => {
    const path = join(dir, 'all.parquet');
    const n = 5000;
    const { rows, batches: input } = batches(n, 777);
    const chunks: Uint8Array[] = [];
    // Row groups of 1000 rows: five groups, batches of 777 split across them.
    await streamParquet(input, { ...writerProperties('test', JSON.stringify(testMetadata())), rowGroupRows: 1000 }, (b) => chunks.push(b.slice()));
    writeFileSync(path, Buffer.concat(chunks));

    for (const read of [viaGpo, viaHyparquet, viaDuckdb]) {
      const got = await read(path);
      expect(got.length, read.name).toBe(n);
      for (let i = 0; i < n; i++)
        if (JSON.stringify(got[i], big) !== JSON.stringify(rows[i], big)) expect([read.name, i, got[i]]).toEqual([read.name, i, rows[i]]);
    }

    const trace = await openTrace(path);
    expect(trace.metadata).toEqual(testMetadata());
    expect(trace.numRows).toBe(n);
    const meta = await parquetMetadataAsync(await asyncBufferFromFile(path));
    expect(meta.key_value_metadata!.map((kv) => kv.key)).toEqual(['gpo', 'ARROW:schema']);
    expect(meta.created_by).toBe('gpo version test');
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual([1000, 1000, 1000, 1000, 1000]);

    // Footer statistics: null counts and exact min/max per row group, as gpo's reader reads them.
    const stats = readFooterStats(path)!;
    expect(stats.length).toBe(5);
    stats.forEach((group, g) => {
      const slice = rows.slice(g * 1000, (g + 1) * 1000);
      for (const f of traceSchema.fields) {
        if (f.name === 'argv') continue;
        const values = slice.map((r) => r[f.name]).filter((v) => v !== null);
        const chunk = group.columns.get(f.name)!;
        expect(chunk.nullCount, f.name).toBe(slice.length - values.length);
        if (values.length === 0) {
          expect(chunk.min, f.name).toBeUndefined();
          continue;
        }
        const encoded = values.map((v) => plainBytes(f.name, v));
        encoded.sort(Buffer.compare);
        if (typeof values[0] !== 'string') encoded.sort((a, b) => compareInts(a, b));
        expect([f.name, Buffer.from(chunk.min!).toString('hex'), Buffer.from(chunk.max!).toString('hex')]).toEqual([
          f.name,
          encoded[0]!.toString('hex'),
          encoded.at(-1)!.toString('hex'),
        ]);
      }
    });

    // Encodings as writerProperties asks: delta timestamps, dictionaries where they pay, plain elsewhere.
    const chunkMeta = await duckdb(`select path_in_schema p, encodings e, type t from parquet_metadata('${path}') where row_group_id = 0`);
    const encodings = Object.fromEntries(chunkMeta.map((c) => [c.p, c.e]));
    expect(encodings.ts_ns).toContain('DELTA_BINARY_PACKED');
    for (const name of ['comm', 'kind', 'pid', 'tid', 'nr']) expect(encodings[name], name).toContain('RLE_DICTIONARY');
    for (const name of ['ret', 'path', 'exe']) expect(encodings[name], name).not.toContain('DICTIONARY');
    const schema = await duckdb(`select name, type, repetition_type r, converted_type c from parquet_schema('${path}')`);
    expect(schema.filter((s) => ['nr', 'argv', 'list', 'item', 'comm'].includes(s.name as string))).toEqual([
      { name: 'comm', type: 'BYTE_ARRAY', r: 'REQUIRED', c: 'UTF8' },
      { name: 'nr', type: 'INT32', r: 'OPTIONAL', c: 'INT_16' },
      { name: 'argv', type: null, r: 'OPTIONAL', c: 'LIST' },
      { name: 'list', type: null, r: 'REPEATED', c: null },
      { name: 'item', type: 'BYTE_ARRAY', r: 'OPTIONAL', c: 'UTF8' },
    ]);
  });

  it('keeps null list items apart from empty strings and empty lists', async () => {
    const path = join(dir, 'argv.parquet');
    const { makeData, List, Utf8, Field, vectorFromArray } = await import('apache-arrow');
    const lists = [['a', null, 'b'], null, [], [null], ['', 'ü']];
    const items = vectorFromArray(['a', null, 'b', null, '', 'ü'], new Utf8()).data[0]!;
    const argv = makeData({
      type: new List(new Field('item', new Utf8(), true)),
      length: 5,
      nullCount: 1,
      nullBitmap: Uint8Array.of(0b11101),
      valueOffsets: Int32Array.of(0, 3, 3, 3, 4, 6),
      child: items,
    });
    const base = rowsBatch(lists.map((_, i) => ({ ts_ns: BigInt(i), pid: 1, tid: 1, comm: 'c', kind: 'exec' })));
    const { RecordBatch, Struct } = await import('apache-arrow');
    const children = traceSchema.fields.map((f, c) => (f.name === 'argv' ? argv : base.data.children[c]!));
    const batch = new RecordBatch(traceSchema, makeData({ type: new Struct(traceSchema.fields), length: 5, nullCount: 0, children }));
    await writeParquet([batch], path, testMetadata());
    for (const read of [viaGpo, viaHyparquet, viaDuckdb])
      expect(
        (await read(path)).map((r) => r.argv),
        read.name,
      ).toEqual(lists);
  });

  it('gives up a dictionary that grows too large for plain values (many distinct thread ids)', async () => {
    const path = join(dir, 'tids.parquet');
    const n = 70_000;
    const rows = Array.from({ length: n }, (_, i) => ({
      ts_ns: BigInt(i),
      pid: 1,
      tid: i < 100 ? 5 : 100_000 + i,
      comm: `t${i % 100_000}`,
      kind: 'syscall',
      nr: i % 3,
    }));
    await writeParquet([rowsBatch(rows.slice(0, 40_000)), rowsBatch(rows.slice(40_000))], path, testMetadata());
    const chunks = await duckdb(`select path_in_schema p, encodings e from parquet_metadata('${path}')`);
    const encodings = Object.fromEntries(chunks.map((c) => [c.p, c.e]));
    expect(encodings.tid).not.toContain('DICTIONARY');
    expect(encodings.comm).not.toContain('DICTIONARY');
    expect(encodings.nr).toContain('RLE_DICTIONARY');
    const got = await duckdb(`select tid, comm, nr from read_parquet('${path}')`);
    expect(got.map((r) => [r.tid, r.comm, r.nr])).toEqual(rows.map((r) => [r.tid, r.comm, r.nr]));
    expect(ROW_GROUP_ROWS).toBeGreaterThan(n);
  });

  it('delta-encodes timestamps whose steps overflow 64 bits', async () => {
    const path = join(dir, 'delta.parquet');
    const ts = [I64_MIN, I64_MAX, 0n, -1n, I64_MAX, I64_MAX - 1n, I64_MIN + 1n, ...Array.from({ length: 300 }, (_, i) => BigInt(i * i) * 1_000_003n), 5n];
    await writeParquet([rowsBatch(ts.map((ts_ns) => ({ ts_ns, pid: 1, tid: 1, comm: 'c', kind: 'syscall' })))], path, testMetadata());
    expect((await viaHyparquet(path)).map((r) => r.ts_ns)).toEqual(ts);
    expect((await viaDuckdb(path)).map((r) => r.ts_ns)).toEqual(ts);
  });

  it('writes an empty trace that every reader opens', async () => {
    const path = join(dir, 'empty.parquet');
    await writeParquet([], path, testMetadata());
    expect((await openTrace(path)).numRows).toBe(0);
    expect(await viaGpo(path)).toEqual([]);
    expect(await viaHyparquet(path)).toEqual([]);
    expect(await viaDuckdb(path)).toEqual([]);
  });
});

function big(_: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `${v}n` : v;
}

function plainBytes(name: string, v: unknown): Buffer {
  const type = String(traceSchema.fields.find((f) => f.name === name)!.type);
  if (type === 'Utf8') return Buffer.from(v as string);
  const b = Buffer.alloc(type === 'Int64' ? 8 : 4);
  if (type === 'Int64') b.writeBigInt64LE(v as bigint);
  else b.writeInt32LE(v as number);
  return b;
}

function compareInts(a: Buffer, b: Buffer): number {
  const x = a.length === 8 ? a.readBigInt64LE() : BigInt(a.readInt32LE());
  const y = b.length === 8 ? b.readBigInt64LE() : BigInt(b.readInt32LE());
  return x < y ? -1 : x > y ? 1 : 0;
}
