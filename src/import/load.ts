// Reads dataset files and directories (recursively, in sorted path order) with one of the importers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GpoError } from '../errors.js';
import { parseAdfaLdTrace } from './adfa-ld.js';
import type { ImportedSequence } from './sequence.js';
import { parseStraceLog } from './strace.js';
import { parseUnmTrace } from './unm.js';

const PARSERS = {
  'adfa-ld': parseAdfaLdTrace,
  unm: parseUnmTrace,
  strace: parseStraceLog,
} as const satisfies Record<string, (text: string, source: string) => ImportedSequence[]>;

export type SequenceFormat = keyof typeof PARSERS;
export const SEQUENCE_FORMATS = Object.keys(PARSERS) as SequenceFormat[];

export function isSequenceFormat(format: string): format is SequenceFormat {
  return Object.hasOwn(PARSERS, format);
}

/** Every sequence in the given files and directories; throws GpoError for missing paths or unknown formats. */
export function importSequences(format: string, paths: readonly string[]): ImportedSequence[] {
  if (!isSequenceFormat(format)) throw new GpoError(`unknown format '${format}' (expected one of: ${SEQUENCE_FORMATS.join(', ')})`);
  const parse = PARSERS[format];
  return paths.flatMap(listSequenceFiles).flatMap((file) => parse(readFileSync(file, 'utf8'), file));
}

/** The files a path names: itself, or every file under the directory in sorted path order. */
export function listSequenceFiles(path: string): string[] {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new GpoError(`no such file or directory: ${path}`);
  }
  if (!stats.isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((entry) => listSequenceFiles(join(path, entry)));
}
