// Who already holds the target's memory at attach. A descriptor of /proc/PID/mem (or pagemap, or a
// map_files directory) opened before gpo attached is read and written through without a new open, so no
// hook sees it: the only trace of it is the descriptor itself, found by reading every process's descriptor
// table (/proc/*/task/*/fd: a thread may have a table of its own). Entries of map_files opened as files
// show as the mapped file itself and cannot be told from any other open of it.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { encodeBytes } from '../trace/bytes.js';
import type { MemoryHolder } from '../trace/metadata.js';

const O_ACCMODE = 3;

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The target's memory files a descriptor path names, for the target's process and thread ids. */
function memoryFileMatcher(targetPid: number): (path: string) => boolean {
  const ids = [String(targetPid), ...list(`/proc/${targetPid}/task`)].join('|');
  const pattern = new RegExp(`^/proc/(?:${ids})(?:/task/(?:${ids}))?/(?:mem|pagemap|map_files)$`);
  return (path) => pattern.test(path);
}

/** Every descriptor of another process (not the target, not gpo) naming the target's memory now, with
 * those `known` from an earlier look (a holder may have closed its descriptor since: it held it then). */
export function findMemoryHolders(targetPid: number, known: MemoryHolder[] = []): MemoryHolder[] {
  const names = memoryFileMatcher(targetPid);
  const found = new Map<string, MemoryHolder>(known.map((h) => [`${h.pid} ${h.fd} ${h.path}`, h]));
  for (const pidName of list('/proc')) {
    if (!/^[0-9]+$/.test(pidName)) continue;
    const pid = Number(pidName);
    if (pid === targetPid || pid === process.pid) continue;
    for (const tid of list(`/proc/${pid}/task`)) {
      const fdDir = `/proc/${pid}/task/${tid}/fd`;
      for (const fdName of list(fdDir)) {
        let path: string;
        try {
          path = encodeBytes(readlinkSync(`${fdDir}/${fdName}`, { encoding: 'buffer' }));
        } catch {
          continue;
        }
        if (!names(path) || found.has(`${pid} ${fdName} ${path}`)) continue;
        found.set(`${pid} ${fdName} ${path}`, {
          pid,
          comm: '',
          exe: '',
          fd: Number(fdName),
          path,
          write: writable(`/proc/${pid}/task/${tid}/fdinfo/${fdName}`),
        });
      }
    }
  }
  const holders = [...found.values()];
  for (const holder of holders.filter((h) => !known.includes(h))) {
    holder.comm = readText(`/proc/${holder.pid}/comm`).replace(/\n$/, '');
    try {
      holder.exe = encodeBytes(readlinkSync(`/proc/${holder.pid}/exe`, { encoding: 'buffer' }));
    } catch {
      // Gone meanwhile, or a kernel thread: the descriptor was still seen.
    }
  }
  return holders.sort((a, b) => a.pid - b.pid || a.fd - b.fd);
}

function readText(path: string): string {
  try {
    return encodeBytes(readFileSync(path));
  } catch {
    return '';
  }
}

/** Whether the descriptor was opened for writing (fdinfo's flags, octal). */
function writable(fdinfo: string): boolean {
  const flags = /^flags:\s*([0-7]+)$/m.exec(readText(fdinfo))?.[1];
  return flags !== undefined && (parseInt(flags, 8) & O_ACCMODE) !== 0;
}

/** One line for the user: `/proc/7/mem open in cheat (pid 9, fd 3, read-write), ...`. */
/** The warning record and watch print at start when other processes already hold the target's memory. */
export function heldMemoryWarning(holders: MemoryHolder[] | undefined): string | null {
  if (!holders?.length) return null;
  return `warning: the target's memory was already open before gpo attached, reads and writes through it leave no row: ${describeMemoryHolders(holders)}`;
}

export function describeMemoryHolders(holders: MemoryHolder[]): string {
  return holders.map((h) => `${h.path} open in ${h.comm} (pid ${h.pid}, fd ${h.fd}, ${h.write ? 'read-write' : 'read-only'})`).join(', ');
}
