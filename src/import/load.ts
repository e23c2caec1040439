// Reads dataset files and directories (recursively, in sorted path order) with one of the importers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { failureReason, GpoError } from '../errors.js';
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
  return paths.flatMap(listSequenceFiles).flatMap((file) => parseSequences(format, readInput(file), file));
}

/** The sequences of one file's text. */
export function parseSequences(format: string, text: string, source: string): ImportedSequence[] {
  if (!isSequenceFormat(format)) throw new GpoError(`unknown format '${format}' (expected one of: ${SEQUENCE_FORMATS.join(', ')})`);
  return PARSERS[format](text, source);
}

/** A file's text; '-' is standard input (read once: call this once per input). */
export function readInput(file: string): string {
  try {
    return readFileSync(file === STDIN ? 0 : file, 'utf8');
  } catch (err) {
    throw new GpoError(`cannot read ${file === STDIN ? 'standard input' : file}: ${failureReason(err)}`);
  }
}

/** The input name for standard input. */
export const STDIN = '-';

/** The files a path names: itself ('-': standard input), or every file under the directory in sorted path order. */
export function listSequenceFiles(path: string): string[] {
  if (path === STDIN) return [STDIN];
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
