// Ending what gpo launched also when gpo itself is killed: SIGKILL leaves gpo no time to end anything, and
// launched-tree.ts ends the tree only while gpo lives. Before the launcher execs the target, it is moved into
// a new cgroup v2 made for this recording, inside gpo's own cgroup (so the tree keeps the limits gpo runs
// under); gpo itself, its recorder thread and the guardian stay where they are. The guardian
// (out/bin/gpo-guard, native/guard.c), started before the launcher, makes that cgroup and waits for the end
// of a pipe only gpo holds: once gpo is gone, however it went, it kills every process in the cgroup
// (cgroup.kill: no double fork, setsid() or process group leaves a cgroup) and removes it. On a normal stop
// gpo ends the tree itself first (SIGTERM, then SIGKILL: launched-tree.ts), then closes the pipe and waits
// for the guardian to remove the cgroup. Where cgroup v2 cannot be used (not mounted, not writable, a kernel
// before 5.14 without cgroup.kill), gpo says why once and ends the tree only while it lives.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmdirSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';

/** How long a normal stop waits for the guardian to remove the emptied cgroup. */
const RELEASE_WAIT_MS = 3000;

/** /proc/self/mountinfo escapes a space, tab, newline and backslash as \ and three octal digits. */
const unescapeMountField = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** This process's cgroup as a directory of the cgroup v2 hierarchy; throws why not. */
function ownCgroupDir(): string {
  const path = /^0::(\/.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  if (path === undefined) throw new Error('this process is in no cgroup v2');
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    if (fields[fields.indexOf('-') + 1] !== 'cgroup2') continue;
    // A mount may show a subtree of the hierarchy (field 4): gpo's cgroup must be in it.
    const root = unescapeMountField(fields[3]!);
    const within = root === '/' ? path : path === root ? '/' : path.startsWith(`${root}/`) ? path.slice(root.length) : null;
    if (within !== null && !within.split('/').includes('..')) return join(unescapeMountField(fields[4]!), within);
  }
  throw new Error('cgroup v2 is not mounted');
}

export class TreeCgroup {
  /** What the guardian printed so far: "ready", then "removed" or why not. */
  private said = '';
  private gone = false;
  private readonly exited: Promise<void>;
  /** The guardian's first line ("ready" or why not), or the error that kept it from starting. */
  private readonly started: Promise<string>;

  private constructor(
    readonly dir: string,
    private readonly guardian: ChildProcess,
  ) {
    // The guardian may be gone before gpo closes the pipe: the write end's error is of no matter then.
    guardian.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => guardian.on('close', () => resolve()));
    void this.exited.then(() => (this.gone = true));
    this.started = new Promise((resolve) => {
      guardian.stdout!.setEncoding('utf8').on('data', (text: string) => {
        this.said += text;
        if (this.said.includes('\n')) resolve(this.said.split('\n')[0]!);
      });
      guardian.on('error', (err) => resolve(err.message));
      void this.exited.then(() => resolve(this.said.split('\n')[0] || 'it exited'));
    });
  }

  /**
   * Starts the guardian, which makes the cgroup; resolves with why not where cgroup v2 cannot be used. Call
   * before the launcher is spawned: the guardian must not be in the tree's cgroup, nor hold its pipes.
   */
  static async create(guardPath: string): Promise<TreeCgroup | string> {
    let parent: string;
    try {
      parent = ownCgroupDir();
    } catch (err) {
      return `no cgroup for the tree (${(err as Error).message})`;
    }
    // The guardian makes the cgroup itself: should gpo be killed right now, none is left without a guardian.
    const name = `gpo-${process.pid}-${randomBytes(6).toString('hex')}`;
    const cgroup = new TreeCgroup(join(parent, name), spawn(guardPath, [parent, name], { stdio: ['pipe', 'pipe', 'ignore'], detached: true }));
    const started = await cgroup.started;
    if (started === 'ready') return cgroup;
    cgroup.guardian.kill('SIGKILL');
    return `no cgroup for the tree (${started})`;
  }

  get guardianPid(): number {
    return this.guardian.pid!;
  }

  /** Moves the launcher (held before it execs the target) into the cgroup; undefined, or why not. */
  adopt(pid: number): string | undefined {
    try {
      const procs = openSync(join(this.dir, 'cgroup.procs'), 'r+');
      try {
        writeSync(procs, `${pid}\n`);
      } finally {
        closeSync(procs);
      }
    } catch (err) {
      return `cannot move the launcher into ${this.dir}: ${(err as Error).message}`;
    }
    return undefined;
  }

  /**
   * After gpo's own ending: the guardian kills what is left in the cgroup (nothing, unless a process could
   * not be ended), removes it and exits. Resolves with null, or what is left and why, in a few words.
   */
  async release(): Promise<string | null> {
    this.guardian.stdin!.end();
    await Promise.race([this.exited, new Promise<void>((resolve) => setTimeout(resolve, RELEASE_WAIT_MS).unref())]);
    const last = this.said.split('\n').at(-2);
    if (last === 'removed') return null;
    if (this.gone) {
      // Killed by someone else (the tree runs as root): what it should have removed, gpo removes.
      const problem = this.removeEmpty();
      return problem === null ? null : `cgroup ${this.dir} not removed: ${problem}`;
    }
    // The kernel is still emptying it (a process in uninterruptible sleep): the guardian goes on without gpo.
    this.guardian.unref();
    (this.guardian.stdout as Socket).unref();
    return `cgroup ${this.dir} not removed yet: its guardian (pid ${this.guardian.pid}) removes it once the processes in it are gone`;
  }

  /** Removes the cgroup if it is empty; null, or why not. */
  private removeEmpty(): string | null {
    try {
      rmdirSync(this.dir);
      return null;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? null : (err as Error).message;
    }
  }
}
