// Evasion through the target's magic links (issue 13, "Evasion routes"): opening /proc/PID/fd/N or
// /proc/PID/map_files/RANGE gives the file the link points at (here the memfd that holds the target's
// state), not a procfs file, so writing the target's memory that way left no row. Every open through those
// links by another process is a proc_open row with the link's path, the open's flags and the opened file's
// device and inode, whatever path reached the link; a stat through it or the target's own open is not.
// Real kernel, as root: a real target recorded with `gpo record --pid`, a real second process.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Anomaly } from '../../src/detectors/anomaly.js';
import { parseBaseline } from '../../src/detectors/load-baseline.js';
import { scoreTrace } from '../../src/score/score-trace.js';
import { baselineText, trainBaseline } from '../../src/train/train.js';
import { openTrace } from '../../src/trace/reader.js';
import { fixture, readRows, requireRoot, runGpo, start, startGpo, TIMEOUT_SCALE, type Row } from '../helpers/gpo.js';
import { spawn, spawnSync } from 'node:child_process';
import { Running } from '../helpers/gpo.js';

const O_ACCMODE = 3n;
let rows: Row[];
let target: { pid: number; fd: number; map: string; inode: number };
let opened: Record<string, number>;
let selfOpen: number;
let anomalies: Anomaly[];

beforeAll(async () => {
  requireRoot();
  const dir = mkdtempSync(join(tmpdir(), 'gpo-adv-links-'));
  const out = join(dir, 'links.parquet');
  const hold = new Running(spawn(fixture('evade'), ['hold'], { stdio: ['pipe', 'pipe', 'pipe'] }));
  target = JSON.parse((await hold.waitFor(/^\{"pid".*\}$/m))[0]);
  const gpo = startGpo(['record', '--pid', String(target.pid), '-o', out]);
  await gpo.waitFor(/recording/, 'stderr');
  const r = spawnSync(fixture('evade'), ['link-open', String(target.pid), String(target.fd), target.map], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`evade link-open failed: ${r.stderr}`);
  opened = JSON.parse(r.stdout);
  hold.child.stdin!.write('again\n');
  selfOpen = Number((await hold.waitFor(/"self":(-?\d+)/))[1]);
  hold.child.stdin!.end();
  const finished = await gpo.exited;
  if (finished.code !== 0) throw new Error(`gpo record failed: ${finished.stderr}`);
  rows = await readRows(out);

  // The baseline: the same target, nobody opening its links.
  const clean = join(dir, 'clean.parquet');
  const c = runGpo(['record', '-q', '-o', clean, '--', fixture('evade'), 'hold']);
  if (c.code !== 0) throw new Error(`gpo record failed: ${c.stderr}`);
  const baseline = parseBaseline(JSON.parse(baselineText((await trainBaseline([clean, clean])).baseline)), 'b.json');
  anomalies = (await scoreTrace(await openTrace(out), baseline, { baselinePath: 'b.json' })).anomalies;
}, 60_000 * TIMEOUT_SCALE);

const linkOpens = () => rows.filter((r) => r.kind === 'proc_open' && /\/(fd|map_files)\//.test(r.path ?? ''));

describe("opens through the target's fd/ and map_files/ links", () => {
  it('made each open succeed (else the test proves nothing)', () => {
    for (const key of ['fd_write', 'map_write', 'fd_read', 'other']) expect(opened[key], key).toBeGreaterThanOrEqual(0);
    expect(opened.stat).toBe(0);
    expect(selfOpen).toBeGreaterThanOrEqual(0);
  });

  it('records each by another process with the link path, the access mode and the memfd it gave', () => {
    const { pid, fd, map, inode } = target;
    expect(linkOpens().map((r) => [r.path, r.request! & O_ACCMODE, r.ret! >= 0n, r.inode, r.target_pid, r.exe])).toEqual([
      [`/proc/${pid}/fd/${fd}`, 2n, true, BigInt(inode), pid, fixture('evade')],
      [`/proc/${pid}/map_files/${map}`, 2n, true, BigInt(inode), pid, fixture('evade')],
      [`/proc/${pid}/fd/${fd}`, 0n, true, BigInt(inode), pid, fixture('evade')], // openat(dirfd of /proc/PID, "fd/N")
    ]);
  });

  it("records neither a stat through the link (the next open is another file) nor the target's own open", () => {
    expect(rows.some((r) => r.kind === 'proc_open' && r.pid !== target.pid && r.ret === BigInt(opened.other))).toBe(false);
    expect(rows.some((r) => r.kind === 'proc_open' && r.pid === target.pid)).toBe(false);
  });

  it('scores a write through either link high and a read medium', () => {
    const found = anomalies.filter((a) => a.kind === 'proc_mem').map((a) => [a.evidence.signature, a.severity]);
    expect(found).toEqual(
      expect.arrayContaining([
        [`proc_open ${fixture('evade')} fd write`, 'high'],
        [`proc_open ${fixture('evade')} map_files write`, 'high'],
        [`proc_open ${fixture('evade')} fd`, 'medium'],
      ]),
    );
  });
});
