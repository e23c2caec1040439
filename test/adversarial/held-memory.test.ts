// Memory descriptors opened before an attach (issue 13): a process that opened /proc/TARGET/mem before gpo
// attached reads and writes through it without a new open, which no hook sees. At attach gpo reports who
// holds such descriptors: one warning line, the trace's metadata (target.memory_holders), and an act anomaly
// with its own signature that training learns and scoring reports. Real kernel, as root.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openTrace } from '../../src/trace/reader.js';
import { requireRoot, runGpo, Running } from '../helpers/gpo.js';

let dir: string;
const started: Running[] = [];

beforeAll(() => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'gpo-adv-held-'));
});

afterEach(() => {
  for (const r of started.splice(0)) r.child.kill('SIGKILL');
});

function run(cmd: string, args: string[]): Running {
  const r = new Running(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  started.push(r);
  return r;
}

/** A process holding /proc/PID/FILE open (read-write when asked), opened before gpo attaches. */
async function holder(pid: number, file: string, write: boolean): Promise<{ pid: number; fd: number }> {
  const script = `import os, sys, time
fd = os.open("/proc/${pid}/${file}", os.O_RDWR if ${write ? 'True' : 'False'} else os.O_RDONLY)
print("fd", fd, flush=True)
while True: time.sleep(1)`;
  const r = run('python3', ['-c', script]);
  const fd = Number((await r.waitFor(/^fd ([0-9]+)$/m))[1]);
  return { pid: r.pid, fd };
}

/** A target that makes syscalls (training needs some): a python loop of short sleeps. */
const busy = () => run('python3', ['-c', 'import time\nwhile True: time.sleep(0.01)']);

describe('descriptors of the target memory opened before attach', () => {
  it('are reported at record start, kept in the trace, learned by train and reported by score', async () => {
    // The baseline: two recordings of the same program (held-out thresholds need two), no holder.
    const cleanTraces = [join(dir, 'clean-1.parquet'), join(dir, 'clean-2.parquet')];
    let r!: ReturnType<typeof runGpo>;
    for (const cleanTrace of cleanTraces) {
      r = runGpo(['record', '--pid', String(busy().pid), '--duration', '2', '-o', cleanTrace]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/already open/);
      expect((await openTrace(cleanTrace)).metadata.target.memory_holders).toEqual([]);
    }

    const target = busy();
    const mem = await holder(target.pid, 'mem', true);
    const pagemap = await holder(target.pid, 'pagemap', false);
    const out = join(dir, 'held.parquet');
    r = runGpo(['record', '--pid', String(target.pid), '--duration', '2', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const warning = r.stderr.split('\n').filter((l) => /already open/.test(l));
    expect(warning, r.stderr).toHaveLength(1);
    expect(warning[0]).toContain(`/proc/${target.pid}/mem open in python3 (pid ${mem.pid}, fd ${mem.fd}, read-write)`);
    expect(warning[0]).toContain(`/proc/${target.pid}/pagemap open in python3 (pid ${pagemap.pid}, fd ${pagemap.fd}, read-only)`);

    const info = runGpo(['info', out]);
    expect(info.stdout).toContain(`memory held at attach: /proc/${target.pid}/mem open in python3 (pid ${mem.pid}, fd ${mem.fd}, read-write)`);
    const holders = (await openTrace(out)).metadata.target.memory_holders!;
    expect(holders.find((h) => h.pid === mem.pid)).toMatchObject({ fd: mem.fd, path: `/proc/${target.pid}/mem`, write: true, comm: 'python3' });
    expect(holders.find((h) => h.pid === pagemap.pid)).toMatchObject({ fd: pagemap.fd, path: `/proc/${target.pid}/pagemap`, write: false });
    for (const h of holders) expect(h.exe).toMatch(/python/);

    const baseline = join(dir, 'clean.json');
    r = runGpo(['train', ...cleanTraces, '-o', baseline]);
    expect(r.code, r.stderr).toBe(0);
    const score = runGpo(['score', out, '--baseline', baseline, '--json']);
    expect(score.code, score.stderr).toBe(1);
    const anomalies = JSON.parse(score.stdout).anomalies as { kind: string; severity: string; pid: number; evidence: { signature: string; path: string } }[];
    const held = anomalies.filter((a) => a.evidence.signature?.startsWith('proc_mem_held '));
    expect(held.map((a) => [a.pid, a.severity, a.evidence.path]).sort()).toEqual(
      [
        [mem.pid, 'high', `/proc/${target.pid}/mem`],
        [pagemap.pid, 'medium', `/proc/${target.pid}/pagemap`],
      ].sort(),
    );
    expect(held.find((a) => a.pid === mem.pid)!.evidence.signature).toMatch(/^proc_mem_held \S*python\S* mem write$/);

    // Watched live: the live scorer reads the target from the stream's header, which names the holders.
    const watched = runGpo(['watch', '--baseline', baseline, '--pid', String(target.pid), '--duration', '2', '--json']);
    expect(watched.code, watched.stderr).toBe(1);
    const live = watched.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { pid?: number; evidence?: { signature?: string } });
    expect(
      live
        .filter((a) => a.evidence?.signature?.startsWith('proc_mem_held '))
        .map((a) => a.pid)
        .sort(),
    ).toEqual([mem.pid, pagemap.pid].sort());

    // Trained on the trace with the holders, the same acts are normal.
    const withHolders = join(dir, 'held.json');
    r = runGpo(['train', out, ...cleanTraces, '-o', withHolders]);
    expect(r.code, r.stderr).toBe(0);
    const allowed = Object.keys(JSON.parse(readFileSync(withHolders, 'utf8')).allowed);
    expect(allowed.filter((s) => s.startsWith('proc_mem_held '))).toHaveLength(2);
  });

  it('are not looked for in a process gpo launched (nothing can hold its memory before it exists)', async () => {
    const out = join(dir, 'launched.parquet');
    const r = runGpo(['record', '-o', out, '--', 'true']);
    expect(r.code, r.stderr).toBe(0);
    expect((await openTrace(out)).metadata.target.memory_holders).toBeUndefined();
  });
});
