// gpo train --merge: one baseline from baselines trained apart on disjoint recordings of one program (a
// fleet's shards, each trained where its recordings are). Each detector merges its own sections
// (Detector.merge); this file checks the baselines agree and joins what they say about their traces.
import { BASELINE_KIND, BASELINE_VERSION, type BaselineDocument } from '../baseline/document.js';
import type { BaselineFragment, Detector } from '../detectors/detector.js';
import { DETECTORS } from '../detectors/index.js';
import { readBaseline } from '../detectors/load-baseline.js';
import { GpoError } from '../errors.js';
import { programDifferences } from '../trace/metadata.js';
import { GPO_VERSION } from '../version.js';
import { mergeSections, type TrainResult } from './train.js';

export function mergeBaselineFiles(paths: readonly string[], detectors: readonly Detector[] = DETECTORS): TrainResult {
  if (paths.length === 0) throw new GpoError('no baselines given to merge');
  return mergeBaselines(
    paths.map((path) => readBaseline(path, detectors).document),
    paths,
    detectors,
  );
}

/** The merged document; `names` say which baseline is which in messages. */
export function mergeBaselines(parts: readonly BaselineDocument[], names: readonly string[], detectors: readonly Detector[] = DETECTORS): TrainResult {
  const warnings: string[] = [];
  const program = parts[0]!.trained_on.program;
  parts.forEach((part, i) => {
    const differences = programDifferences(part.trained_on.program, program);
    if (i > 0 && differences.length > 0)
      warnings.push(
        `${names[i]} is a baseline of ${part.trained_on.program.exe || '(imported)'}, not of ${program.exe || '(imported)'}: one baseline should describe one program`,
      );
  });
  const seen = new Map<string, string>();
  for (const [i, part] of parts.entries())
    for (const trace of part.trained_on.traces) {
      const other = seen.get(trace.sha256);
      // Counts would hold that recording twice: say so (two copies of one file are one recording).
      if (other !== undefined)
        warnings.push(
          `${names[i]} and ${other} were both trained on a file with sha256 ${trace.sha256.slice(0, 12)} (${trace.path}): merged baselines should come from disjoint recordings`,
        );
      seen.set(trace.sha256, names[i]!);
    }
  const document: BaselineFragment = {
    baseline_version: BASELINE_VERSION,
    kind: BASELINE_KIND,
    gpo_version: GPO_VERSION,
    trained_on: { program, traces: parts.flatMap((part) => part.trained_on.traces) },
  } as BaselineFragment;
  for (const detector of detectors) {
    try {
      mergeSections(document, detector.merge(parts, { warnings }));
    } catch (err) {
      if (err instanceof GpoError) throw err;
      throw new GpoError(`cannot merge ${names.join(', ')}: ${(err as Error).message}`);
    }
  }
  return { baseline: document as BaselineDocument, warnings };
}
