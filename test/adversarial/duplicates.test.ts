// One act repeated is one anomaly with a count (issue 13, "Duplicates"): the same new library mapped by 20
// processes of the tree, or 31 descriptors taken from the target with pidfd_getfd, is what a reader needs
// to see once, with the processes or descriptors in its evidence, not 20 or 31 anomalies.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBaseline } from '../../src/detectors/load-baseline.js';
import { baselineText, trainBaseline } from '../../src/train/train.js';
import { scoreTrace } from '../../src/score/score-trace.js';
import { openTrace } from '../../src/trace/reader.js';
import { normalTrace, tempDir } from '../score/trace-helpers.js';

const dir = tempDir();
const baseline = parseBaseline(
  JSON.parse(baselineText((await trainBaseline([await normalTrace(join(dir, 'n1.parquet')), await normalTrace(join(dir, 'n2.parquet'))])).baseline)),
  'b.json',
);
const score = async (path: string) => (await scoreTrace(await openTrace(path), baseline, { baselinePath: 'b.json' })).anomalies;

describe('duplicates', () => {
  it('the same new library in 20 processes of the tree is one anomaly, with the processes', async () => {
    const pids = Array.from({ length: 20 }, (_, i) => 4000 + i * 10);
    const rows = pids.map((pid, i) => ({
      ts_ns: 1_000_100_000n + BigInt(i),
      pid,
      tid: pid,
      comm: 'game',
      kind: 'mmap_exec',
      path: '/opt/game/lib/libnew.so',
      dev: 2049,
      inode: 77,
    }));
    const found = (await score(await normalTrace(join(dir, 'library.parquet'), rows))).filter((a) => a.kind === 'new_library');
    expect(found).toHaveLength(1);
    expect(found[0]!.count).toBe(20);
    expect(found[0]!.evidence.processes).toEqual(pids);
    expect(found[0]!.evidence.path).toBe('/opt/game/lib/libnew.so');
  });

  it('31 descriptors taken with pidfd_getfd are one anomaly, with the descriptors', async () => {
    const actor = { pid: 6000, tid: 6000, comm: 'thief', exe: '/tmp/thief', uid: 0, target_pid: 4000, target_tid: 4000 };
    const rows = Array.from({ length: 31 }, (_, fd) => ({ ...actor, ts_ns: 1_001_000_000n + BigInt(fd), kind: 'pidfd', request: fd + 3 }));
    const found = (await score(await normalTrace(join(dir, 'getfd.parquet'), rows))).filter((a) => a.kind === 'pidfd');
    expect(found).toHaveLength(1);
    expect(found[0]!.count).toBe(31);
    expect(found[0]!.evidence.requests).toEqual(Array.from({ length: 31 }, (_, fd) => fd + 3));
  });
});
