// Library calls gpo watches with uprobes: a default set of security-relevant functions, plus the user's
// `--libcall LIB:FUNC[:ARG]`. A library is named by path, or by file name looked up in the target's
// mappings (attach) or the system's library directories.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { GpoError } from '../errors.js';
import { dynamicSymbolOffset } from './elf.js';

export interface LibcallSpec {
  library: string;
  func: string;
  /** Which argument (1 or 2) is a string worth recording; 0 for none. */
  stringArg: number;
}

/** glibc >= 2.34 has the dl* functions in libc itself. */
export const DEFAULT_LIBCALLS: LibcallSpec[] = [
  { library: 'libc.so.6', func: 'dlopen', stringArg: 1 },
  { library: 'libc.so.6', func: 'dlmopen', stringArg: 2 },
  { library: 'libc.so.6', func: 'dlsym', stringArg: 2 },
  { library: 'libc.so.6', func: 'dlvsym', stringArg: 2 },
];

const LIBRARY_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib'];

export function parseLibcall(text: string): LibcallSpec {
  const m = /^([^:]+):([A-Za-z_][A-Za-z0-9_]*)(?::([012]))?$/.exec(text);
  if (!m) throw new GpoError(`--libcall ${text}: expected LIB:FUNC or LIB:FUNC:ARG (ARG 1 or 2: the argument to read as a string)`);
  return { library: m[1], func: m[2], stringArg: Number(m[3] ?? 0) };
}

function libraryPath(library: string, pid: number | null): string | null {
  if (library.includes('/')) return existsSync(library) ? realpathSync(library) : null;
  if (pid !== null) {
    try {
      for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
        const path = line.slice(line.indexOf('/'));
        if (line.includes('/') && basename(path) === library) return path;
      }
    } catch {
      // Gone: fall back to the system's copy.
    }
  }
  for (const dir of LIBRARY_DIRS) if (existsSync(join(dir, library))) return realpathSync(join(dir, library));
  return null;
}

export interface ResolvedLibcall extends LibcallSpec {
  path: string;
  offset: number;
}

/** Finds each function's file offset; what cannot be found is reported, not fatal for defaults. */
export function resolveLibcalls(specs: LibcallSpec[], pid: number | null): { resolved: ResolvedLibcall[]; missing: string[] } {
  const resolved: ResolvedLibcall[] = [];
  const missing: string[] = [];
  for (const spec of specs) {
    const path = libraryPath(spec.library, pid);
    const offset = path ? dynamicSymbolOffset(path, spec.func) : null;
    if (path && offset !== null) resolved.push({ ...spec, path, offset });
    else missing.push(`${spec.library}:${spec.func}`);
  }
  return { resolved, missing };
}
