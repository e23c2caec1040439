// "Seen in k of n recordings" and the learning curve: trained on the committed demo recordings (offline),
// merged from shards, and the learning/stable decision on made-up curves.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BaselineDocument } from '../../src/baseline/document.js';
import { learningStatus } from '../../src/baseline/learning.js';
import { ROOT, runGpo } from '../helpers/gpo.js';
import { tempDir } from '../score/trace-helpers.js';

const dir = tempDir();
const RUNS = [
  ...[1, 2, 3, 4, 5].map((seed) => `recordings/train-seed-${seed}.parquet`),
  ...[101, 102, 103, 104, 105].map((seed) => `recordings/clean-seed-${seed}.parquet`),
];
const read = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as BaselineDocument;
let summary: { learning: { state: string; last: number; recordings: number; new_windows_share: number | null; summary: string } };

beforeAll(() => {
  process.chdir(ROOT);
  const run = runGpo(['train', ...RUNS, '-o', join(dir, 'ten.json'), '--json']);
  expect(run.code, run.stderr).toBe(0);
  summary = JSON.parse(run.stdout);
  for (const [name, runs] of [
    ['a.json', RUNS.slice(0, 6)],
    ['b.json', RUNS.slice(6)],
  ] as const)
    expect(runGpo(['train', ...runs, '-o', join(dir, name)]).code).toBe(0);
  expect(runGpo(['train', '--merge', join(dir, 'a.json'), join(dir, 'b.json'), '-o', join(dir, 'merged.json')]).code).toBe(0);
});

describe('seen in k of n recordings', () => {
  it('counts the recordings each entry was in', () => {
    const doc = read('ten.json');
    // Every run maps libc, and calls read (0) and write (1); the curve has one value per recording.
    expect(doc.seen_in!.mappings).toEqual({ '/usr/lib/x86_64-linux-gnu/libc.so.6': 10 });
    expect(doc.seen_in!.syscalls!['0']).toBe(10);
    expect(Object.values(doc.seen_in!.syscalls!).every((k) => k >= 1 && k <= 10)).toBe(true);
    expect(Object.keys(doc.seen_in!.syscalls!).sort()).toEqual(doc.model.windows.vocabulary.map(String).sort());
    for (const kind of ['allowed', 'children', 'libcalls', 'loader_env', 'mappings', 'syscalls', 'windows']) expect(doc.learning![kind], kind).toHaveLength(10);
    expect(doc.learning!.mappings).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // Windows: new to the recording's calibration group (5 groups), so none for each group's first.
    expect(doc.learning!.windows!.slice(0, 5)).toEqual([null, null, null, null, null]);
    expect(doc.learning!.windows!.slice(5).every((n) => typeof n === 'number' && n >= 0)).toBe(true);
  });

  it('merges exactly: k adds up; the curve is the shards’ curves one after the other', () => {
    const merged = read('merged.json');
    expect(merged.seen_in).toEqual(read('ten.json').seen_in);
    expect(merged.learning!.mappings).toEqual([...read('a.json').learning!.mappings!, ...read('b.json').learning!.mappings!]);
    expect(merged.learning!.windows).toHaveLength(10);
  });

  it('train says whether the baseline is still learning', () => {
    const doc = read('ten.json');
    const newWindows = doc.learning!.windows!.slice(-2).reduce<number>((sum, n) => sum + n!, 0);
    expect(summary.learning).toMatchObject({ last: 2, recordings: 10, new_windows_share: newWindows / Object.keys(doc.model.windows.windows).length });
    expect(summary.learning.state).toBe(newWindows / Object.keys(doc.model.windows.windows).length <= 0.01 ? 'stable' : 'learning');
    const text = runGpo(['train', ...RUNS.slice(0, 2), '-o', join(dir, 'two.json')]).stdout;
    expect(text).toMatch(/^learning {2}unknown: the last of 2 recordings: windows not comparable yet .*; no new entries$/m);
  });
});

describe('learningStatus', () => {
  const doc = (learning: BaselineDocument['learning'], recordings: number, distinct = 100) =>
    ({
      trained_on: { traces: Array.from({ length: recordings }) },
      learning,
      model: { windows: { windows: Object.fromEntries(Array.from({ length: distinct }, (_, i) => [String(i), 1])) } },
      calibration: { units: 5 },
    }) as unknown as BaselineDocument;

  it('is stable when the last fifth of the recordings brought at most 1% new windows and no new entry', () => {
    const status = learningStatus(doc({ windows: [null, null, null, null, null, 9, 4, 2, 1, 0], mappings: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0] }, 10));
    expect(status).toMatchObject({ state: 'stable', last: 2, new_windows_share: 0.01, new_entries: {} });
  });

  it('is learning when they brought more new windows, or any new entry', () => {
    expect(learningStatus(doc({ windows: [null, null, null, null, null, 9, 4, 2, 1, 1], mappings: Array(10).fill(0) }, 10)).state).toBe('learning');
    const entry = learningStatus(doc({ windows: [null, null, null, null, null, 0, 0, 0, 0, 0], children: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1] }, 10));
    expect(entry).toMatchObject({ state: 'learning', new_entries: { children: 1 } });
    expect(entry.summary).toBe('learning: the last 2 of 10 recordings: 0.0% new windows; 1 new children');
  });

  it('says what it cannot know: one recording, an older baseline', () => {
    expect(learningStatus(doc({ windows: [null] }, 1)).state).toBe('learning');
    expect(learningStatus(doc(undefined, 4)).state).toBe('unknown');
  });
});
