// The processes gpo started by launching a target, and their ending when recording stops: gpo ends what it
// started. Before the launch gpo becomes the child subreaper of its process (prctl PR_SET_CHILD_SUBREAPER),
// so every descendant of the launch stays below gpo in the process tree while gpo lives: a double fork
// reparents the orphan to gpo (the nearest subreaper), not to init, and setsid()/setpgid() change the
// session and group, never the parent. The tree is the processes below gpo by /proc's parent links that
// started no earlier than the launcher. Each is signalled through a pidfd after checking its start time,
// so a pid reused meanwhile is never hit. Orphans gpo inherits are reaped once they exit.
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { GpoError } from '../errors.js';
import { loadAddon } from '../native/addon.js';
import { encodeBytes } from '../trace/bytes.js';
import type { EndedProcess } from '../trace/metadata.js';

interface ProcessEntry {
  pid: number;
  ppid: number;
  startTicks: string;
  comm: string;
  zombie: boolean;
}

export interface TreeEnding {
  /** Every process gpo signalled that is gone now, with the strongest signal it was sent. */
  ended: EndedProcess[];
  /** Processes still there after SIGKILL (e.g. stuck in uninterruptible sleep). */
  survivors: number[];
  graceMs: number;
}

/** One process's line of /proc/PID/stat, or null once it is gone. */
function readEntry(pid: number): ProcessEntry | null {
  let stat: Buffer;
  try {
    stat = readFileSync(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  // comm may hold spaces and parentheses: the fields after it start after the last ')'.
  const close = stat.lastIndexOf(')');
  const fields = stat
    .subarray(close + 2)
    .toString('latin1')
    .split(' ');
  return {
    pid,
    ppid: Number(fields[1]),
    startTicks: fields[19] ?? '',
    comm: encodeBytes(stat.subarray(stat.indexOf('(') + 1, close)),
    zombie: fields[0] === 'Z' || fields[0] === 'X',
  };
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A file's text, '' when it cannot be read (e.g. no CONFIG_PROC_CHILDREN: then nothing is reaped early). */
function readText(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class LaunchedTree {
  private readonly launchTicks: number;
  /** gpo's own children that are not of the tree (pid/start ticks): the cgroup's guardian may start in the
   * same clock tick as the launcher. */
  private readonly apart: Set<string>;

  /** Call before spawning the launcher: from then on no orphan of the launch can leave gpo's tree. */
  static prepare(): void {
    const refused = loadAddon().becomeChildSubreaper();
    if (refused !== undefined) throw new GpoError(`cannot become the reaper of the processes gpo starts: ${refused}`);
  }

  constructor(launcherPid: number, apart: number[] = []) {
    const launcher = readEntry(launcherPid);
    if (launcher === null) throw new GpoError(`the launcher (pid ${launcherPid}) exited before recording started`);
    this.launchTicks = Number(launcher.startTicks);
    this.apart = new Set(apart.map((pid) => `${pid}/${readEntry(pid)?.startTicks}`));
  }

  /** The live (not zombie) processes of the tree now. */
  members(): ProcessEntry[] {
    const children = new Map<number, ProcessEntry[]>();
    for (const name of readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(name)) continue;
      const entry = readEntry(Number(name));
      if (entry === null) continue;
      let siblings = children.get(entry.ppid);
      if (siblings === undefined) children.set(entry.ppid, (siblings = []));
      siblings.push(entry);
    }
    // Without recursion: a hostile chain of processes may be deeper than the stack.
    const found: ProcessEntry[] = [];
    const pending = (children.get(process.pid) ?? []).filter(
      (child) => Number(child.startTicks) >= this.launchTicks && !this.apart.has(`${child.pid}/${child.startTicks}`),
    );
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      if (!next.zombie) found.push(next);
      pending.push(...(children.get(next.pid) ?? []));
    }
    return found;
  }

  /**
   * Reaps the orphans of the tree gpo inherited that have exited (gpo's zombie children but the launcher and
   * those apart, which Node waits for): a zombie holds its pid until its parent waits for it.
   */
  reapOrphans(launcherPid: number): void {
    const addon = loadAddon();
    for (const tid of list(`/proc/${process.pid}/task`))
      for (const child of readText(`/proc/${process.pid}/task/${tid}/children`).split(' ')) {
        const pid = Number(child);
        const entry = Number.isInteger(pid) && pid > 0 && pid !== launcherPid ? readEntry(pid) : null;
        if (entry?.zombie && !this.apart.has(`${pid}/${entry.startTicks}`)) addon.reapChild(pid);
      }
  }

  /**
   * Ends the tree: SIGTERM (and SIGCONT, so a stopped process gets it) to every member, also to those that
   * appear meanwhile, until none is left or graceMs passed; then SIGKILL, round after round, until none is
   * left (a member forking in between is found on the next round).
   */
  async end(graceMs: number): Promise<TreeEnding> {
    const addon = loadAddon();
    const signalled = new Map<string, EndedProcess & { startTicks: string }>();
    const send = (member: ProcessEntry, signal: 'SIGTERM' | 'SIGKILL'): void => {
      if (addon.signalProcess(member.pid, member.startTicks, constants.signals[signal]) !== 'sent') return;
      if (signal === 'SIGTERM') addon.signalProcess(member.pid, member.startTicks, constants.signals.SIGCONT);
      signalled.set(`${member.pid}/${member.startTicks}`, { pid: member.pid, comm: member.comm, signal, startTicks: member.startTicks });
    };
    const deadline = Date.now() + graceMs;
    for (let members = this.members(); members.length > 0; members = this.members()) {
      for (const member of members) if (!signalled.has(`${member.pid}/${member.startTicks}`)) send(member, 'SIGTERM');
      if (Date.now() >= deadline) break;
      await sleep(50);
    }
    let members = this.members();
    for (let round = 0; round < 200 && members.length > 0; round++) {
      for (const member of members) send(member, 'SIGKILL');
      await sleep(10);
      members = this.members();
    }
    const left = new Set(members.map((m) => `${m.pid}/${m.startTicks}`));
    const ended = [...signalled].filter(([key]) => !left.has(key)).map(([, { pid, comm, signal }]) => ({ pid, comm, signal }));
    return { ended: ended.sort((a, b) => a.pid - b.pid), survivors: members.map((m) => m.pid).sort((a, b) => a - b), graceMs };
  }
}

/** What an ending did, in one line: `ended 3 processes gpo started: 1 on SIGTERM, 2 killed with SIGKILL after 3 s (pids 7, 8, 9)`. */
export function describeEnding({ ended, survivors, graceMs }: TreeEnding): string {
  const pids = (list: number[]) => (list.length <= 10 ? list.join(', ') : `${list.slice(0, 10).join(', ')} and ${list.length - 10} more`);
  const terminated = ended.filter((e) => e.signal === 'SIGTERM').length;
  const killed = ended.length - terminated;
  const how = [terminated > 0 ? `${terminated} on SIGTERM` : '', killed > 0 ? `${killed} killed with SIGKILL after ${graceMs / 1000} s` : ''];
  if (ended.length === 0) return `${survivors.length} process${survivors.length === 1 ? '' : 'es'} gpo started could not be ended (pids ${pids(survivors)})`;
  const line = `ended ${ended.length} process${ended.length === 1 ? '' : 'es'} gpo started: ${how.filter((h) => h).join(', ')} (pids ${pids(ended.map((e) => e.pid))})`;
  return survivors.length === 0 ? line : `${line}; ${survivors.length} could not be ended (pids ${pids(survivors)})`;
}
