// What gpo records about the target and the host: identity of the program (path, build-id, sha256),
// its command line and loader environment, and the machine.
import { createHash } from 'node:crypto';
import { accessSync, constants, createReadStream, existsSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { hostname, release } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { GpoError } from '../errors.js';
import { encodeBytes } from '../trace/bytes.js';
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
    exe = encodeBytes(readlinkSync(`${dir}/exe`, { encoding: 'buffer' }));
  } catch {
    // Kernel threads and zombies have no exe.
  }
  // Strings of the process are its bytes, in the trace's lossless text form (src/trace/bytes.ts).
  const strings = (bytes: Buffer) => {
    const parts: string[] = [];
    for (let from = 0; from < bytes.length; ) {
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
  try {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch {
    return null;
  }
}
