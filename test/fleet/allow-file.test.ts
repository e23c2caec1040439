// Allow files: a crash reporter's ptrace or an overlay's LD_PRELOAD allowed without retraining, through the
// signatures the baseline already uses, when scoring (--allow) or written into a baseline (train --allow).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllowFile } from '../../src/baseline/allow-file.js';
import { ROOT, runGpo } from '../helpers/gpo.js';
import { tempDir } from '../score/trace-helpers.js';

const dir = tempDir();
const BASELINE = join(ROOT, 'recordings/baseline.json');

interface Report {
  exit_code: number;
  anomalies: { kind: string; severity: string; evidence: Record<string, unknown> }[];
}

function score(trace: string, ...extra: string[]): Report {
  const r = runGpo(['score', join(ROOT, 'recordings', trace), '-b', BASELINE, '--json', ...extra]);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Report;
}

describe('allow files', () => {
  it('allow the acts they name by signature, and nothing else', () => {
    const before = score('ptrace-trainer.parquet');
    const signatures = before.anomalies.filter((a) => a.kind === 'ptrace').map((a) => a.evidence.signature as string);
    expect(signatures.some((s) => /^ptrace \S*\/ptrace-trainer PTRACE_ATTACH$/.test(s))).toBe(true);
    const allow = join(dir, 'crash-reporter.allow');
    writeFileSync(allow, `# the crash reporter attaches and reads\n${signatures.map((s) => `act ${s}`).join('\n')}\n`);
    const after = score('ptrace-trainer.parquet', '--allow', allow);
    expect(after.anomalies.filter((a) => a.kind === 'ptrace')).toEqual([]);
    // The other anomalies are untouched.
    expect(after.anomalies).toEqual(before.anomalies.filter((a) => a.kind !== 'ptrace'));
  });

  it('allow an overlay\'s LD_PRELOAD and its library', () => {
    const before = score('speedhack.parquet');
    expect(before.anomalies.map((a) => a.kind)).toEqual(expect.arrayContaining(['preload', 'new_library']));
    const preload = before.anomalies.find((a) => a.kind === 'preload')!.evidence.value as string;
    const library = before.anomalies.find((a) => a.kind === 'new_library')!.evidence.path as string;
    expect(library).toBe(preload); // the speedhack library, preloaded
    const allow = join(dir, 'overlay.allow');
    writeFileSync(allow, `preload LD_PRELOAD=${preload}\nlibrary ${library}\n`);
    const after = score('speedhack.parquet', '--allow', allow);
    expect(after.anomalies.map((a) => a.kind)).not.toContain('preload');
    expect(after.anomalies.map((a) => a.kind)).not.toContain('new_library');
    expect(after.anomalies.length).toBe(before.anomalies.length - 2);
  });

  it('written into a baseline by train --allow, score the same as --allow at scoring time', () => {
    const allow = join(dir, 'overlay.allow');
    const traces = [1, 2].map((i) => join(ROOT, 'recordings', `train-seed-${i}.parquet`));
    const plain = join(dir, 'plain.json');
    const merged = join(dir, 'merged.json');
    expect(runGpo(['train', ...traces, '-o', plain]).code).toBe(0);
    expect(runGpo(['train', ...traces, '--allow', allow, '-o', merged]).code).toBe(0);
    const doc = JSON.parse(readFileSync(merged, 'utf8'));
    expect(doc.process.loader_env.LD_PRELOAD.some((v: string) => v.endsWith('/libspeedhack.so'))).toBe(true);
    const trace = join(ROOT, 'recordings', 'speedhack.parquet');
    const a = JSON.parse(runGpo(['score', trace, '-b', merged, '--json']).stdout);
    const b = JSON.parse(runGpo(['score', trace, '-b', plain, '--allow', allow, '--json']).stdout);
    expect(a.anomalies).toEqual(b.anomalies);
  });

  it('refuse unknown entries with the file and line', () => {
    expect(() => parseAllowFile('act x\nallow everything\n', 'my.allow')).toThrow(/^my\.allow:2: unknown entry 'allow'/);
    expect(() => parseAllowFile('preload LD_FOO=1\n', 'my.allow')).toThrow(/my\.allow:1: expected preload LD_PRELOAD/);
    const r = runGpo(['score', join(ROOT, 'recordings', 'speedhack.parquet'), '-b', BASELINE, '--allow', join(dir, 'missing.allow')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^gpo: cannot read allow file .*missing\.allow: ENOENT\n$/);
  });
});
