// What gpo records about the target and the host: identity of the program (path, build-id, sha256),
// its command line and loader environment, and the machine.
import { accessSync, constants, existsSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { hostname, release } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { GpoError } from '../errors.js';
import { encodeBytes } from '../trace/bytes.js';
import { sha256OfFile } from '../trace/file-hash.js';
import type { HostInfo } from '../trace/metadata.js';

/** Loader variables that change what code runs in the target. */
export const LOADER_VARIABLES = ['LD_PRELOAD', 'LD_AUDIT', 'LD_LIBRARY_PATH'] as const;

export function hostInfo(): HostInfo {
  let bootId = '';
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // Not fatal: boot id only helps tell recordings of different boots apart.
  }
  return { hostname: hostname(), kernel_release: release(), boot_id: bootId };
}

/** Resolves CMD the way execvp will, so a missing command is reported before anything is attached. */
export function resolveCommand(cmd: string): string {
  const candidates = cmd.includes('/') ? [cmd] : (process.env.PATH ?? '/usr/bin:/bin').split(delimiter).map((d) => join(d, cmd));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return realpathSync(candidate);
    } catch {
      // Try the next PATH entry.
    }
  }
  throw new GpoError(`command not found: ${cmd}`);
}

/** A process id as the user typed it: decimal digits only (no 0x1, 1e0, " 1", +1, 01), a positive pid_t. */
export function parsePid(text: string): number | null {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) return null;
  const pid = Number(text);
  return pid <= 2 ** 31 - 1 ? pid : null;
}

const PF_KTHREAD = 0x00200000;

/**
 * The process to record for a pid given by the user: a thread id is resolved to its process (`thread` then
 * says which thread was given); a kernel thread, a zombie or gpo itself cannot be recorded and are refused.
 */
export function recordableProcess(pid: number): { pid: number; thread: number | null } {
  let status: string;
  let stat: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    throw new GpoError(`no process with pid ${pid}`);
  }
  const field = (name: string) => status.match(new RegExp(`^${name}:\\s*(\\S+)`, 'm'))?.[1];
  const tgid = Number(field('Tgid'));
  // Field 9 of stat (after the comm, which may hold spaces and parentheses): the task's flags.
  const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
  if (flags & PF_KTHREAD) throw new GpoError(`${pid} is a kernel thread: gpo records user processes`);
  if (field('State') === 'Z' || field('State') === 'X') throw new GpoError(`${pid} is a zombie: it has exited, there is nothing to record`);
  if (tgid === process.pid) throw new GpoError(`${pid} is gpo itself`);
  if (!Number.isInteger(tgid) || tgid <= 0) throw new GpoError(`no process with pid ${pid}`);
  return { pid: tgid, thread: tgid === pid ? null : pid };
}

export interface ProcessFacts {
  comm: string;
  exe: string;
  cmdline: string[];
  environ: Map<string, string>;
  /** Start time in clock ticks after boot (field 22 of /proc/PID/stat): tells a pid from its reuse. */
  startTicks: string;
}

/** Reads a live process's facts from /proc, or throws a clear error if there is no such process. */
export function readProcess(pid: number): ProcessFacts {
  if (!Number.isInteger(pid) || pid <= 0) throw new GpoError(`invalid pid: ${pid}`);
  const dir = `/proc/${pid}`;
  let stat: string;
  try {
    stat = readFileSync(`${dir}/stat`, 'utf8');
  } catch {
    throw new GpoError(`no process with pid ${pid}`);
  }
  // comm may hold spaces and parentheses: the fields after it start after the last ')'.
  const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const read = (name: string) => {
    try {
      return readFileSync(`${dir}/${name}`);
    } catch {
      return Buffer.alloc(0);
    }
  };
  let exe = '';
  try {
    exe = encodeBytes(readlinkSync(`${dir}/exe`, { encoding: 'buffer' }));
  } catch {
    // Kernel threads and zombies have no exe.
  }
  // Strings of the process are its bytes, in the trace's lossless text form (src/trace/bytes.ts).
  const strings = (bytes: Buffer) => {
    const parts: string[] = [];
    for (let from = 0; from < bytes.length;) {
      const end = bytes.indexOf(0, from);
      parts.push(encodeBytes(bytes.subarray(from, end < 0 ? bytes.length : end)));
      from = end < 0 ? bytes.length : end + 1;
    }
    return parts;
  };
  const environ = new Map<string, string>();
  for (const entry of strings(read('environ'))) {
    const eq = entry.indexOf('=');
    if (eq > 0) environ.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  const comm = read('comm');
  return {
    comm: encodeBytes(comm.subarray(0, comm.at(-1) === 0x0a ? -1 : comm.length)),
    exe,
    cmdline: strings(read('cmdline')),
    environ,
    startTicks: afterComm[19] ?? '',
  };
}

export function loaderEnv(environ: Map<string, string> | NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of LOADER_VARIABLES) {
    const value = environ instanceof Map ? environ.get(name) : environ[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

export async function sha256File(path: string): Promise<string | null> {
  if (!path || !isAbsolute(path) || !existsSync(path)) return null;
  return sha256OfFile(path).catch(() => null);
}
