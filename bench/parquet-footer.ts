// Row-group statistics from a Parquet footer: gpo's own Thrift reader (src/trace/parquet-footer.ts)
// against hyparquet's parquetMetadata (strings kept as bytes), on the same footer bytes, same run:
// are the answers the same, and how long does each take? Usage:
//   flock /tmp/gpo-bench.lock node dist/bench/parquet-footer.js [--trace FILE] [--rows N] [--repeats N]
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parquetMetadata } from 'hyparquet';
import { median } from 'simple-statistics';
import { parseFooterStats, type ChunkStats, type RowGroupStats } from '../src/trace/parquet-footer.js';
import { writeSyntheticTrace } from './synthetic-trace.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const repeats = Number(arg('--repeats') ?? 200);
const rows = Number(arg('--rows') ?? 20_000_000);

/** The same answer as parseFooterStats, from hyparquet's FileMetaData. */
function hyparquetStats(tail: Uint8Array): RowGroupStats[] {
  const meta = parquetMetadata(tail, { parsers: { stringFromBytes: (bytes: Uint8Array) => bytes as unknown as string } });
  return meta.row_groups.map((group) => {
    const columns = new Map<string, ChunkStats>();
    const nested = new Set<string>();
    for (const chunk of group.columns) {
      if (chunk.file_path !== undefined || !chunk.meta_data) continue;
      const path = chunk.meta_data.path_in_schema;
      if (path.length !== 1) {
        nested.add(path[0]!);
        continue;
      }
      const s = chunk.meta_data.statistics;
      const stats: ChunkStats = {};
      if (s?.null_count !== undefined) stats.nullCount = Number(s.null_count);
      const exact = s?.is_max_value_exact !== false && s?.is_min_value_exact !== false;
      if (exact && s?.min_value instanceof Uint8Array && s.max_value instanceof Uint8Array) Object.assign(stats, { min: s.min_value, max: s.max_value });
      else if (exact && s?.min_value !== undefined && s.max_value !== undefined)
        Object.assign(stats, { min: rawOf(tail, s.min_value), max: rawOf(tail, s.max_value) });
      columns.set(path[0]!, stats);
    }
    for (const name of nested) columns.delete(name);
    return { rows: Number(group.num_rows), columns };
  });
}

/** Non-string min/max come back decoded (bigint, number): back to their 8-byte little-endian form. */
function rawOf(_tail: Uint8Array, value: unknown): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  if (typeof value === 'bigint') view.setBigInt64(0, value, true);
  else if (typeof value === 'number' && Number.isInteger(value)) return new Uint8Array(new Int32Array([value]).buffer);
  else view.setFloat64(0, Number(value), true);
  return out;
}

function footerOf(path: string): { footer: Uint8Array; tail: Uint8Array } {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  const end = Buffer.alloc(8);
  readSync(fd, end, 0, 8, size - 8);
  const length = end.readUInt32LE(0);
  const tail = Buffer.alloc(length + 8);
  readSync(fd, tail, 0, length + 8, size - 8 - length);
  closeSync(fd);
  return { footer: tail.subarray(0, length), tail };
}

function timeUs(run: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return median(times);
}

const given = arg('--trace');
const dir = given ? undefined : mkdtempSync(join(tmpdir(), 'gpo-footer-'));
const path = given ?? join(dir!, 'synthetic.parquet');
if (!given) await writeSyntheticTrace(path, { rows, threads: 8, seed: 1 });
const { footer, tail } = footerOf(path);
const ours = parseFooterStats(footer);
const theirs = hyparquetStats(tail);
/** Buffer (ours: slices of the footer) and Uint8Array (hyparquet) hold the same bytes: compare the bytes. */
const comparable = (groups: RowGroupStats[]) =>
  groups.map((g) => ({ rows: g.rows, columns: [...g.columns].map(([name, c]) => [name, c.nullCount, c.min && [...c.min], c.max && [...c.max]]) }));
const same = isDeepStrictEqual(comparable(ours), comparable(theirs));
if (!same)
  for (const [g, group] of ours.entries())
    for (const [name, stats] of group.columns)
      if (
        !isDeepStrictEqual(
          comparable([{ rows: 0, columns: new Map([[name, stats]]) }]),
          comparable([{ rows: 0, columns: new Map([[name, theirs[g]?.columns.get(name) ?? {}]]) }]),
        )
      )
        console.log(`differs: row group ${g} column ${name}:`, stats, theirs[g]?.columns.get(name));
// Warm both up before timing.
for (let i = 0; i < 20; i++) {
  parseFooterStats(footer);
  hyparquetStats(tail);
}
const oursUs = timeUs(() => parseFooterStats(footer));
const theirsUs = timeUs(() => hyparquetStats(tail));
console.log(`trace: ${given ?? `synthetic, ${rows} rows`}; ${ours.length} row groups, footer ${footer.length} bytes; medians of ${repeats}`);
console.log('| reader | us per footer | x gpo |');
console.log('| --- | --- | --- |');
console.log(`| gpo parseFooterStats | ${oursUs.toFixed(1)} | 1.00 |`);
console.log(`| hyparquet parquetMetadata + mapping | ${theirsUs.toFixed(1)} | ${(theirsUs / oursUs).toFixed(2)} |`);
console.log(`same statistics: ${same ? 'yes' : 'NO'}`);
if (dir) rmSync(dir, { recursive: true, force: true });
