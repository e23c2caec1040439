// Acts without rows: descriptors of the target's memory held before attach (metadata target.memory_holders),
// as the acts detector turns them into signatures and anomalies. No root needed.
import { describe, expect, it } from 'vitest';
import { heldMemoryActs, HeldMemoryScorer } from '../../src/detectors/held-memory.js';
import { rowsBatch } from '../../src/import/trace-batches.js';
import { viewOf } from '../../src/trace/batch-view.js';
import type { MemoryHolder, TargetInfo } from '../../src/trace/metadata.js';

const holder = (h: Partial<MemoryHolder>): MemoryHolder => ({ pid: 900, comm: 'cheat', exe: '/opt/cheat', fd: 3, path: '/proc/7/mem', write: false, ...h });
const target = (holders: MemoryHolder[]): TargetInfo => ({
  pid: 7,
  comm: 'game',
  exe: '/game',
  cmdline: [],
  exe_sha256: null,
  build_id: null,
  mode: 'attach',
  loader_env: {},
  memory_holders: holders,
});

describe('memory held before attach', () => {
  it('is one act per holder and file: descriptors of one file merge, writing is its own signature', () => {
    const acts = heldMemoryActs(
      target([holder({ fd: 3 }), holder({ fd: 9 }), holder({ fd: 4, write: true }), holder({ pid: 901, fd: 5, path: '/proc/7/task/8/pagemap' })]),
    );
    expect(acts.map((a) => [a.pid, a.signature, a.severity, a.evidence.fds])).toEqual([
      [900, 'proc_mem_held /opt/cheat mem', 'high', [3, 9]],
      [900, 'proc_mem_held /opt/cheat mem write', 'high', [4]],
      [901, 'proc_mem_held /opt/cheat pagemap', 'medium', [5]],
    ]);
  });

  it('is reported unless allowed, dated at the first row; live, only once that row is seen', () => {
    const scorer = new HeldMemoryScorer(target([holder({}), holder({ pid: 901, write: true })]), new Set(['proc_mem_held /opt/cheat mem']));
    expect(scorer.anomalies(false)).toEqual([]);
    scorer.observe(viewOf(rowsBatch([{ ts_ns: 5000n, pid: 7, tid: 7, comm: 'game', kind: 'syscall', nr: 0 }])));
    const [only, ...rest] = scorer.anomalies(false);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({
      kind: 'proc_mem',
      severity: 'high',
      pid: 901,
      first_ts_ns: 5000n,
      count: 1,
      evidence: { signature: 'proc_mem_held /opt/cheat mem write', write: true },
    });
    expect(new HeldMemoryScorer(target([holder({})]), new Set()).anomalies(true)[0]!.first_ts_ns).toBe(0n);
  });
});
