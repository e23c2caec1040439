// User exceptions (`--allow FILE`): what the user says is normal for the program without retraining (a
// crash reporter's ptrace, an overlay's LD_PRELOAD). One entry a line, `KEYWORD VALUE`, in the signatures
// the baseline already holds; each detector takes its own keywords (Detector.allows) and adds the entry to
// its sections, so scoring needs nothing new. Format: docs/baseline.md.
import { readFileSync } from 'node:fs';
import type { BaselineDocument, LoadedBaseline } from '../baseline/document.js';
import { failureReason, GpoError } from '../errors.js';
import type { Detector } from './detector.js';
import { DETECTORS } from './index.js';

/** The baseline document with the allow file's entries added (a copy: `document` is left as it was). */
export function withAllowFile(
  document: BaselineDocument,
  path: string,
  detectors: readonly Detector[] = DETECTORS,
): { document: BaselineDocument; entries: number } {
  return readAllowFile(path, detectors)(document);
}

/**
 * Reads the allow file and checks its keywords now (before a long training pass); the entries' values are
 * checked as the returned function adds them to a document.
 */
export function readAllowFile(
  path: string,
  detectors: readonly Detector[] = DETECTORS,
): (document: BaselineDocument) => { document: BaselineDocument; entries: number } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GpoError(code === 'ENOENT' ? `${path}: no such allow file` : `${path}: cannot read allow file (${failureReason(err)})`);
  }
  const handlers = new Map(detectors.flatMap((detector) => Object.entries(detector.allows ?? {})));
  const keywords = [...handlers.keys()].sort().join(', ');
  const entries: { where: string; handler: (document: BaselineDocument, value: string) => void; value: string }[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const where = `${path}:${index + 1}`;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (line.includes('\uFFFD')) throw new GpoError(`${where}: not valid UTF-8`);
    const space = line.indexOf(' ');
    const keyword = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? '' : line.slice(space + 1);
    const handler = handlers.get(keyword);
    if (handler === undefined) throw new GpoError(`${where}: unknown entry ${JSON.stringify(keyword)} (expected one of: ${keywords})`);
    if (value === '') throw new GpoError(`${where}: ${keyword} needs a value`);
    entries.push({ where, handler, value });
  }
  return (document) => {
    const allowed = structuredClone(document);
    for (const { where, handler, value } of entries) {
      try {
        handler(allowed, value);
      } catch (err) {
        throw new GpoError(`${where}: ${(err as Error).message}`);
      }
    }
    return { document: allowed, entries: entries.length };
  };
}

/** A loaded baseline with the allow file's entries: only the document changes (no entry touches the model). */
export function loadedWithAllowFile(loaded: LoadedBaseline, path: string): LoadedBaseline {
  return { ...loaded, document: withAllowFile(loaded.document, path).document };
}
