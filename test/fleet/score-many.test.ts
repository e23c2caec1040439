// Scoring many traces in one process gives each the report it gets alone: detectors share the baseline's
// trained tables across traces, never state of an earlier trace.
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
    const reports = together.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(reports.map((r) => r.trace.path)).toEqual(names.map((n) => join(dir, `${n}.parquet`)));
    const alone = names.map((n) => JSON.parse(runGpo(['score', join(dir, `${n}.parquet`), '-b', baseline, '--json']).stdout));
    expect(reports).toEqual(alone);
    expect(reports[0].anomalies).toEqual(reports[2].anomalies); // the same file twice, same anomalies
    expect(together.code).toBe(Math.max(...alone.map((r) => r.exit_code)));
  });
});
