// gpo score: a pure function of (trace, baseline, options). Every detector's scorer consumes the same
// batches in order; anomalies are sorted by (first time, kind, thread); floats have fixed formatting. Same
// inputs, same bytes out.
import type { RecordBatch } from 'apache-arrow';
import type { LoadedBaseline } from '../baseline/document.js';
import { escapeJson } from '../cli/escape.js';
import { compareAnomalies, severityRank, type Anomaly, type Severity } from '../detectors/anomaly.js';
import type { Detector, Scorer } from '../detectors/detector.js';
import { DETECTORS } from '../detectors/index.js';
import { groupByThread, TRACE_BATCH_ROWS, TRACE_COLUMNS, viewOf } from '../trace/batch-view.js';
import { programDifferences, programOf, totalDropped, type ProgramIdentity, type TargetInfo, type TraceMetadata } from '../trace/metadata.js';
import type { TraceFile } from '../trace/reader.js';
import { recordingOf, type RecordingIdentity } from '../trace/recording.js';

export interface ScoreReport {
  /** Which recording (and host) this is; each anomaly repeats its id, so anomalies can be pooled across traces. */
  recording: RecordingIdentity;
  trace: { path: string; sha256?: string; rows: number; syscalls: number; threads: number; program: ProgramIdentity };
  /** allow: the allow file whose entries were added to the baseline (--allow), else null. */
  baseline: { path: string; allow: string | null; program: ProgramIdentity; traces: number };
  /** Set when the trace is of another program than the baseline's (exe path, build-id or sha256 differ). */
  program_mismatch: string | null;
  /** Other one-line notes: dropped records, incomplete recording. */
  warnings: string[];
  anomalies: (Anomaly & { recording_id: string })[];
  counts: Record<Severity, number>;
  fail_on: Severity | 'none';
  /** Follows fail_on: 'clean' no anomalies, 'pass' none at or above fail_on, 'fail' otherwise (exit code 1). */
  verdict: 'clean' | 'pass' | 'fail';
  /** verdict is not 'fail': what the exit code says. */
  passed: boolean;
  /** Any anomaly at all, whatever fail_on. */
  anomalous: boolean;
  /** 0 passed (nothing at or above fail_on), 1 otherwise. */
  exit_code: 0 | 1;
}

/** The scorers of one scoring run, in the detectors' fixed order; a live session feeds them the same way. */
export function createScorers(loaded: LoadedBaseline, target: TargetInfo, detectors: readonly Detector[] = DETECTORS): Scorer[] {
  return detectors.map((detector) => detector.scorer(loaded, target));
}

function programMismatch(trace: ProgramIdentity, baseline: ProgramIdentity): string | null {
  const differences = programDifferences(trace, baseline);
  return differences.length === 0 ? null : `the trace is of another program than the baseline's (${differences.join('; ')})`;
}

/**
 * One scoring run: batches in file order through every scorer, with the trace's counts. `gpo score` feeds
 * it a trace's batches, `gpo watch` the batches of a recording as they are written; both end with finish().
 */
export class ScoringRun {
  rows = 0;
  syscalls = 0;
  readonly threads = new Set<number>();
  private readonly scorers: Scorer[];

  constructor(loaded: LoadedBaseline, target: TargetInfo, detectors: readonly Detector[] = DETECTORS) {
    this.scorers = createScorers(loaded, target, detectors);
  }

  observe(batch: RecordBatch): void {
    const view = viewOf(batch);
    if (view.rows === 0) return;
    this.rows += view.rows;
    this.syscalls += view.rows - view.eventRows.length;
    for (const tid of groupByThread(view).tids) this.threads.add(tid);
    for (const scorer of this.scorers) scorer.observe(view);
  }

  /** The anomalies as they stand now (see Scorer.flush), in the scorers' order; scoring goes on. */
  flush(): Anomaly[] {
    return this.scorers.flatMap((scorer) => scorer.flush());
  }

  /** End of input: the final anomalies, sorted. */
  finish(): Anomaly[] {
    const anomalies = this.scorers.flatMap((scorer) => scorer.finish());
    anomalies.sort(compareAnomalies);
    return anomalies;
  }
}

export async function scoreTrace(
  trace: TraceFile,
  loaded: LoadedBaseline,
  options: { baselinePath: string; allowPath?: string; failOn?: Severity | 'none'; detectors?: readonly Detector[] },
): Promise<ScoreReport> {
  const run = new ScoringRun(loaded, trace.metadata.target, options.detectors);
  for await (const batch of trace.batches({ columns: [...TRACE_COLUMNS], batchRows: TRACE_BATCH_ROWS })) run.observe(batch);
  return scoreReport(run, run.finish(), { path: trace.path, metadata: trace.metadata }, await recordingOf(trace), loaded, options);
}

/** The report of a finished run: counts, warnings from the trace's metadata, the verdict under failOn. */
export function scoreReport(
  run: ScoringRun,
  anomalies: Anomaly[],
  trace: { path: string; metadata: TraceMetadata },
  recording: RecordingIdentity,
  loaded: LoadedBaseline,
  options: { baselinePath: string; allowPath?: string; failOn?: Severity | 'none' },
): ScoreReport {
  const baseline = loaded.document;
  const program = programOf(trace.metadata.target);
  const warnings: string[] = [];
  const dropped = totalDropped(trace.metadata);
  if (dropped > 0) warnings.push(`the recording lost ${dropped} records: anomalies may be missing or spurious`);
  if (trace.metadata.status !== 'complete') warnings.push('the recording did not close normally: the trace may end early');
  const counts = { low: 0, medium: 0, high: 0 } as Record<Severity, number>;
  for (const anomaly of anomalies) counts[anomaly.severity]++;
  const failOn = options.failOn ?? 'high';
  const failing = failOn !== 'none' && anomalies.some((a) => severityRank(a.severity) >= severityRank(failOn));
  return {
    recording,
    trace: { path: trace.path, rows: run.rows, syscalls: run.syscalls, threads: run.threads.size, program },
    baseline: { path: options.baselinePath, allow: options.allowPath ?? null, program: baseline.trained_on.program, traces: baseline.trained_on.traces.length },
    program_mismatch: programMismatch(program, baseline.trained_on.program),
    warnings,
    anomalies: anomalies.map((anomaly) => ({ recording_id: recording.id, ...anomaly })),
    counts,
    fail_on: failOn,
    verdict: failing ? 'fail' : anomalies.length === 0 ? 'clean' : 'pass',
    passed: !failing,
    anomalous: anomalies.length > 0,
    exit_code: failing ? 1 : 0,
  };
}

/** The report as JSON: times as decimal strings (exact 64-bit), keys in a fixed order, traced strings inert; `indent` 0 gives one line. */
export function reportJson(report: ScoreReport, indent = 2): string {
  return escapeJson(report, indent);
}
