// Evasion by signal routes (issue 13, "Evasion routes"): kill(-pgid), killpg, kill(0) and kill(-1) reach the
// target without naming its pid, and were not recorded. Every signal another process generates for a
// followed one is a signal row whatever the route, once; one refused or a signal 0 is still recorded from
// the syscall; the signals the kernel or the target itself makes (SIGCHLD, SIGALRM, a POSIX timer, raise)
// are not. Real kernel, as root: a real target recorded with `gpo record`, real processes signalling it.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, readRows, requireRoot, Running, startGpo, TIMEOUT_SCALE, type Row } from '../helpers/gpo.js';

const NOBODY = 65534;
const [SIGKILL, SIGUSR1, SIGUSR2, SIGTERM, SIGCHLD, SIGALRM, SIGURG, SIGWINCH, SIGRTMIN] = [9n, 10n, 12n, 15n, 17n, 14n, 23n, 28n, 34n];

let rows: Row[];
let targetPid: number;
let memberPid: number;
let evadePid: number;
let evadeCopy: string;
let done: Record<string, number>;
const tampered: Record<string, { ret: number; errno: number }> = {};

function tamper(args: (string | number | bigint)[], uid?: number): { ret: number; errno: number } {
  const argv = [fixture('tamper'), ...args.map(String)];
  const r =
    uid === undefined
      ? spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' })
      : spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...argv], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tamper ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  requireRoot();
  const out = join(mkdtempSync(join(tmpdir(), 'gpo-adv-signals-')), 'signals.parquet');
  // As nobody, so kill(-1) reaches only nobody's processes, not the machine; from a copy of the fixture
  // unlinked once it runs, as a tool covering its tracks would: its rows say so.
  const bin = mkdtempSync(join(tmpdir(), 'gpo-adv-signals-bin-'));
  chmodSync(bin, 0o755);
  evadeCopy = join(bin, 'evade');
  copyFileSync(fixture('evade'), evadeCopy);
  chmodSync(evadeCopy, 0o755);
  const evade = new Running(
    spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', evadeCopy, 'signal-routes'], { stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  evadePid = evade.pid;
  targetPid = Number((await evade.waitFor(/"pid":(\d+)/))[1]);
  unlinkSync(evadeCopy);
  const gpo = startGpo(['record', '--pid', String(targetPid), '-o', out]);
  await gpo.waitFor(/recording/, 'stderr');
  evade.child.stdin!.write('go\n');
  done = JSON.parse((await evade.waitFor(/\{"done":(.*)\}/))[1]!);
  memberPid = done.member!;
  tampered.kill = tamper(['kill', targetPid, SIGURG]);
  tampered.probe = tamper(['kill', targetPid, 0]);
  tampered.refused = tamper(['kill', targetPid, SIGURG], 12345);
  evade.child.stdin!.write('end\n');
  const finished = await gpo.exited;
  if (finished.code !== 0) throw new Error(`gpo record failed: ${finished.stderr}`);
  await evade.exited;
  rows = await readRows(out);
}, 60_000 * TIMEOUT_SCALE);

const signalsTo = (pid: number) => rows.filter((r) => r.kind === 'signal' && r.target_pid === pid);

describe('signals by every route', () => {
  it('made each call succeed (else the test proves nothing)', () => {
    expect(done).toMatchObject({ kill_pgid: 0, killpg: 0, kill0_status: 0, kill_all: 0 });
    expect([tampered.kill!.ret, tampered.probe!.ret, tampered.refused!.ret, tampered.refused!.errno]).toEqual([0, 0, -1, 1]);
  });

  it('records kill(-pgid), killpg, kill(0) and kill(-1) like kill(pid), with actor (its executable deleted), signal and result, once each', () => {
    const byEvade = signalsTo(targetPid).filter((r) => r.exe === `${evadeCopy} (deleted)`);
    expect(byEvade.map((r) => [r.pid, r.request, r.ret, r.uid, r.target_tid])).toEqual([
      [evadePid, SIGUSR1, 0n, NOBODY, targetPid], // kill(-T)
      [evadePid, SIGUSR2, 0n, NOBODY, targetPid], // killpg(T): glibc's kill(-T)
      [memberPid, SIGTERM, 0n, NOBODY, targetPid], // kill(0) from a member of T's group
      [evadePid, SIGWINCH, 0n, NOBODY, targetPid], // kill(-1)
      [evadePid, SIGKILL, 0n, NOBODY, targetPid], // the end: kill(T)
    ]);
  });

  it('records a signal naming the pid once (not from both hooks), and a refused one and a signal 0 from the syscall', () => {
    const byTamper = signalsTo(targetPid).filter((r) => r.exe === fixture('tamper'));
    expect(byTamper.map((r) => [r.request, r.ret, r.uid])).toEqual([
      [SIGURG, 0n, 0],
      [0n, 0n, 0],
      [SIGURG, -1n, 12345], // EPERM
    ]);
  });

  it('records none of the signals the kernel or the target itself made: SIGCHLD, SIGALRM, a POSIX timer, raise', () => {
    const toTarget = signalsTo(targetPid);
    expect(toTarget.filter((r) => [SIGCHLD, SIGALRM, SIGRTMIN].includes(r.request!))).toEqual([]);
    expect(toTarget.filter((r) => r.pid === targetPid)).toEqual([]);
    // Exactly the acts above: nothing from elsewhere.
    expect(toTarget).toHaveLength(8);
    // The target did make its children (their exits sent it SIGCHLD).
    expect(rows.filter((r) => r.kind === 'fork' && r.pid === targetPid)).toHaveLength(3);
  });
});
