// What gpo records about the target and the host: identity of the program (path, build-id, sha256),
// its command line and loader environment, and the machine.
import { accessSync, constants, existsSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { hostname, release } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { GpoError } from '../errors.js';
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
    exe = readlinkSync(`${dir}/exe`);
  } catch {
    // Kernel threads and zombies have no exe.
  }
  const environ = new Map<string, string>();
  for (const entry of read('environ').toString('utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) environ.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return {
    comm: read('comm').toString('utf8').trim(),
    exe,
    cmdline: read('cmdline').toString('utf8').split('\0').filter((s, i, all) => i < all.length - 1 || s !== ''),
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
