// gpo train / score / import through the built CLI (npm run build or npx tsc -p tsconfig.json first).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runGpo } from '../helpers/gpo.js';
import { cycle, normalTrace, syscallRows, tempDir, writeTrace } from '../score/trace-helpers.js';

const dir = tempDir();
const baselinePath = join(dir, 'baseline.json');
let traces: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/src/cli.js'))) throw new Error('dist/src/cli.js is missing: run npm run build (or npx tsc -p tsconfig.json) first');
  traces = [await normalTrace(join(dir, 'a.parquet')), await normalTrace(join(dir, 'b.parquet'))];
  const trained = runGpo(['train', ...traces, '-o', baselinePath]);
  expect(trained.stderr).toBe('');
  expect(trained.code).toBe(0);
});

describe('gpo train and score (CLI)', () => {
  it('trains byte-identical baselines from the same traces', () => {
    const again = join(dir, 'again.json');
    expect(runGpo(['train', ...traces, '-o', again, '--json']).code).toBe(0);
    expect(readFileSync(again)).toEqual(readFileSync(baselinePath));
  });

  it('trains from one thread of one recording a baseline that gpo score accepts (thresholds it cannot calibrate are switched off, not out of range)', async () => {
    const single = await writeTrace(join(dir, 'single.parquet'), syscallRows(4000, cycle(40), 1_000_000_000n));
    const out = join(dir, 'single.json');
    const trained = runGpo(['train', single, '-o', out]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toMatch(/cannot be calibrated/);
    const scored = runGpo(['score', single, '-b', out, '--json']);
    expect(scored.stderr).toBe('');
    expect(scored.code).toBe(0);
    expect(JSON.parse(scored.stdout)).toMatchObject({ verdict: 'clean' });
  });

  it('scores clean with exit 0, and prints the same bytes twice', () => {
    const first = runGpo(['score', traces[0]!, '--baseline', baselinePath, '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ verdict: 'clean', anomalies: [] });
    expect(runGpo(['score', traces[0]!, '--baseline', baselinePath, '--json']).stdout).toBe(first.stdout);
    expect(runGpo(['score', traces[0]!, '--baseline', baselinePath]).stdout).toMatch(/verdict: clean/);
  });

  it('exits 1 on anomalies at or above --fail-on', async () => {
    const path = await normalTrace(join(dir, 'read.parquet'), [
      { ts_ns: 1_001_000_000n, pid: 6000, tid: 6000, comm: 'peek\x1b[31m', kind: 'pidfd', exe: '/tmp/peek', target_pid: 4000 },
    ]);
    const medium = runGpo(['score', path, '-b', baselinePath]);
    expect(medium.code).toBe(0); // pidfd is medium, default --fail-on high
    expect(medium.stdout).toMatch(/medium\s+pidfd/);
    expect(medium.stdout).toContain('peek\\x1b[31m'); // escaped for the terminal
    expect(runGpo(['score', path, '-b', baselinePath, '--fail-on', 'medium']).code).toBe(1);
    expect(runGpo(['score', path, '-b', baselinePath, '--fail-on', 'bogus']).code).toBe(2);
  });

  it('says in the JSON verdict what the exit code says (passed), and whether there were anomalies at all', async () => {
    const path = await normalTrace(join(dir, 'pidfd.parquet'), [
      { ts_ns: 1_001_000_000n, pid: 6000, tid: 6000, comm: 'peek', kind: 'pidfd', exe: '/tmp/peek', target_pid: 4000 },
    ]);
    const verdictOf = (failOn: string) => {
      const run = runGpo(['score', path, '-b', baselinePath, '--json', '--fail-on', failOn]);
      const report = JSON.parse(run.stdout) as { verdict: string; passed: boolean; anomalous: boolean; exit_code: number };
      expect(report.exit_code).toBe(run.code);
      return { verdict: report.verdict, passed: report.passed, anomalous: report.anomalous, code: run.code };
    };
    expect(verdictOf('high')).toEqual({ verdict: 'pass', passed: true, anomalous: true, code: 0 });
    expect(verdictOf('none')).toEqual({ verdict: 'pass', passed: true, anomalous: true, code: 0 });
    expect(verdictOf('medium')).toEqual({ verdict: 'fail', passed: false, anomalous: true, code: 1 });
    const clean = JSON.parse(runGpo(['score', traces[0]!, '-b', baselinePath, '--json']).stdout) as Record<string, unknown>;
    expect(clean).toMatchObject({ verdict: 'clean', passed: true, anomalous: false, exit_code: 0 });
  });

  it('gives one clear line and exit 2 for bad baselines', () => {
    const cases: [string, string | null, RegExp][] = [
      ['missing.json', null, /missing\.json: no such baseline file/],
      ['corrupt.json', '{"kind": "gpo.baseline", ', /corrupt baseline \(not valid JSON\)/],
      ['foreign.json', '{"hello": 1}', /not a gpo baseline/],
      ['old.json', JSON.stringify({ ...JSON.parse(readFileSync(baselinePath, 'utf8')), baseline_version: 99 }), /baseline version 99 is not supported/],
      [
        'v1.json',
        JSON.stringify({ ...JSON.parse(readFileSync(baselinePath, 'utf8')), baseline_version: 1 }),
        /baseline version 1 is not supported \(this gpo reads version 3; retrain/,
      ],
      [
        'v2.json',
        JSON.stringify({ ...JSON.parse(readFileSync(baselinePath, 'utf8')), baseline_version: 2 }),
        /baseline version 2 is not supported \(this gpo reads version 3; retrain/,
      ],
    ];
    for (const [name, content, message] of cases) {
      const path = join(dir, name);
      if (content !== null) writeFileSync(path, content);
      const r = runGpo(['score', traces[0]!, '--baseline', path]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('gives a clear error for a bad trace', () => {
    const notTrace = join(dir, 'not-a-trace.parquet');
    writeFileSync(notTrace, 'hello');
    for (const [path, message] of [
      [notTrace, /not a gpo trace/],
      [join(dir, 'nope.parquet'), /no such file/],
    ] as const) {
      const r = runGpo(['score', path, '--baseline', baselinePath]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(runGpo(['train', path, '-o', join(dir, 'x.json')]).code).toBe(2);
    }
  });

  it('warns when the trace is of another program', async () => {
    const other = await normalTrace(join(dir, 'other.parquet'), [], { exe: '/usr/bin/other' });
    const r = runGpo(['score', other, '-b', baselinePath, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^gpo: warning: the trace is of another program/);
    expect(JSON.parse(r.stdout).program_mismatch).toMatch(/exe \/usr\/bin\/other vs/);
  });

  it('decodes in a worker thread (GPO_DECODE_WORKER=1, as for big traces) with the same bytes out', () => {
    const saved = process.env.GPO_DECODE_WORKER;
    const run = (setting: string) => {
      process.env.GPO_DECODE_WORKER = setting;
      const out = join(dir, `worker-${setting}.json`);
      expect(runGpo(['train', ...traces, '-o', out]).code).toBe(0);
      return [readFileSync(out, 'utf8'), runGpo(['score', traces[1]!, '-b', baselinePath, '--json']).stdout];
    };
    try {
      expect(run('1')).toEqual(run('0'));
    } finally {
      if (saved === undefined) delete process.env.GPO_DECODE_WORKER;
      else process.env.GPO_DECODE_WORKER = saved;
    }
  });
});
