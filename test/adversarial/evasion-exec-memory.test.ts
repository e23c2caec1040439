// Evasion by executable-memory routes (issue 13, "Evasion routes"): pkey_mprotect, shmat(SHM_EXEC) and a
// writable+executable device mapping made executable memory with no high anomaly, and code mapped from a
// memfd, an unlinked file or an O_TMPFILE came with a stale path or none and no mark that the file has no
// name left. Real kernel, as root: the fixture does each inside a process `gpo record` launched; its trace
// is read back and scored against a baseline of the same program doing none of it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/detectors/anomaly.js';
import { parseBaseline } from '../../src/detectors/load-baseline.js';
import { scoreTrace } from '../../src/score/score-trace.js';
import { baselineText, trainBaseline } from '../../src/train/train.js';
import { openTrace } from '../../src/trace/reader.js';
import { fixture, readRows, requireRoot, ROOT, runGpo, TIMEOUT_SCALE, type Row } from '../helpers/gpo.js';

const LIB = join(ROOT, 'out', 'lib', 'libfixture.so');
let rows: Row[];
let report: Record<string, string | number | number[]>;
let anomalies: Anomaly[];

async function record(dir: string, mode: string): Promise<{ out: string; stdout: string }> {
  const out = join(dir, `${mode}.parquet`);
  const r = runGpo(['record', '-q', '-o', out, '--', fixture('evade'), mode, LIB]);
  if (r.code !== 0) throw new Error(`gpo record failed: ${r.stderr}`);
  return { out, stdout: r.stdout };
}

beforeAll(async () => {
  requireRoot();
  const dir = mkdtempSync(join(tmpdir(), 'gpo-adv-execmem-'));
  const evasive = await record(dir, 'exec-memory');
  report = JSON.parse(evasive.stdout.trim());
  rows = await readRows(evasive.out);
  const clean = await record(dir, 'exec-memory-none');
  const baseline = parseBaseline(JSON.parse(baselineText((await trainBaseline([clean.out, clean.out])).baseline)), 'b.json');
  anomalies = (await scoreTrace(await openTrace(evasive.out), baseline, { baselinePath: 'b.json' })).anomalies;
}, 60_000 * TIMEOUT_SCALE);

const at = (kind: string, addr: string | number) => rows.filter((r) => r.kind === kind && r.addr === BigInt(addr));

describe('executable memory by every route', () => {
  it('made each act succeed (else the test proves nothing)', () => {
    expect(report).toMatchObject({ pkey: [0, 0], memfd: 1, unlinked: 1, jit_rx: 0 });
    for (const key of ['shm_exec', 'zero_rwx', 'tmpfile', 'shm']) expect(report[key], key).not.toMatch(/^0x0*$|^\(nil\)$|^0xf+$/);
  });

  it('records pkey_mprotect adding PROT_EXEC like mprotect', () => {
    expect(at('exec_memory', report.pkey_rx as string).map((r) => [r.request, r.size, r.path])).toEqual([[5n, 4096n, null]]);
    expect(at('exec_memory', report.pkey_rwx as string).map((r) => [r.request, r.size, r.path])).toEqual([[7n, 4096n, null]]);
  });

  it('records shmat(SHM_EXEC) as executable memory of its segment, which has no name left', () => {
    const [shm] = at('exec_memory', report.shm_exec as string);
    expect([shm?.request, shm?.size]).toEqual([7n, 8192n]);
    expect(shm?.path).toMatch(/^\/SYSV[0-9a-f]{8} \(deleted\)$/);
  });

  it('records code from a memfd, an unlinked file and an O_TMPFILE with their path marked deleted, and /dev/shm files', () => {
    const mapped = rows.filter((r) => r.kind === 'mmap_exec').map((r) => r.path!);
    expect(mapped).toContain('/memfd:gpo-evade (deleted)');
    expect(mapped).toContain(`${report.unlinked_path} (deleted)`);
    expect(at('mmap_exec', report.tmpfile as string).map((r) => r.path)).toEqual([
      expect.stringMatching(new RegExp(`^${report.tmpfile_dir}/#\\d+ \\(deleted\\)$`)),
    ]);
    expect(at('mmap_exec', report.shm as string).map((r) => r.path)).toEqual([report.shm_path]);
    // A path with no mark is a file with a name: libc's.
    expect(mapped.filter((p) => p.endsWith('/libc.so.6'))).toEqual(['/usr/lib/x86_64-linux-gnu/libc.so.6']);
    expect(rows.filter((r) => r.kind === 'mmap_exec' || r.kind === 'exec_memory').every((r) => r.truncated === 0)).toBe(true);
  });

  it('records a memfd mapped writable then made executable with the memfd named', () => {
    expect(at('exec_memory', report.jit as string).map((r) => [r.request, r.path])).toEqual([[5n, '/memfd:gpo-evade-jit (deleted)']]);
  });

  it('records a writable and executable mapping of a device with the device', () => {
    expect(at('mmap_exec', report.zero_rwx as string).map((r) => [r.request, r.path])).toEqual([[7n, '/dev/zero']]);
  });
});

describe('scoring', () => {
  const high = (signature: string) => anomalies.find((a) => a.evidence.signature === signature);

  it('gives each route a high anomaly with a signature that says what backed the memory', () => {
    for (const signature of [
      'exec_memory prot=5',
      'exec_memory prot=7',
      'exec_memory prot=7 sysv_shm',
      'exec_memory prot=7 device',
      'exec_memory prot=5 memfd',
    ])
      expect(high(signature)?.severity, signature).toBe('high');
    expect(high('exec_memory prot=7 device')!.summary).toMatch(/^writable and executable mapping of \/dev\/zero \(device memory, prot 7\)/);
    expect(high('exec_memory prot=5 memfd')!.evidence.backing).toBe('memfd');
  });

  it('gives each library mapped from memory or a deleted file a high new_library', () => {
    const libraries = anomalies.filter((a) => a.kind === 'new_library' && a.severity === 'high').map((a) => a.evidence.path as string);
    expect(libraries).toEqual(
      expect.arrayContaining([
        '/memfd:gpo-evade (deleted)',
        `${report.unlinked_path} (deleted)`,
        report.shm_path,
        expect.stringMatching(new RegExp(`^${report.tmpfile_dir}/#\\d+ \\(deleted\\)$`)),
      ]),
    );
  });
});
