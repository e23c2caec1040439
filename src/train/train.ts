// gpo train: learns a baseline from normal recordings of one program, reading each trace once as a stream
// of batches (memory bounded by the profile and a fixed budget of kept calls, not the trace). Every
// detector's learner sees every batch and writes its sections of the document; this file adds what the
// document says about the traces themselves.
import type { RecordBatch } from 'apache-arrow';
import { BASELINE_KIND, BASELINE_VERSION, canonicalJson, type BaselineDocument, type TrainedTrace } from '../baseline/document.js';
import type { ProgramIdentity } from '../trace/metadata.js';
import type { BaselineFragment, Detector, LearnContext, Learner, TrainingPlan } from '../detectors/detector.js';
import { DETECTORS } from '../detectors/index.js';
import { GpoError } from '../errors.js';
import { DEFAULT_ANOMALY_MODEL_OPTIONS, type AnomalyModelOptions } from '../model/anomaly-model.js';
import { groupByThread, TRACE_BATCH_ROWS, TRACE_COLUMNS, viewOf } from '../trace/batch-view.js';
import { sha256OfTrace } from '../trace/file-hash.js';
import { programDifferences, programOf, type TargetInfo } from '../trace/metadata.js';
import { countingRows, type ProgressListener } from '../trace/progress.js';
import { openTrace, type TraceFile } from '../trace/reader.js';
import { GPO_VERSION } from '../version.js';

export interface TrainOptions {
  model?: Partial<AnomalyModelOptions>;
  /** Rate windows in ns of trace time. */
  windowNs?: number;
  /** Syscalls kept in memory for the held-out scoring (2 bytes each); the rest is read again. */
  replayCalls?: number;
  /** Told the rows read so far (of all traces) and the phases; nothing is drawn here. */
  progress?: ProgressListener;
  /** The detectors to train (all of them unless given). */
  detectors?: readonly Detector[];
}

export interface TrainResult {
  baseline: BaselineDocument;
  /** One line each: things the user should know (mixed programs, no calibration possible). */
  warnings: string[];
}

/** One training run: every detector's learner fed the same batches, trace after trace. */
export class BaselineTrainer {
  readonly plan: TrainingPlan;
  private readonly learners: Learner[];
  private traceIndex = -1;
  private trace = { rows: 0, syscalls: 0, threads: new Set<number>() };

  constructor(traceCount: number, options: Omit<TrainOptions, 'progress'> = {}) {
    const settings = { ...DEFAULT_ANOMALY_MODEL_OPTIONS, ...options.model };
    const byRecording = traceCount >= 2;
    this.plan = {
      traceCount,
      settings,
      windowNs: options.windowNs ?? settings.frequencyWindows.windowNs,
      byRecording,
      units: byRecording ? Math.min(settings.folds, traceCount) : settings.folds,
      replayCalls: options.replayCalls,
    };
    this.learners = (options.detectors ?? DETECTORS).map((detector) => detector.learner(this.plan));
  }

  /** Starts the next trace (traces are numbered from 0 in the order begun). */
  beginTrace(target: TargetInfo): void {
    this.traceIndex++;
    this.trace = { rows: 0, syscalls: 0, threads: new Set() };
    for (const learner of this.learners) learner.beginTrace(this.traceIndex, target);
  }

  observe(batch: RecordBatch): void {
    const view = viewOf(batch);
    if (view.rows === 0) return;
    this.trace.rows += view.rows;
    const groups = groupByThread(view);
    this.trace.syscalls += groups.nrs.length;
    for (const tid of groups.tids) this.trace.threads.add(tid);
    for (const learner of this.learners) learner.observe(view);
  }

  /** Ends the current trace: its rows, syscalls and threads. */
  endTrace(): { rows: number; syscalls: number; threads: number } {
    for (const learner of this.learners) learner.endTrace();
    return { rows: this.trace.rows, syscalls: this.trace.syscalls, threads: this.trace.threads.size };
  }

  /** The baseline document, once every trace has been observed. */
  async finish(
    trained: TrainedTrace[],
    program: ProgramIdentity,
    reread: LearnContext['reread'],
    warnings: string[],
    describe: string,
  ): Promise<BaselineDocument> {
    const context: LearnContext = { reread, warnings, describe };
    const document: BaselineFragment = {
      baseline_version: BASELINE_VERSION,
      kind: BASELINE_KIND,
      gpo_version: GPO_VERSION,
      trained_on: { program, traces: trained },
    } as BaselineFragment;
    for (const learner of this.learners) mergeSections(document, await learner.finish(context));
    return document as BaselineDocument;
  }
}

/** Adds a detector's sections: top-level keys, and the fields inside the objects two detectors share. */
export function mergeSections(into: BaselineFragment, sections: BaselineFragment): void {
  const target = into as Record<string, unknown>;
  for (const [key, value] of Object.entries(sections)) {
    const existing = target[key];
    target[key] = typeof existing === 'object' && existing !== null && !Array.isArray(existing) ? { ...existing, ...(value as object) } : value;
  }
}

export async function trainBaseline(paths: readonly string[], options: TrainOptions = {}): Promise<TrainResult> {
  if (paths.length === 0) throw new GpoError('no training traces given');
  const warnings: string[] = [];
  const traces: TraceFile[] = [];
  for (const path of paths) traces.push(await openTrace(path));
  // One pass over every trace; the held-out scoring replays the calls kept (rows past the budget are read again).
  if (options.progress) {
    options.progress.total?.(traces.reduce((sum, t) => sum + (t.numRows ?? 0), 0));
    const counter = { done: 0 };
    traces.splice(0, traces.length, ...traces.map((t) => countingRows(t, options.progress!, counter)));
  }
  const program = programOf(traces[0]!.metadata.target);
  for (const trace of traces.slice(1)) {
    const other = programOf(trace.metadata.target);
    if (programDifferences(other, program).length > 0)
      warnings.push(
        `${trace.path} is a recording of ${other.exe || '(imported)'}, not of ${program.exe || '(imported)'}: one baseline should describe one program`,
      );
  }

  const trainer = new BaselineTrainer(traces.length, options);
  const trained: TrainedTrace[] = [];
  for (const trace of traces) {
    // The file's hash is read alongside the pass.
    const hash = sha256OfTrace(trace.path);
    hash.catch(() => {}); // awaited below; not an unhandled rejection if the pass fails first
    trainer.beginTrace(trace.metadata.target);
    for await (const batch of trace.batches({ columns: [...TRACE_COLUMNS], batchRows: TRACE_BATCH_ROWS })) trainer.observe(batch);
    const { rows, syscalls, threads } = trainer.endTrace();
    trained.push({
      path: trace.path,
      sha256: await hash,
      rows,
      syscalls,
      threads,
      program: programOf(trace.metadata.target),
      mode: trace.metadata.target.mode,
    });
  }
  const baseline = await trainer.finish(
    trained,
    program,
    (traceIndex, fromRow) => traces[traceIndex]!.batches({ columns: ['tid', 'nr'], fromRow, batchRows: TRACE_BATCH_ROWS }),
    warnings,
    paths.join(', '),
  );
  return { baseline, warnings };
}

export function baselineText(baseline: BaselineDocument): string {
  return canonicalJson(baseline);
}
