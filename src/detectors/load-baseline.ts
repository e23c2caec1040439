// Reading a baseline file: the document's envelope (kind, version), then every detector checks and loads
// its own sections. Every problem is one clear GpoError naming the file.
import { readFileSync } from 'node:fs';
import { BASELINE_KIND, BASELINE_VERSION, type BaselineDocument, type LoadedBaseline } from '../baseline/document.js';
import { failureReason, GpoError } from '../errors.js';
import { baselineRangeProblem } from '../trace/ranges.js';
import type { Detector, LoadedSections } from './detector.js';
import { DETECTORS } from './index.js';

/** Top-level sections in the order a message lists the missing ones. */
const SECTION_ORDER: readonly string[] = ['trained_on', 'model', 'calibration', 'libraries', 'process', 'allowed'];

export function readBaseline(path: string, detectors: readonly Detector[] = DETECTORS): LoadedBaseline {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GpoError(code === 'ENOENT' ? `${path}: no such baseline file` : `${path}: cannot read baseline (${failureReason(err)})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new GpoError(`${path}: corrupt baseline (not valid JSON)`);
  }
  return parseBaseline(doc, path, detectors);
}

/** Checks a parsed baseline document: its envelope, then each detector its sections. */
export function parseBaseline(doc: unknown, path: string, detectors: readonly Detector[] = DETECTORS): LoadedBaseline {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || (doc as { kind?: unknown }).kind !== BASELINE_KIND)
    throw new GpoError(`${path}: not a gpo baseline (made by gpo train)`);
  const version = (doc as { baseline_version?: unknown }).baseline_version;
  if (version !== BASELINE_VERSION)
    throw new GpoError(
      `${path}: baseline version ${JSON.stringify(version ?? null)} is not supported (this gpo reads version ${BASELINE_VERSION}; retrain with gpo train)`,
    );
  const d = doc as BaselineDocument;
  const needed = new Set<string>(['trained_on', ...detectors.flatMap((detector) => detector.sections)]);
  const order = [...SECTION_ORDER, ...[...needed].filter((key) => !(SECTION_ORDER as readonly string[]).includes(key))];
  const sections = d as unknown as Record<string, unknown>;
  const missing = order.filter((key) => needed.has(key) && (typeof sections[key] !== 'object' || sections[key] === null));
  if (missing.length > 0) throw new GpoError(`${path}: corrupt baseline (missing ${missing.join(', ')})`);
  const outOfRange = baselineRangeProblem(d);
  if (outOfRange) throw new GpoError(`${path}: corrupt baseline: ${outOfRange}`);
  const loaded: Partial<LoadedSections> = {};
  for (const detector of detectors) {
    try {
      Object.assign(loaded, detector.load?.(d));
    } catch (err) {
      throw new GpoError(`${path}: ${(err as Error).message}`);
    }
  }
  if (loaded.model === undefined) throw new GpoError(`${path}: corrupt baseline (no syscall model)`);
  return { document: d, model: loaded.model };
}
