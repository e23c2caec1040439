// Loader variables set inside the followed tree (issue 13, "Evasion routes"): a wrapper (`env`, a launcher
// script) that sets LD_PRELOAD or LD_AUDIT before exec'ing the program leaves gpo's own environment clean,
// so only the environment of each exec tells. The recorder reads it at every exec of the tree (loader_env
// rows); a loading value the baseline never saw is a high preload naming the program exec'd, one anomaly
// for the value however many processes carried it. Real kernel, real loader.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTrace } from '../../src/trace/reader.js';
import { fixture, readRows, requireRoot, ROOT, runGpo } from '../helpers/gpo.js';

const LIB = join(ROOT, 'out', 'lib', 'libfixture.so');
let dir: string;
let baseline: string;

interface PreloadAnomaly {
  kind: string;
  severity: string;
  pid: number;
  count: number;
  summary: string;
  evidence: { variable?: string; value?: string; programs?: string[]; processes?: number[] };
}

/** A short target that execs a child: 2 threads of 200 getppid, one open, then /bin/true in a child. */
const workload = () => [fixture('workload'), '2', '200', '/nonexistent', '/bin/true'];

/** A launcher script: exports what `exports` says, then execs the workload. */
function script(name: string, exports: string): string {
  const path = join(dir, name);
  writeFileSync(path, `${exports}\nexec ${workload().join(' ')}\n`);
  return path;
}

function record(name: string, command: string[]): string {
  const out = join(dir, `${name}.parquet`);
  const r = runGpo(['record', '-q', '-o', out, '--', ...command]);
  expect(r.code, r.stderr).toBe(0);
  return out;
}

function preloads(trace: string): PreloadAnomaly[] {
  const r = runGpo(['score', trace, '--baseline', baseline, '--json']);
  expect(r.code === 0 || r.code === 1, r.stderr).toBe(true);
  return (JSON.parse(r.stdout).anomalies as PreloadAnomaly[]).filter((a) => a.kind === 'preload');
}

beforeAll(() => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'gpo-adv-loader-env-'));
  // Trained on clean runs of both launchers.
  const clean = [record('clean-env', ['env', ...workload()]), record('clean-script', ['sh', script('clean.sh', 'export GAME_MODE=1')])];
  baseline = join(dir, 'clean.json');
  const r = runGpo(['train', ...clean, '-o', baseline]);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loader variables set inside the followed tree', () => {
  it("env LD_PRELOAD=LIB prog: one high preload naming the programs exec'd with it, and the processes", async () => {
    const trace = record('env-preload', ['env', `LD_PRELOAD=${LIB}`, ...workload()]);
    const rows = await readRows(trace);
    // The loader did preload it: the workload mapped the library.
    expect(rows.some((row) => row.kind === 'mmap_exec' && row.path === LIB)).toBe(true);
    const set = rows.filter((row) => row.kind === 'loader_env' && row.func === 'LD_PRELOAD');
    expect(set.map((row) => [row.exe, row.path])).toEqual([
      [fixture('workload'), LIB],
      ['/bin/true', LIB],
    ]);
    const execs = rows.filter((row) => row.kind === 'exec' && !row.path!.endsWith('/env')).map((row) => row.pid);
    expect(set.map((row) => row.pid)).toEqual(execs);

    // Replay says what each row is.
    const replayed = runGpo(['replay', trace, '--kind', 'loader_env']);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(
      replayed.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(/ {2,}/).slice(-1)[0]),
    ).toEqual([`loader_env: LD_PRELOAD="${LIB}" at the exec of "${fixture('workload')}"`, `loader_env: LD_PRELOAD="${LIB}" at the exec of "/bin/true"`]);

    const found = preloads(trace);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      severity: 'high',
      count: 2,
      evidence: { variable: 'LD_PRELOAD', value: LIB, programs: [fixture('workload'), '/bin/true'], processes: execs },
    });
    expect(found[0]!.summary).toBe(`LD_PRELOAD=${LIB} set at the exec of ${fixture('workload')} and 1 more, not in the baseline`);
  });

  it('a launcher script that exports LD_AUDIT then execs: a high preload naming the program', async () => {
    const trace = record('script-audit', ['sh', script('audit.sh', `export LD_AUDIT=${LIB}`)]);
    const found = preloads(trace);
    expect(found.map((a) => [a.severity, a.evidence.variable, a.evidence.value, a.evidence.programs])).toEqual([
      ['high', 'LD_AUDIT', LIB, [fixture('workload'), '/bin/true']],
    ]);
  });

  it('gpo watch reports it live as gpo score does on the trace it wrote', () => {
    const trace = join(dir, 'watched.parquet');
    const r = runGpo(['watch', '--json', '--fail-on', 'none', '--baseline', baseline, '-o', trace, '--', 'env', `LD_AUDIT=${LIB}`, ...workload()]);
    expect(r.code, r.stderr).toBe(0);
    const live = r.stdout
      .split('\n')
      .filter((line) => line.startsWith('{"kind":"preload"'))
      .map((line) => JSON.parse(line) as PreloadAnomaly & { ts_ns: string; tid: number });
    const scored = runGpo(['score', trace, '--baseline', baseline, '--json']);
    const offline = (JSON.parse(scored.stdout).anomalies as (PreloadAnomaly & { first_ts_ns: string; tid: number })[]).filter((a) => a.kind === 'preload');
    expect(offline.map((a) => [a.evidence.variable, a.evidence.value, a.evidence.programs])).toEqual([['LD_AUDIT', LIB, [fixture('workload'), '/bin/true']]]);
    // Printed once, when first found (the second exec came later): same identity and severity as the score.
    expect(live.map((a) => [a.severity, a.pid, a.tid, a.ts_ns])).toEqual(offline.map((a) => [a.severity, a.pid, a.tid, a.first_ts_ns]));
  });

  it('a clean run: no preload', async () => {
    const trace = record('clean-again', ['env', ...workload()]);
    expect(preloads(trace)).toEqual([]);
  });

  it('the variable at the end of a long environment is still found', async () => {
    const padding = Array.from({ length: 2000 }, (_, i) => `PAD_${i}=${'x'.repeat(32)}`);
    const trace = record('long-env', ['env', ...padding, `LD_PRELOAD=${LIB}`, ...workload()]);
    expect((await openTrace(trace)).metadata.truncated.exec_env ?? 0).toBe(0);
    expect(preloads(trace).map((a) => [a.evidence.variable, a.evidence.value])).toEqual([['LD_PRELOAD', LIB]]);
  });

  it('an environment longer than the recorder scans is counted, and scored as hiding what its end may hold', async () => {
    const padding = Array.from({ length: 10_000 }, (_, i) => `P${i}=`);
    const trace = record('padded-env', ['env', ...padding, `LD_PRELOAD=${LIB}`, ...workload()]);
    // The workload's exec and its child's: both environments are too long to scan to their end.
    expect((await openTrace(trace)).metadata.truncated.exec_env).toBe(2);
    const found = preloads(trace);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'medium', count: 2, evidence: { programs: [fixture('workload'), '/bin/true'] } });
    expect(found[0]!.summary).toBe(`the environment of ${fixture('workload')} and 1 more was not read to its end: a loader variable may be hidden there`);
  });

  it('a long value is cut to the row, marked and counted', async () => {
    const value = `${'/nonexistent/'.repeat(60)}libx.so`;
    const trace = record('long-value', ['env', `LD_PRELOAD=${value}`, ...workload()]);
    const rows = (await readRows(trace)).filter((row) => row.kind === 'loader_env');
    expect(rows.length).toBe(2);
    for (const row of rows) {
      expect(row.truncated).toBe(1);
      expect(value.startsWith(row.path!)).toBe(true);
      expect(row.path!.length).toBe(479);
    }
    expect((await openTrace(trace)).metadata.truncated.act_path).toBeGreaterThanOrEqual(2);
  });
});
