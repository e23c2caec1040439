// Ending what gpo started (issue 13): when gpo launched the target and stops, for whatever reason, no process
// of the launched tree is left: children, orphaned grandchildren that setsid() and ignore SIGTERM, processes
// in another process group. Attached with --pid, gpo ends nothing. Real kernel, as root.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openTrace } from '../../src/trace/reader.js';
import { alive, GPO, requireRoot, ROOT, runGpo, Running, startGpo } from '../helpers/gpo.js';

let dir: string;
const leftovers: number[] = [];

beforeAll(() => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'gpo-adv-end-'));
});

afterEach(() => {
  for (const pid of leftovers.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A tree that tries to outlive its launcher. The target forks: a child that forks a grandchild and exits at
 * once (the grandchild is orphaned), the grandchild setsid()s and ignores SIGTERM; a second child moves to
 * its own process group and ignores SIGTERM too. Each prints "pid N" (stdio then goes to /dev/null, so a
 * survivor does not hold gpo's pipes). With EXIT=1 the target itself exits once the tree is up.
 */
const TREE = `
import os, signal, sys, time
def detach():
    os.write(1, b"pid %d\\n" % os.getpid())  # one write: lines of the processes do not interleave
    fd = os.open("/dev/null", os.O_RDWR)
    for n in (0, 1, 2): os.dup2(fd, n)
if os.fork() == 0:
    if os.fork() == 0:
        time.sleep(0.2)  # until its parent has exited: an orphan
        os.setsid()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        detach()
        while True: time.sleep(1)
    os._exit(0)
if os.fork() == 0:
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    detach()
    while True: time.sleep(1)
os.wait()
time.sleep(0.5)
os.write(1, b"ready\\n")
if os.environ.get("EXIT") == "1": sys.exit(0)
while True: time.sleep(1)
`;

/** The pids the tree printed, once it is up. */
async function treeUp(gpo: Running): Promise<number[]> {
  await gpo.waitFor(/ready/);
  const pids = [...gpo.stdout.matchAll(/^pid ([0-9]+)$/gm)].map((m) => Number(m[1]));
  expect(pids).toHaveLength(2);
  leftovers.push(...pids);
  for (const pid of pids) expect(alive(pid), `${pid} should be running before gpo stops`).toBe(true);
  return pids;
}

async function allGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (pids.some(alive) && Date.now() < deadline) await sleep(50);
  return pids.filter(alive);
}

describe('a launched tree', () => {
  it('is ended on Ctrl-C: the orphaned grandchild in its own session and the child in its own group, both ignoring SIGTERM', async () => {
    const out = join(dir, 'sigint.parquet');
    const gpo = startGpo(['record', '-o', out, '--', 'python3', '-c', TREE]);
    const pids = await treeUp(gpo);
    gpo.child.kill('SIGINT');
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(await allGone(pids, 1000), 'survivors of the launched tree').toEqual([]);
    const trace = await openTrace(out);
    leftovers.push(trace.metadata.target.pid);
    // One line says what was ended: the target by SIGTERM, the two that ignored it by SIGKILL.
    const line = done.stderr.split('\n').filter((l) => l.startsWith('gpo: ended'));
    expect(line, done.stderr).toHaveLength(1);
    expect(line[0]).toMatch(/^gpo: ended 3 processes gpo started: 1 on SIGTERM, 2 killed with SIGKILL after 3 s \(pids [0-9 ,]+\)$/);
    for (const pid of [trace.metadata.target.pid, ...pids]) expect(line[0]).toContain(String(pid));
    expect(trace.metadata.target_signal).toBe('SIGTERM');
    expect(trace.metadata.ended?.map((e) => e.pid).sort()).toEqual([trace.metadata.target.pid, ...pids].sort());
    expect(trace.metadata.ended?.find((e) => e.pid === trace.metadata.target.pid)?.signal).toBe('SIGTERM');
  });

  it('is ended after --duration, also when its children are not followed (the recorder never saw them)', async () => {
    const out = join(dir, 'duration.parquet');
    const gpo = startGpo(['record', '--no-follow-children', '--duration', '4', '-o', out, '--', 'python3', '-c', TREE]);
    const pids = await treeUp(gpo);
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/stopped by duration/);
    expect(await allGone(pids, 1000), 'survivors of the launched tree').toEqual([]);
    expect(done.stderr).toMatch(/^gpo: ended 3 processes gpo started: 1 on SIGTERM, 2 killed with SIGKILL after 3 s/m);
  });

  it('is ended when the target exits on its own and leaves the tree behind', async () => {
    const out = join(dir, 'exited.parquet');
    const gpo = new Running(
      spawn(process.execPath, [GPO, 'record', '--no-follow-children', '-o', out, '--', 'python3', '-c', TREE], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, EXIT: '1' },
      }),
    );
    const pids = await treeUp(gpo);
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/stopped by target-exited/);
    expect(await allGone(pids, 1000), 'survivors of the launched tree').toEqual([]);
    expect(done.stderr).toMatch(/^gpo: ended 2 processes gpo started: 2 killed with SIGKILL after 3 s/m);
  });
});

describe('attached with --pid', () => {
  it('ends nothing: the target and its tree keep running after gpo stops', async () => {
    const tree = new Running(spawn('python3', ['-c', TREE], { stdio: ['ignore', 'pipe', 'pipe'] }));
    leftovers.push(tree.pid);
    const pids = await treeUp(tree);
    const out = join(dir, 'attached.parquet');
    const gpo = startGpo(['record', '--pid', String(tree.pid), '-o', out]);
    await gpo.waitFor(/recording/, 'stderr');
    gpo.child.kill('SIGINT');
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).not.toMatch(/ended/);
    await sleep(500);
    for (const pid of [tree.pid, ...pids]) expect(alive(pid), `${pid} was ended by an attached gpo`).toBe(true);
    expect((await openTrace(out)).metadata.ended).toBeUndefined();
  });
});

describe('orphans gpo inherits while recording', () => {
  it('are reaped once they exit: no zombie stays with gpo until it ends', async () => {
    // The grandchild is orphaned (its parent exits at once), is reparented to gpo, and exits 0.3 s later.
    const script = `import os, time
if os.fork() == 0:
    if os.fork() == 0:
        os.write(1, b"pid %d\\n" % os.getpid())  # one write: lines of the processes do not interleave
        time.sleep(0.3)
        os._exit(0)
    os._exit(0)
os.wait()
os.write(1, b"ready\\n")
while True: time.sleep(1)`;
    const gpo = startGpo(['record', '-o', join(dir, 'reaped.parquet'), '--', 'python3', '-c', script]);
    await gpo.waitFor(/ready/);
    const grandchild = Number((await gpo.waitFor(/^pid ([0-9]+)$/m))[1]);
    await sleep(2500);
    let state = 'gone';
    try {
      state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${grandchild}/status`, 'utf8'))![1]!;
    } catch {
      // Reaped.
    }
    gpo.child.kill('SIGINT');
    expect((await gpo.exited).code).toBe(0);
    expect(state, `orphan ${grandchild} left as a zombie`).toBe('gone');
  });
});

describe('a tree that keeps forking while it is ended', () => {
  it('is ended to the last process: each SIGKILL round finds what the last one missed', async () => {
    // Every process of the tree carries a mark in its environment: after gpo, none may be left with it.
    const mark = `GPO_END_MARK=${process.pid}-${Date.now()}`;
    const script = `trap '' TERM; while :; do (trap '' TERM; sleep 30) & (trap '' TERM; setsid sleep 30 &) ; sleep 0.02; done`;
    const gpo = new Running(
      spawn(process.execPath, [GPO, 'record', '-o', join(dir, 'forking.parquet'), '--', 'sh', '-c', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, GPO_END_MARK: mark.split('=')[1] },
      }),
    );
    await gpo.waitFor(/recording/, 'stderr');
    await sleep(1500);
    const before = marked(mark);
    expect(before.length, 'the tree should have grown').toBeGreaterThan(20);
    gpo.child.kill('SIGINT');
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/^gpo: ended [0-9]+ processes gpo started: .*killed with SIGKILL after 3 s/m);
    expect(marked(mark), 'survivors of the launched tree').toEqual([]);
  });
});

/** Live processes whose environment holds `mark` (NAME=VALUE). */
function marked(mark: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(mark) && alive(Number(name))) found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Where cgroup v2 is mounted here, and this process's cgroup in it (gpo, started by the test, starts there too). */
function ownCgroupDir(): string {
  const mount = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .find((fields) => fields[fields.indexOf('-') + 1] === 'cgroup2');
  if (!mount) throw new Error('cgroup v2 is not mounted: these tests need it (gpo falls back to ending the tree only while it lives)');
  return join(mount[4]!, cgroupOf(process.pid));
}

/** A process's cgroup v2 path ('0::PATH' in /proc/PID/cgroup). */
function cgroupOf(pid: number): string {
  return /^0::(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))![1]!;
}

/** The cgroups gpo (pid gpoPid) made beside itself, and the processes (its guardian) naming them. */
function leftBy(gpoPid: number): { cgroups: string[]; processes: number[] } {
  const prefix = `gpo-${gpoPid}-`;
  const cgroups = readdirSync(ownCgroupDir()).filter((name) => name.startsWith(prefix));
  const processes: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(prefix) && alive(Number(name))) processes.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return { cgroups, processes };
}

describe('gpo itself killed with SIGKILL', () => {
  const watch = ['watch', '--fail-on', 'none', '--baseline', join(ROOT, 'recordings', 'baseline.json')];
  it.each([['record'], watch])(
    '(gpo %s) still ends the whole tree it launched (a double fork, setsid, a new group, SIGTERM ignored) and removes its cgroup; the rows written stay readable',
    async (...command) => {
      const out = join(dir, `killed-${command[0]}.parquet`);
      const gpo = startGpo([...command, '-o', out, '--', 'python3', '-c', TREE]);
      const pids = await treeUp(gpo);
      const target = (await openTrace(`${out}.arrows`)).metadata.target.pid;
      leftovers.push(target);
      // The target runs in a cgroup of its own; gpo (Node, its recorder thread) stays where it was.
      const cgroup = cgroupOf(target);
      expect(cgroup).toMatch(new RegExp(`/gpo-${gpo.pid}-[0-9a-f]+$`));
      for (const pid of pids) expect(cgroupOf(pid)).toBe(cgroup);
      expect(cgroupOf(gpo.pid)).toBe(cgroupOf(process.pid));
      await sleep(500);
      gpo.child.kill('SIGKILL');
      expect(await allGone([target, ...pids], 3000), 'survivors of the launched tree').toEqual([]);
      // The target held gpo's stdout and stderr: they close once it is gone.
      await gpo.exited;
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && leftBy(gpo.pid).cgroups.length + leftBy(gpo.pid).processes.length > 0) await sleep(50);
      expect(leftBy(gpo.pid), 'the cgroup and the guardian outlived the tree').toEqual({ cgroups: [], processes: [] });
      const info = runGpo(['info', '--json', `${out}.arrows`]);
      expect(info.code, info.stderr).toBe(0);
      const summary = JSON.parse(info.stdout);
      expect(summary.incomplete).toBe(true);
      expect(summary.metadata.target.pid).toBe(target);
      expect(summary.rows).toBeGreaterThan(0);
    },
  );
});

describe('a normal stop', () => {
  it('leaves no guardian and no cgroup behind', async () => {
    const out = join(dir, 'normal.parquet');
    const gpo = startGpo(['record', '-o', out, '--', 'python3', '-c', TREE]);
    leftovers.push(gpo.pid);
    const pids = await treeUp(gpo);
    leftovers.push((await openTrace(`${out}.arrows`)).metadata.target.pid);
    const { cgroups, processes: guardian } = leftBy(gpo.pid);
    expect(cgroups, 'the cgroup of the launched tree').toHaveLength(1);
    expect(guardian, 'the guardian').toHaveLength(1);
    gpo.child.kill('SIGTERM');
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(await allGone(pids, 1000), 'survivors of the launched tree').toEqual([]);
    expect(leftBy(gpo.pid)).toEqual({ cgroups: [], processes: [] });
    expect(done.stderr).not.toMatch(/warning/);
    // The guardian is gpo's child too, started just before the launcher: it is not of the tree gpo ends.
    expect(done.stderr).toMatch(/^gpo: ended 3 processes gpo started: 1 on SIGTERM, 2 killed with SIGKILL after 3 s \(pids [0-9 ,]+\)$/m);
    const metadata = (await openTrace(out)).metadata;
    expect(metadata.ended?.map((e) => e.pid)).not.toContain(guardian[0]);
    expect(metadata.tree_guard).toEqual({ cgroup: join(ownCgroupDir(), cgroups[0]!), problem: null });
  });
});

describe('gpo exited', () => {
  it('leaves no process of its own running (the library-call uprobes are removed before it exits)', () => {
    // Anything gpo forks or clones carries its environment: after gpo, none may be left with the mark.
    const mark = `GPO_END_MARK=${process.pid}-${Date.now()}`;
    const r = spawnSync(process.execPath, [GPO, 'record', '-q', '-o', join(dir, 'exited.parquet'), '--', '/bin/true'], {
      encoding: 'utf8',
      env: { ...process.env, GPO_END_MARK: mark.split('=')[1] },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(marked(mark), 'processes of gpo alive after it exited').toEqual([]);
  });
});

describe('a guardian killed while gpo records', () => {
  it('is not waited for: gpo ends the tree, removes the emptied cgroup itself and stops as usual', async () => {
    const out = join(dir, 'guardian-killed.parquet');
    const gpo = startGpo(['record', '-o', out, '--', 'python3', '-c', TREE]);
    leftovers.push(gpo.pid);
    const pids = await treeUp(gpo);
    leftovers.push((await openTrace(`${out}.arrows`)).metadata.target.pid);
    const [guardian] = leftBy(gpo.pid).processes;
    process.kill(guardian!, 'SIGKILL');
    await sleep(1500); // gpo looks for orphans to reap every second: the guardian is not one
    gpo.child.kill('SIGINT');
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(await allGone(pids, 1000), 'survivors of the launched tree').toEqual([]);
    expect(leftBy(gpo.pid)).toEqual({ cgroups: [], processes: [] });
    expect(done.stderr).toMatch(/^gpo: ended 3 processes gpo started: 1 on SIGTERM, 2 killed with SIGKILL after 3 s \(pids [0-9 ,]+\)$/m);
  });
});

describe('where cgroup v2 is not mounted', () => {
  it('gpo says so once, the metadata says why, and the tree is still ended on a normal stop', async () => {
    // A private mount namespace without the cgroup2 mount: no other process sees the change.
    const mount = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((fields) => fields[fields.indexOf('-') + 1] === 'cgroup2')
      .map((fields) => fields[4]!);
    const out = join(dir, 'no-cgroup.parquet');
    const unmount = mount.map((m) => `umount ${m} && `).join('');
    const gpo = new Running(
      spawn(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          'sh',
          '-c',
          `${unmount}exec "$@"`,
          'sh',
          process.execPath,
          GPO,
          'record',
          '-o',
          out,
          '--',
          'python3',
          '-c',
          TREE,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      ),
    );
    leftovers.push(gpo.pid);
    const pids = await treeUp(gpo);
    gpo.child.kill('SIGINT');
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(await allGone(pids, 1000), 'survivors of the launched tree').toEqual([]);
    const warnings = done.stderr.split('\n').filter((line) => line.includes('warning'));
    expect(warnings).toEqual(['gpo: warning: no cgroup for the tree (cgroup v2 is not mounted): should gpo itself be killed, what it launched keeps running']);
    expect((await openTrace(out)).metadata.tree_guard).toEqual({ cgroup: null, problem: 'no cgroup for the tree (cgroup v2 is not mounted)' });
  });
});
