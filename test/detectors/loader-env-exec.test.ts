// Loader variables set at the execs of the followed tree (loader_env rows) as the loader-env detector learns
// and scores them, on hand-made traces: one anomaly per variable and value however many execs carried it,
// merged with the same value in the start environment; what training saw is quiet; a live session's
// flushes agree with the final score. The recorder's side is tested in test/adversarial/loader-env-exec.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/detectors/anomaly.js';
import { parseBaseline } from '../../src/detectors/load-baseline.js';
import type { TraceRowInput } from '../../src/import/trace-batches.js';
import { ScoringRun, scoreTrace } from '../../src/score/score-trace.js';
import { baselineText, trainBaseline } from '../../src/train/train.js';
import { TRACE_COLUMNS } from '../../src/trace/batch-view.js';
import type { TargetInfo } from '../../src/trace/metadata.js';
import { openTrace } from '../../src/trace/reader.js';
import { anomalyKey } from '../../src/watch/printed-anomalies.js';
import { normalTrace, TARGET_PID, tempDir } from '../score/trace-helpers.js';

const dir = tempDir();

/** An exec of `program` by process `pid` at `ts`, and the loader variables its environment held. */
function exec(pid: number, ts: bigint, program: string, variables: [string | null, string | null][]): TraceRowInput[] {
  return [
    { ts_ns: ts, pid, tid: pid, comm: 'x', kind: 'exec', path: program, argv: [program] },
    ...variables.map(([func, value], i): TraceRowInput => ({
      ts_ns: ts + 1n + BigInt(i),
      pid,
      tid: pid,
      comm: 'x',
      kind: 'loader_env',
      exe: program,
      ...(func === null ? { truncated: 1 } : { func, path: value, truncated: 0 }),
    })),
  ];
}

const preloads = <A extends Anomaly>(anomalies: A[]): A[] => anomalies.filter((a) => a.kind === 'preload');

async function trainOn(name: string, extra: TraceRowInput[] = []) {
  const traces = [await normalTrace(join(dir, `${name}-1.parquet`), extra), await normalTrace(join(dir, `${name}-2.parquet`))];
  const { baseline } = await trainBaseline(traces);
  return parseBaseline(JSON.parse(baselineText(baseline)), 'b.json');
}

const cleanBaseline = await trainOn(
  'clean',
  exec(TARGET_PID, 999_000_000n, '/opt/game/bin/game', [
    ['LD_LIBRARY_PATH', '/opt/game/lib'],
    ['LD_PRELOAD', '/usr/lib/libMangoHud.so'],
  ]),
);

async function score(name: string, rows: TraceRowInput[], target: Partial<TargetInfo> = {}, baseline = cleanBaseline) {
  const trace = await openTrace(await normalTrace(join(dir, `${name}.parquet`), rows, target));
  return (await scoreTrace(trace, baseline, { baselinePath: 'b.json' })).anomalies;
}

describe('loader variables at the execs of the tree', () => {
  it('learns the values of the rows: the same values later are quiet, LD_LIBRARY_PATH is never alarmed on', async () => {
    expect(cleanBaseline.document.process.loader_env).toEqual({ LD_LIBRARY_PATH: ['/opt/game/lib'], LD_PRELOAD: ['/usr/lib/libMangoHud.so'] });
    const found = await score('known', [
      ...exec(TARGET_PID, 999_000_000n, '/opt/game/bin/game', [
        ['LD_PRELOAD', '/usr/lib/libMangoHud.so'],
        ['LD_LIBRARY_PATH', '/tmp/new'],
      ]),
    ]);
    expect(preloads(found)).toEqual([]);
  });

  it('one value in 20 processes of the tree is one high anomaly, with the count, the programs and the processes', async () => {
    const pids = Array.from({ length: 20 }, (_, i) => 5000 + i);
    const rows = pids.flatMap((pid, i) =>
      exec(pid, 1_000_100_000n + BigInt(i) * 10n, i % 2 ? '/bin/sh' : '/opt/game/bin/helper', [['LD_PRELOAD', '/home/u/.cache/hook.so']]),
    );
    const found = preloads(await score('twenty', rows));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      severity: 'high',
      count: 20,
      pid: 5000,
      first_ts_ns: 1_000_100_001n,
      last_ts_ns: 1_000_100_191n,
      summary: 'LD_PRELOAD=/home/u/.cache/hook.so set at the exec of /opt/game/bin/helper and 19 more, not in the baseline',
      evidence: {
        variable: 'LD_PRELOAD',
        value: '/home/u/.cache/hook.so',
        baseline: ['/usr/lib/libMangoHud.so'],
        programs: ['/opt/game/bin/helper', '/bin/sh'],
        processes: pids,
      },
    });
  });

  it('each variable and value apart; LD_AUDIT like LD_PRELOAD', async () => {
    const rows = [
      ...exec(5000, 1_000_100_000n, '/a', [
        ['LD_AUDIT', '/tmp/audit.so'],
        ['LD_PRELOAD', '/tmp/a.so:/tmp/b.so'],
      ]),
      ...exec(5001, 1_000_200_000n, '/b', [['LD_PRELOAD', '/tmp/a.so']]),
    ];
    const found = preloads(await score('apart', rows));
    expect(found.map((a) => [a.severity, a.evidence.variable, a.evidence.value, a.evidence.programs])).toEqual([
      ['high', 'LD_AUDIT', '/tmp/audit.so', ['/a']],
      ['high', 'LD_PRELOAD', '/tmp/a.so:/tmp/b.so', ['/a']],
      ['high', 'LD_PRELOAD', '/tmp/a.so', ['/b']],
    ]);
  });

  it("the start environment's value set again at execs is the one start anomaly, with the execs' count and processes", async () => {
    const rows = [
      ...exec(TARGET_PID, 999_000_000n, '/opt/game/bin/game', [['LD_PRELOAD', '/tmp/hook.so']]),
      ...exec(5001, 1_000_200_000n, '/bin/true', [['LD_PRELOAD', '/tmp/hook.so']]),
    ];
    const found = preloads(await score('start', rows, { loader_env: { LD_PRELOAD: '/tmp/hook.so' } }));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      severity: 'high',
      pid: TARGET_PID,
      first_ts_ns: 999_000_000n,
      count: 2,
      summary: 'target started with LD_PRELOAD=/tmp/hook.so, not in the baseline',
      evidence: { variable: 'LD_PRELOAD', value: '/tmp/hook.so', programs: ['/opt/game/bin/game', '/bin/true'], processes: [TARGET_PID, 5001] },
    });
  });

  it('an environment not read to its end is one medium anomaly over the execs it happened at', async () => {
    const rows = [...exec(5000, 1_000_100_000n, '/a', [[null, null]]), ...exec(5001, 1_000_200_000n, '/b', [[null, null]])];
    const found = preloads(await score('unread', rows));
    expect(found.map((a) => [a.severity, a.count, a.summary, a.evidence])).toEqual([
      [
        'medium',
        2,
        'the environment of /a and 1 more was not read to its end: a loader variable may be hidden there',
        { programs: ['/a', '/b'], processes: [5000, 5001] },
      ],
    ]);
  });

  it('gpo watch: flushed row by row, every flushed key is final and the last flush is the score', async () => {
    const rows = [
      ...exec(TARGET_PID, 999_000_000n, '/opt/game/bin/game', [['LD_PRELOAD', '/tmp/hook.so']]),
      ...exec(5001, 1_000_200_000n, '/bin/sh', [
        ['LD_AUDIT', '/tmp/audit.so'],
        [null, null],
      ]),
      ...exec(5002, 1_000_300_000n, '/bin/true', [['LD_AUDIT', '/tmp/audit.so']]),
    ];
    const path = await normalTrace(join(dir, 'live.parquet'), rows, { loader_env: { LD_PRELOAD: '/tmp/hook.so' } });
    const trace = await openTrace(path);
    const run = new ScoringRun(cleanBaseline, trace.metadata.target);
    const flushed = new Set<string>();
    for await (const batch of trace.batches({ columns: [...TRACE_COLUMNS], batchRows: 4096 }))
      for (let i = 0; i < batch.numRows; i++) {
        run.observe(batch.slice(i, i + 1));
        for (const a of preloads(run.flush())) flushed.add(anomalyKey(a));
      }
    const final = preloads(run.finish());
    expect(final).toHaveLength(3);
    expect([...flushed].sort()).toEqual(final.map(anomalyKey).sort());
    const scored = preloads((await scoreTrace(await openTrace(path), cleanBaseline, { baselinePath: 'b.json' })).anomalies);
    expect(final).toEqual(scored.map(({ recording_id: _, ...a }) => a));
  });
});
