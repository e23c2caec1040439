// gpo train --merge on the committed demo recordings (real recordings of one program, offline): two shard
// baselines, each trained on part of the training folder, merge into one that scores every held-out and
// cheat recording like the single-pass baseline. Byte-identical: what adds up (windows, vocabulary, rate
// statistics, libraries, process profile, allowed acts, traces); may differ: the thresholds calibrated on
// held-out scores (each shard held out only its own recordings), hence novel_sequence severities.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runGpo } from '../helpers/gpo.js';
import { tempDir } from '../score/trace-helpers.js';

const dir = tempDir();
const rec = (name: string) => join('recordings', name);
const TRAIN = [1, 2, 3, 4, 5].map((seed) => rec(`train-seed-${seed}.parquet`));
const SCORED = [
  'clean-seed-101',
  'clean-seed-102',
  'clean-seed-103',
  'clean-seed-104',
  'clean-seed-105',
  'fileless',
  'inject',
  'jit-exec',
  'procmem-reader',
  'ptrace-trainer',
  'speedhack',
  'vm-writer',
].map((name) => rec(`${name}.parquet`));
const out = (name: string) => join(dir, name);

interface Report {
  trace: { path: string };
  verdict: string;
  exit_code: number;
  anomalies: {
    kind: string;
    severity: string;
    first_ts_ns: string;
    last_ts_ns: string;
    pid: number;
    tid: number;
    count: number;
    summary: string;
    evidence: Record<string, unknown>;
  }[];
}

function scores(baseline: string): Report[] {
  const run = runGpo(['score', ...SCORED, '-b', baseline, '--json']);
  expect(run.stderr).toBe('');
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Report);
}

beforeAll(() => {
  process.chdir(ROOT);
  for (const [name, traces] of [
    ['full.json', TRAIN],
    ['a.json', TRAIN.slice(0, 3)],
    ['b.json', TRAIN.slice(3)],
  ] as const)
    expect(runGpo(['train', ...traces, '-o', out(name)]).code).toBe(0);
  const merged = runGpo(['train', '--merge', out('a.json'), out('b.json'), '-o', out('merged.json')]);
  expect(merged.stderr).toBe('');
  expect(merged.code).toBe(0);
});

describe('gpo train --merge', () => {
  it('gives the sections that add up byte for byte as one pass over all the recordings', () => {
    const full = JSON.parse(readFileSync(out('full.json'), 'utf8'));
    const merged = JSON.parse(readFileSync(out('merged.json'), 'utf8'));
    for (const exact of ['trained_on', 'libraries', 'process', 'allowed', 'seen_in']) expect(merged[exact], exact).toEqual(full[exact]);
    expect(merged.model.windows).toEqual(full.model.windows);
    expect(merged.model.frequency).toEqual(full.model.frequency);
    expect(merged.model.options).toEqual(full.model.options);
    // Calibrated from the shards' pooled held-out samples: as many samples, other values.
    expect(merged.calibration.sequence_held_out.scores).toHaveLength(full.calibration.sequence_held_out.scores.length);
    expect(merged.calibration.rate_deviation.held_out_windows).toBe(full.calibration.rate_deviation.held_out_windows);
    expect(merged.calibration.method).toMatch(/^held-out scores of 2 baselines pooled/);
  });

  it('scores like the single-pass baseline: same verdicts, same anomalies (novel_sequence severity may differ)', () => {
    const full = scores(out('full.json'));
    const merged = scores(out('merged.json'));
    expect(merged.map((r) => [r.trace.path, r.verdict, r.exit_code])).toEqual(full.map((r) => [r.trace.path, r.verdict, r.exit_code]));
    expect(full.filter((r) => r.exit_code === 1).length).toBe(7); // every cheat fails, no clean run does
    const shape = (r: Report) =>
      r.anomalies.map((a) =>
        a.kind === 'novel_sequence' ? { kind: a.kind, first: a.first_ts_ns, last: a.last_ts_ns, tid: a.tid, count: a.count, window: a.evidence.window } : a,
      );
    for (const [i, report] of merged.entries()) expect(shape(report), report.trace.path).toEqual(shape(full[i]!));
  });

  it('merging one baseline gives it back byte for byte, and merging is deterministic', () => {
    expect(runGpo(['train', '--merge', out('full.json'), '-o', out('again.json')]).code).toBe(0);
    expect(readFileSync(out('again.json'), 'utf8')).toBe(readFileSync(out('full.json'), 'utf8'));
    expect(runGpo(['train', '--merge', out('a.json'), out('b.json'), '-o', out('merged-2.json')]).code).toBe(0);
    expect(readFileSync(out('merged-2.json'))).toEqual(readFileSync(out('merged.json')));
  });

  it('refuses in one line what cannot be merged', () => {
    const a = JSON.parse(readFileSync(out('a.json'), 'utf8'));
    writeFileSync(out('other-options.json'), JSON.stringify({ ...a, model: { ...a.model, options: { ...a.model.options, sequenceFalseAlarmRate: 0.02 } } }));
    const older = { ...a, model: { ...a.model, frequency: { ...a.model.frequency, histograms: undefined } } };
    writeFileSync(out('older.json'), JSON.stringify(older));
    const cases: [string[], RegExp][] = [
      [[out('a.json'), out('other-options.json')], /trained with different model options: they cannot be merged/],
      [[out('a.json'), out('older.json')], /no rate histograms \(trained by an older gpo\): retrain it to merge/],
      [[out('a.json'), out('missing.json')], /missing\.json: no such baseline file/],
      [[out('a.json'), rec('train-seed-1.parquet')], /corrupt baseline \(not valid JSON\)/],
    ];
    for (const [inputs, message] of cases) {
      const run = runGpo(['train', '--merge', ...inputs, '-o', out('x.json')]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('warns when two baselines hold the same recording', () => {
    const run = runGpo(['train', '--merge', out('a.json'), out('full.json'), '-o', out('twice.json')]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/were both trained on a file with sha256 [0-9a-f]{12} \(recordings\/train-seed-1\.parquet\)/);
  });
});
