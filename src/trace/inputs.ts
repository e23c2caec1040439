// What trace arguments name: files, folders (every *.parquet below, recursively) and globs (quoted, so
// gpo expands them: `*`, `?`, `**`, `[abc]`, `{a,b}`). One list, sorted within each argument, so every
// command that takes many traces reads them in the same order. Paths only: traces are opened one by one.
// A segmented trace (a folder of parts, src/trace/segment-layout.ts) is one trace wherever it is found.
import { readdirSync, statfsSync, statSync, type Dirent } from 'node:fs';
import { join, sep } from 'node:path';
import { failureReason, GpoError } from '../errors.js';
import { isSegmentedTrace } from './segment-layout.js';

const TRACE_SUFFIX = '.parquet';
const GLOB_CHARS = /[*?[{]/;

/** A glob as a regular expression over '/'-separated paths relative to the glob's literal folder. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // '**/' is zero or more folders; a bare '**' anything, folders included.
      if (glob[i + 2] === '/') {
        out += '(?:[^/]*/)*';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) {
        out += '\\{';
        continue;
      }
      out += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map((alt) => globToRegExp(alt).source.slice(1, -1))
        .join('|')})`;
      i = end;
    } else out += c.replace(/[.+^$()|\\\]}]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function entries(folder: string): Dirent[] {
  try {
    return readdirSync(folder, { withFileTypes: true });
  } catch (err) {
    throw new GpoError(`cannot read folder ${folder}: ${failureReason(err)}`);
  }
}

/** statfs magic numbers of the kernel's own filesystems (proc, sysfs, cgroup v1 and v2, debugfs, tracefs,
 * securityfs, bpf, devpts, configfs, pstore, efivarfs, binfmt_misc, selinuxfs, fusectl, mqueue): no trace
 * is ever below them, and walking them (`gpo info /`) reads thousands of entries, some refused. */
const KERNEL_FILESYSTEMS = new Set([
  0x9fa0, 0x62656572, 0x27e0eb, 0x63677270, 0x64626720, 0x74726163, 0x73636673, 0xcafe4a11, 0x1cd1, 0x62656570, 0x6165676c, 0xde5e81e4, 0x42494e4d, 0xf97cff8c,
  0x65735543, 0x19800202,
]);

function onKernelFilesystem(folder: string): boolean {
  try {
    return KERNEL_FILESYSTEMS.has(statfsSync(folder).type);
  } catch {
    return false; // entries() says why the folder cannot be read
  }
}

/** Files below a folder whose path relative to it satisfies `keep`, in sorted order; a segmented trace is
 * taken as a file. Symlinked folders are not entered (no loops); symlinks to files count as files. */
function walk(folder: string, relative: string, keep: (relative: string) => boolean, out: string[]): void {
  if (onKernelFilesystem(folder)) return;
  for (const entry of entries(folder).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(folder, entry.name);
    const rel = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory() && isSegmentedTrace(path)) {
      if (keep(rel)) out.push(path);
    } else if (entry.isDirectory()) walk(path, rel, keep, out);
    else if ((entry.isFile() || (entry.isSymbolicLink() && isFile(path))) && keep(rel)) out.push(path);
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function expandGlob(pattern: string): string[] {
  const parts = pattern.split('/');
  const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
  const base = parts.slice(0, firstGlob).join('/') || (pattern.startsWith('/') ? '/' : '.');
  const matcher = globToRegExp(parts.slice(firstGlob).join('/'));
  const out: string[] = [];
  if (isFolder(base)) walk(base, '', (rel) => matcher.test(rel), out);
  return base === '.' && !pattern.startsWith('./') ? out.map((p) => p.replace(/^\.\//, '')) : out;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Every trace the arguments name, in argument order; throws a one-line GpoError for a name that matches
 * nothing (a missing file, an empty folder, a glob with no match). */
export function expandTraceInputs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    let stats;
    try {
      stats = statSync(arg);
    } catch {
      stats = undefined;
    }
    let found: string[];
    if (stats?.isDirectory() && isSegmentedTrace(arg)) {
      found = [arg];
    } else if (stats?.isDirectory()) {
      found = [];
      walk(arg, '', (rel) => rel.endsWith(TRACE_SUFFIX) || isSegmentedTrace(join(arg, rel)), found);
      if (found.length === 0) throw new GpoError(`${arg}: no *${TRACE_SUFFIX} traces in this folder`);
    } else if (stats !== undefined || !GLOB_CHARS.test(arg)) {
      found = [arg]; // a file, or a missing one: opening it gives the one-line error
    } else {
      found = expandGlob(arg.split(sep).join('/'));
      if (found.length === 0) throw new GpoError(`${arg}: no file matches`);
    }
    out.push(...found);
  }
  return out;
}
