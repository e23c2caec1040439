// What a detector is: one idea of what is abnormal, owning both halves of it. Its learner reads normal
// traces batch by batch and writes its sections of the baseline document; its scorer reads a trace (or a
// live session) batch by batch against those sections and reports anomalies. `gpo train`, `gpo score` and
// a live scorer iterate one list of them (./index.ts).
import type { RecordBatch } from 'apache-arrow';
import type { BaselineDocument, LoadedBaseline } from '../baseline/document.js';
import type { AnomalyModelOptions } from '../model/anomaly-model.js';
import type { BatchView } from '../trace/batch-view.js';
import type { TargetInfo } from '../trace/metadata.js';
import type { Anomaly } from './anomaly.js';

/** The shape of a training run, the same for every learner. */
export interface TrainingPlan {
  traceCount: number;
  /** Model options with the caller's overrides. */
  settings: AnomalyModelOptions;
  /** Rate windows in ns of trace time. */
  windowNs: number;
  /** Held-out units are the recordings (>= 2 traces) or, with one trace, its threads. */
  byRecording: boolean;
  /** Calibration units (folds). */
  units: number;
  /** Syscalls kept in memory for the held-out scoring (2 bytes each); the rest is read again. */
  replayCalls?: number;
}

/** What a learner may need once every trace has been read. */
export interface LearnContext {
  /** The batches of training trace `traceIndex` from row `fromRow` on (columns tid and nr). */
  reread(traceIndex: number, fromRow: number): AsyncIterable<RecordBatch> | Iterable<RecordBatch>;
  /** One line each, for the user: what could not be learned as asked. */
  warnings: string[];
  /** The training inputs, for messages. */
  describe: string;
}

/**
 * A detector's sections of the baseline document: top-level keys, each with the fields it writes (a new
 * detector may add a key of its own; document it in docs/baseline.md).
 */
export type BaselineFragment = { [K in keyof BaselineDocument]?: Partial<BaselineDocument[K]> } & { [section: string]: unknown };

export interface Learner {
  /** Starts training trace number `index` (from 0, in the order given). */
  beginTrace(index: number, target: TargetInfo): void;
  /** The next rows of the current trace, in file order. */
  observe(view: BatchView): void;
  endTrace(): void;
  /** Its sections of the baseline, once every trace has been observed. */
  finish(context: LearnContext): BaselineFragment | Promise<BaselineFragment>;
}

/**
 * Scores one trace or live session. Batches are fed as they come; `flush` may be asked at any time (a
 * live session's periodic report) and scoring goes on after it; `finish` ends the input.
 */
export interface Scorer {
  observe(view: BatchView): void;
  /**
   * The anomalies as they stand now, runs still growing included, and rate windows still open once they
   * reach their threshold (their counts only grow): nothing found waits for rows that may never come.
   * An anomaly's kind, pid, tid and first_ts_ns are final once flushed (count, last time, summary, evidence
   * and severity may still grow): a live scorer keys what it has printed on them.
   */
  flush(): Anomaly[];
  /** End of input: closes what is still open (the last partial rate window); the final anomalies. */
  finish(): Anomaly[];
}

/** The loaded forms of baseline sections that detectors share with other readers (report, eval). */
export interface LoadedSections {
  model: LoadedBaseline['model'];
}

/** What a detector's merge may need besides the baselines. */
export interface MergeContext {
  /** One line each, for the user: what could only be merged approximately. */
  warnings: string[];
}

export interface Detector {
  /** Top-level baseline keys the detector writes and reads; a baseline without one is refused. */
  sections: readonly string[];
  learner(plan: TrainingPlan): Learner;
  /** Checks (and parses) its sections of a baseline read from disk; throws an Error saying what is wrong. */
  load?(baseline: BaselineDocument): Partial<LoadedSections>;
  scorer(baseline: LoadedBaseline, target: TargetInfo): Scorer;
  /**
   * Its sections of one baseline from baselines trained apart on disjoint recordings of one program with
   * the same options (`gpo train --merge`), in the order given: as if their recordings had been trained
   * on in that order, exactly where the sections allow it (docs/baseline.md says what is approximate).
   */
  merge(parts: readonly BaselineDocument[], context: MergeContext): BaselineFragment;
  /**
   * The allow-file entries it takes (docs/baseline.md): keyword -> adds the entry (the rest of the line)
   * to its sections of `document`, kept in their sorted form; throws an Error saying what is wrong.
   */
  allows?: Readonly<Record<string, (document: BaselineDocument, value: string) => void>>;
}

/** What a detector declares besides its two halves: how its sections merge, and optionally how they load and what allow-file entries they take. */
export type DetectorParts = Pick<Detector, 'merge'> & Partial<Pick<Detector, 'load' | 'allows'>>;

/**
 * A detector from its two halves: a learner class built from the training plan, a scorer class built
 * from the loaded baseline and the scored trace's target; and its merge (and load, allows).
 */
export function defineDetector(
  sections: readonly string[],
  LearnerClass: new (plan: TrainingPlan) => Learner,
  ScorerClass: new (baseline: LoadedBaseline, target: TargetInfo) => Scorer,
  parts: DetectorParts,
): Detector {
  return { sections, learner: (plan) => new LearnerClass(plan), scorer: (baseline, target) => new ScorerClass(baseline, target), ...parts };
}
