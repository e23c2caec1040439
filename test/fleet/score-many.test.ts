// Many traces in one process: scoring gives each the report it gets alone (detectors share the baseline's
// trained tables across traces, never state of an earlier trace); info and replay name each recording.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runGpo } from '../helpers/gpo.js';
import { tempDir } from '../score/trace-helpers.js';

describe('gpo score FOLDER', () => {
  it('reports each trace as it is scored alone, in path order', () => {
    const dir = join(tempDir(), 'many');
    mkdirSync(dir);
    const names = ['a-ptrace-trainer', 'b-clean-seed-101', 'c-ptrace-trainer', 'd-speedhack'];
    for (const name of names) copyFileSync(join(ROOT, 'recordings', `${name.slice(2)}.parquet`), join(dir, `${name}.parquet`));
    const baseline = join(ROOT, 'recordings', 'baseline.json');
    const together = runGpo(['score', dir, '-b', baseline, '--json']);
    const reports = together.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(reports.map((r) => r.trace.path)).toEqual(names.map((n) => join(dir, `${n}.parquet`)));
    const alone = names.map((n) => JSON.parse(runGpo(['score', join(dir, `${n}.parquet`), '-b', baseline, '--json']).stdout));
    expect(reports).toEqual(alone);
    expect(reports[0].anomalies).toEqual(reports[2].anomalies); // the same file twice, same anomalies
    expect(together.code).toBe(Math.max(...alone.map((r) => r.exit_code)));
  });

  it('info prints one JSON line per trace, replay tags each JSON row with its recording', () => {
    const traces = ['vm-reader', 'vm-writer'].map((n) => join(ROOT, 'recordings', `${n}.parquet`));
    const info = runGpo(['info', ...traces, '--json']);
    expect(info.code).toBe(0);
    const summaries = info.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(summaries.map((s) => s.path)).toEqual(traces);
    expect(new Set(summaries.map((s) => s.recording.id)).size).toBe(2);
    const replay = runGpo(['replay', ...traces, '--kind', 'vm_read', '--json']);
    expect(replay.code).toBe(0);
    const rows = replay.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(new Set(rows.map((r) => r.recording_id))).toEqual(new Set(summaries.map((s) => s.recording.id)));
    expect(rows.every((r) => r.kind === 'vm_read')).toBe(true);
  });
});
