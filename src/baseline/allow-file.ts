// User exceptions without retraining: an allow file names acts, libraries, children and loader variables
// that are normal for this program (a crash reporter's ptrace, an overlay's LD_PRELOAD), in the same
// signatures the baseline learns from training recordings. `gpo score --allow` applies it when scoring;
// `gpo train --allow` writes it into the baseline. Format (docs/baseline.md), one entry a line, '#' comments:
//   act SIGNATURE        as in an anomaly's evidence.signature: "ptrace /usr/bin/crashpad PTRACE_ATTACH"
//   library PATH         an executable mapping of any file at PATH
//   child PATH           a program the target (or a child) may execute
//   preload VAR=VALUE    LD_PRELOAD, LD_AUDIT or LD_LIBRARY_PATH value the target may start with
import { readFileSync } from 'node:fs';
import { GpoError } from '../errors.js';
import type { BaselineDocument } from './document.js';

export interface AllowList {
  acts: string[];
  libraries: string[];
  children: string[];
  loaderEnv: [string, string][];
}

const LOADER_VARIABLES = new Set(['LD_PRELOAD', 'LD_AUDIT', 'LD_LIBRARY_PATH']);

export function parseAllowFile(text: string, source: string): AllowList {
  const list: AllowList = { acts: [], libraries: [], children: [], loaderEnv: [] };
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${source}:${index + 1}`;
    const space = line.indexOf(' ');
    const word = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? '' : line.slice(space + 1).trim();
    if (value === '') throw new GpoError(`${where}: '${word}' needs a value`);
    if (word === 'act') list.acts.push(value);
    else if (word === 'library') list.libraries.push(value);
    else if (word === 'child') list.children.push(value);
    else if (word === 'preload') {
      const eq = value.indexOf('=');
      const name = eq < 0 ? '' : value.slice(0, eq);
      if (!LOADER_VARIABLES.has(name)) throw new GpoError(`${where}: expected preload LD_PRELOAD=..., LD_AUDIT=... or LD_LIBRARY_PATH=...`);
      list.loaderEnv.push([name, value.slice(eq + 1)]);
    } else throw new GpoError(`${where}: unknown entry '${word}' (expected act, library, child or preload)`);
  });
  return list;
}

export function readAllowFiles(paths: readonly string[]): AllowList {
  const all: AllowList = { acts: [], libraries: [], children: [], loaderEnv: [] };
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new GpoError(`cannot read allow file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    const list = parseAllowFile(text, path);
    all.acts.push(...list.acts);
    all.libraries.push(...list.libraries);
    all.children.push(...list.children);
    all.loaderEnv.push(...list.loaderEnv);
  }
  return all;
}

const sortedUnique = (values: Iterable<string>) => [...new Set(values)].sort();

/** The baseline with the allowed entries added (a new document; sorted, so the same inputs give the same
 * bytes). An allowed act counts 0 rows seen; an allowed library has no device or inode, so any file at its
 * path matches. */
export function applyAllowList(doc: BaselineDocument, list: AllowList): BaselineDocument {
  const allowed = { ...doc.allowed };
  for (const signature of list.acts) allowed[signature] ??= 0;
  const known = new Set(doc.libraries.mappings.filter((m) => m.dev === null && m.inode === null).map((m) => m.path));
  const mappings = [...doc.libraries.mappings, ...sortedUnique(list.libraries).filter((path) => !known.has(path)).map((path) => ({ path, dev: null, inode: null }))];
  mappings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : (a.dev ?? -1) - (b.dev ?? -1) || (a.inode ?? -1) - (b.inode ?? -1)));
  const loaderEnv = { ...doc.process.loader_env };
  for (const [name, value] of list.loaderEnv) loaderEnv[name] = sortedUnique([...(loaderEnv[name] ?? []), value]);
  return {
    ...doc,
    allowed,
    libraries: { ...doc.libraries, mappings },
    process: { ...doc.process, children: sortedUnique([...doc.process.children, ...list.children]), loader_env: loaderEnv },
  };
}
