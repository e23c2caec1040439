// User exceptions (--allow FILE) on the committed demo recordings, offline: a ptrace "crash reporter" and
// an LD_PRELOAD overlay allowed by their signatures without retraining, the same file merged into a
// baseline by train --allow, and bad allow files refused in one line.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runGpo } from '../helpers/gpo.js';
import { tempDir } from '../score/trace-helpers.js';

const dir = tempDir();
const baseline = join(dir, 'baseline.json');
const TRAIN = ['recordings/train-seed-1.parquet', 'recordings/train-seed-2.parquet'];
const PTRACE = 'recordings/ptrace-trainer.parquet';
const PRELOAD = 'recordings/speedhack.parquet';

interface Report {
  baseline: { allow: string | null };
  verdict: string;
  anomalies: { kind: string; severity: string; evidence: Record<string, unknown> }[];
}

function score(trace: string, ...extra: string[]): Report {
  const run = runGpo(['score', trace, '-b', baseline, '--json', ...extra]);
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Report;
}

function allowFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const kinds = (report: Report) => [...new Set(report.anomalies.map((a) => a.kind))].sort();

beforeAll(() => {
  process.chdir(ROOT);
  expect(runGpo(['train', ...TRAIN, '-o', baseline]).code).toBe(0);
});

describe('allow files', () => {
  it("allow a ptrace by its signature (a crash reporter's), and only that act", () => {
    const before = score(PTRACE);
    const signatures = before.anomalies.filter((a) => a.kind === 'ptrace').map((a) => a.evidence.signature as string);
    expect(signatures).toContain('ptrace /work/main/out/demo/cheats/ptrace-trainer PTRACE_ATTACH');
    const allow = allowFile('reporter.allow', `# the crash reporter attaches and reads registers\n${signatures.map((s) => `act ${s}`).join('\n')}\n`);
    const after = score(PTRACE, '--allow', allow);
    expect(after.baseline.allow).toBe(allow);
    expect(kinds(after)).not.toContain('ptrace');
    // What the file does not name is still reported: the /proc/<pid>/maps open.
    expect(after.anomalies.filter((a) => a.kind !== 'ptrace')).toEqual(before.anomalies.filter((a) => a.kind !== 'ptrace'));
  });

  it("allow an overlay's LD_PRELOAD, its library and its dlsym without retraining", () => {
    const before = score(PRELOAD);
    expect(kinds(before)).toEqual(expect.arrayContaining(['preload', 'new_library', 'unexpected_libcall']));
    const overlay = '/work/main/out/demo/cheats/libspeedhack.so';
    const allow = allowFile(
      'overlay.allow',
      `preload LD_PRELOAD=${overlay}\nlibrary ${overlay}\n${['clock_gettime', 'clock_nanosleep', 'nanosleep'].map((symbol) => `libcall libc.so.6:dlsym ${symbol}`).join('\n')}\n`,
    );
    const after = score(PRELOAD, '--allow', allow);
    for (const kind of ['preload', 'new_library', 'unexpected_libcall']) expect(kinds(after)).not.toContain(kind);
    expect(kinds(after)).toContain('rate_deviation'); // the speed hack itself is still seen
    expect(after.verdict).toBe('fail');
  });

  it('train --allow writes the entries into the baseline: it scores as score --allow does', () => {
    const allow = allowFile(
      'both.allow',
      'act ptrace /work/main/out/demo/cheats/ptrace-trainer PTRACE_ATTACH\nchild /usr/bin/crash-handler\npreload LD_PRELOAD=/opt/overlay.so\n',
    );
    const withAllow = join(dir, 'with-allow.json');
    expect(runGpo(['train', ...TRAIN, '--allow', allow, '-o', withAllow]).code).toBe(0);
    const document = JSON.parse(readFileSync(withAllow, 'utf8'));
    expect(document.allowed['ptrace /work/main/out/demo/cheats/ptrace-trainer PTRACE_ATTACH']).toBe(0);
    expect(document.process.children).toContain('/usr/bin/crash-handler');
    expect(document.process.loader_env.LD_PRELOAD).toEqual(['/opt/overlay.so']);
    const viaBaseline = JSON.parse(runGpo(['score', PTRACE, '-b', withAllow, '--json']).stdout) as Report;
    expect(viaBaseline.anomalies).toEqual(score(PTRACE, '--allow', allow).anomalies);
  });

  it('refuses bad allow files in one line, exit 2', () => {
    const cases: [string | null, RegExp][] = [
      [null, /missing\.allow: no such allow file/],
      ['permit ptrace x\n', /bad\.allow:1: unknown entry "permit" \(expected one of: act, child, libcall, library, preload\)/],
      ['# fine\n\nact\n', /bad\.allow:3: act needs a value/],
      ['act hello world\n', /bad\.allow:1: not an act signature: "hello world"/],
      ['library relative/lib.so\n', /bad\.allow:1: expected an absolute path, got "relative\/lib\.so"/],
      ['preload LD_FOO=1\n', /bad\.allow:1: expected NAME=VALUE with NAME one of LD_PRELOAD, LD_AUDIT, LD_LIBRARY_PATH/],
      ['libcall dlopen\n', /bad\.allow:1: expected a library function as LIBRARY:FUNCTION/],
      [Buffer.from([0x61, 0x63, 0x74, 0x20, 0xff, 0x0a]).toString('latin1'), /bad\.allow:1: not valid UTF-8/],
    ];
    for (const [text, message] of cases) {
      const path = join(dir, text === null ? 'missing.allow' : 'bad.allow');
      if (text !== null) writeFileSync(path, Buffer.from(text, 'latin1'));
      for (const args of [
        ['score', PTRACE, '-b', baseline, '--allow', path],
        ['train', ...TRAIN, '--allow', path, '-o', join(dir, 'x.json')],
      ]) {
        const run = runGpo(args);
        expect(run.code, `${args[0]} ${text}: ${run.stderr}`).toBe(2);
        expect(run.stderr).toMatch(message);
        expect(run.stderr.trim().split('\n')).toHaveLength(1);
      }
    }
  });
});
