// gpo train reads each trace once and replays the syscalls it kept for the held-out calibration; past the
// budget it reads the rest again. Either way the baseline is the same bytes.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSyntheticTrace } from '../../bench/synthetic-trace.js';
import { baselineText, trainBaseline } from '../../src/train/train.js';
import { openTrace } from '../../src/trace/reader.js';
import { tempDir } from '../score/trace-helpers.js';

const dir = tempDir();
// More rows than one Parquet row group (262144), in batches that do not divide it.
const a = join(dir, 'a.parquet');
const b = join(dir, 'b.parquet');
await writeSyntheticTrace(a, { rows: 300_000, threads: 5, seed: 1, batchRows: 50_000 });
await writeSyntheticTrace(b, { rows: 120_000, threads: 3, seed: 2, batchRows: 50_000 });

async function nrs(path: string, fromRow?: number): Promise<number[]> {
  const out: number[] = [];
  for await (const batch of (await openTrace(path)).batches({ columns: ['nr'], fromRow })) out.push(...(batch.getChild('nr')!.toArray() as Int16Array));
  return out;
}

describe('gpo train in one pass', () => {
  it('trains the same baseline whatever part of the calls it could keep', async () => {
    for (const paths of [[a], [a, b]]) {
      const kept = baselineText((await trainBaseline(paths)).baseline);
      for (const replayCalls of [0, 1, 70_000, 310_000]) expect(baselineText((await trainBaseline(paths, { replayCalls })).baseline)).toBe(kept);
    }
  });

  it('reads a trace from any row on', async () => {
    const all = await nrs(a);
    expect(all).toHaveLength(300_000);
    for (const fromRow of [1, 65_536, 262_143, 262_144, 262_145, 299_999, 300_000, 400_000]) expect(await nrs(a, fromRow)).toEqual(all.slice(fromRow));
  });
});
