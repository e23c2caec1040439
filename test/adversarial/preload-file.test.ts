// /etc/ld.so.preload (issue 13): the loader preloads what it lists into every program, no environment
// variable needed. gpo reads it at record start without following a planted link blindly, keeps it in the
// trace next to the loader variables, and scores an entry the baseline never saw as a preload. Real kernel,
// real loader, real path: the file is created in a private mount namespace (an overlay on /etc that
// vanishes with the test's processes), so the machine's own /etc/ld.so.preload is never touched.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMetadata } from '../../src/import/to-trace.js';
import { rowsBatch } from '../../src/import/trace-batches.js';
import type { TraceMetadata } from '../../src/trace/metadata.js';
import { openTrace } from '../../src/trace/reader.js';
import { writeParquet } from '../../src/trace/writer.js';
import { fixture, GPO, readRows, requireRoot, ROOT, runGpo } from '../helpers/gpo.js';

const PRELOAD = '/etc/ld.so.preload';
const LIB = join(ROOT, 'out', 'lib', 'libfixture.so');
let dir: string;

beforeAll(() => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'gpo-adv-preload-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A short target with syscalls to learn: 2 threads of 200 getppid, one open, one child. */
const workload = () => [fixture('workload'), '2', '200', '/nonexistent', '/bin/true'];

/**
 * Runs gpo with ARGS in a private mount namespace whose /etc is an overlay, after SETUP (shell, run there)
 * has made /etc/ld.so.preload what the test needs. Every process started there, gpo and its target
 * included, sees that file; nothing outside does.
 */
function gpoWithPreload(name: string, setup: string, args: string[]) {
  const upper = join(dir, `${name}-upper`);
  const work = join(dir, `${name}-work`);
  const script = `set -e; mkdir -p ${upper} ${work}
mount -t overlay overlay -o lowerdir=/etc,upperdir=${upper},workdir=${work} /etc
${setup}
exec "$@"`;
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', process.execPath, GPO, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe('/etc/ld.so.preload', () => {
  it('is read from the real path as it is on this machine (absent here: recorded as absent)', async () => {
    const out = join(dir, 'host.parquet');
    const r = runGpo(['record', '-q', '-o', out, '--', ...workload()]);
    expect(r.code, r.stderr).toBe(0);
    const recorded = (await openTrace(out)).metadata.target.preload_file;
    let stat: ReturnType<typeof lstatSync> | undefined;
    try {
      stat = lstatSync(PRELOAD);
    } catch {
      // Absent.
    }
    expect(recorded?.path).toBe(PRELOAD);
    expect(recorded?.exists).toBe(stat !== undefined);
    if (stat === undefined) expect(recorded).toMatchObject({ link: null, contents: null, entries: [], problem: null });
    else if (stat.isSymbolicLink()) expect(recorded?.link).toBe(readlinkSync(PRELOAD));
    else expect(recorded?.contents).toBe(readFileSync(PRELOAD, 'utf8'));
  });

  it('lists a library the baseline never saw: recorded with its entries, scored as a preload, learned by train', async () => {
    const clean = [join(dir, 'clean-1.parquet'), join(dir, 'clean-2.parquet')];
    for (const out of clean) expect(runGpo(['record', '-q', '-o', out, '--', ...workload()]).code).toBe(0);
    const baseline = join(dir, 'clean.json');
    let r = runGpo(['train', ...clean, '-o', baseline]);
    expect(r.code, r.stderr).toBe(0);

    const out = join(dir, 'preloaded.parquet');
    r = gpoWithPreload('file', `printf '# added by an installer\\n${LIB}:/nonexistent/libother.so\\n' > ${PRELOAD}`, [
      'record',
      '-q',
      '-o',
      out,
      '--',
      ...workload(),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const file = (await openTrace(out)).metadata.target.preload_file!;
    expect(file).toMatchObject({ path: PRELOAD, exists: true, link: null, entries: [LIB, '/nonexistent/libother.so'], problem: null });
    expect(file.contents).toBe(`# added by an installer\n${LIB}:/nonexistent/libother.so\n`);
    // The loader did preload it: the target mapped the library.
    expect((await readRows(out)).some((row) => row.kind === 'mmap_exec' && row.path === LIB)).toBe(true);

    const score = runGpo(['score', out, '--baseline', baseline, '--json']);
    expect(score.code, score.stderr).toBe(1);
    const preloads = (
      JSON.parse(score.stdout).anomalies as { kind: string; severity: string; summary: string; evidence: { variable: string; value: string } }[]
    ).filter((a) => a.kind === 'preload');
    // Sorted on both sides: where the checkout lives decides whether LIB sorts before /nonexistent.
    expect(preloads.map((a) => [a.severity, a.evidence.variable, a.evidence.value]).sort()).toEqual(
      [
        ['high', PRELOAD, '/nonexistent/libother.so'],
        ['high', PRELOAD, LIB],
      ].sort(),
    );
    expect(preloads.find((a) => a.evidence.value === LIB)!.summary).toBe(`${PRELOAD} lists ${LIB}, not in the baseline`);

    const trained = join(dir, 'preloaded.json');
    r = runGpo(['train', out, ...clean, '-o', trained]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(trained, 'utf8')).process.loader_env[PRELOAD]).toEqual([LIB, '/nonexistent/libother.so'].sort());
    const again = runGpo(['score', out, '--baseline', trained, '--json']);
    expect(JSON.parse(again.stdout).anomalies.filter((a: { kind: string }) => a.kind === 'preload')).toEqual([]);
  });

  it('planted as a symbolic link: reported as a link, its target read only when it is a regular file', async () => {
    const real = join(dir, 'listed-elsewhere');
    const out = join(dir, 'link.parquet');
    let r = gpoWithPreload('link', `printf '${LIB}\\n' > ${real}; ln -s ${real} ${PRELOAD}`, ['record', '-q', '-o', out, '--', ...workload()]);
    expect(r.code, r.stderr).toBe(0);
    expect((await openTrace(out)).metadata.target.preload_file).toMatchObject({ exists: true, link: real, entries: [LIB], problem: null });
    expect(runGpo(['info', out]).stdout).toContain(`preload    ${PRELOAD} -> ${real}: ${LIB}\n`);

    // A link to a device that never ends: gpo neither hangs nor reads it (the loader ignores it too).
    const zero = join(dir, 'zero.parquet');
    r = gpoWithPreload('zero', `ln -s /dev/zero ${PRELOAD}`, ['record', '-q', '-o', zero, '--', ...workload()]);
    expect(r.code, r.stderr).toBe(0);
    expect((await openTrace(zero)).metadata.target.preload_file).toMatchObject({
      exists: true,
      link: '/dev/zero',
      contents: null,
      entries: [],
      problem: 'not a regular file',
    });
  });
});

describe('what the trace says of the preload file and of held memory', () => {
  it('is checked on read: a tampered preload_file or memory_holders is refused in one line', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => ({ ts_ns: 1_000_000_000n + BigInt(i), pid: 7, tid: 7, comm: 'game', kind: 'syscall', nr: 0 }));
    const cases: [string, (m: TraceMetadata) => void, RegExp][] = [
      [
        'entries',
        (m) => (m.target.preload_file = { path: PRELOAD, exists: true, link: null, contents: '', entries: [1] as unknown as string[], problem: null }),
        /target\.preload_file is not a preload file/,
      ],
      [
        'link',
        (m) => (m.target.preload_file = { path: PRELOAD, exists: true, link: 5 as unknown as string, contents: null, entries: [], problem: null }),
        /target\.preload_file is not a preload file/,
      ],
      [
        'holders',
        (m) => (m.target.memory_holders = [{ pid: 'x' as unknown as number, comm: '', exe: '', fd: 3, path: '/proc/1/mem', write: true }]),
        /target\.memory_holders is not a list of holders/,
      ],
    ];
    for (const [name, tamper, pattern] of cases) {
      const meta = importMetadata('test', [], { pid: 7, comm: 'game', rows: rows.length });
      tamper(meta);
      const path = join(dir, `tampered-${name}.parquet`);
      await writeParquet([rowsBatch(rows)], path, meta);
      const r = runGpo(['info', path]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  });
});
