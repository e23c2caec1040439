// gpo score: a pure function of (trace, baseline, options). Every detector's scorer consumes the same
// batches in order; anomalies are sorted by (first time, kind, thread); floats have fixed formatting. Same
// inputs, same bytes out.
import type { LoadedBaseline } from '../baseline/document.js';
import { escapeJson } from '../cli/escape.js';
import { compareAnomalies, severityRank, type Anomaly, type Severity } from '../detectors/anomaly.js';
import type { Detector, Scorer } from '../detectors/detector.js';
import { DETECTORS } from '../detectors/index.js';
import { groupByThread, TRACE_BATCH_ROWS, TRACE_COLUMNS, viewOf } from '../trace/batch-view.js';
import { programDifferences, programOf, totalDropped, type ProgramIdentity, type TargetInfo } from '../trace/metadata.js';
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

export function programMismatch(trace: ProgramIdentity, baseline: ProgramIdentity): string | null {
  const differences = programDifferences(trace, baseline);
  return differences.length === 0 ? null : `the trace is of another program than the baseline's (${differences.join('; ')})`;
}

export async function scoreTrace(trace: TraceFile, loaded: LoadedBaseline, options: { baselinePath: string; allowPath?: string; failOn?: Severity | 'none'; detectors?: readonly Detector[] }): Promise<ScoreReport> {
  const baseline = loaded.document;
  const target = trace.metadata.target;
  const scorers = createScorers(loaded, target, options.detectors);
  let rows = 0;
  let syscalls = 0;
  const threads = new Set<number>();
  for await (const batch of trace.batches({ columns: [...TRACE_COLUMNS], batchRows: TRACE_BATCH_ROWS })) {
    const view = viewOf(batch);
    if (view.rows === 0) continue;
    rows += view.rows;
    syscalls += view.rows - view.eventRows.length;
    for (const tid of groupByThread(view).tids) threads.add(tid);
    for (const scorer of scorers) scorer.observe(view);
  }
  const anomalies = scorers.flatMap((scorer) => scorer.finish());
  anomalies.sort(compareAnomalies);

  const program = programOf(target);
  const warnings: string[] = [];
  const dropped = totalDropped(trace.metadata);
  if (dropped > 0) warnings.push(`the recording lost ${dropped} records: anomalies may be missing or spurious`);
  if (trace.metadata.status !== 'complete') warnings.push('the recording did not close normally: the trace may end early');
  const counts = { low: 0, medium: 0, high: 0 } as Record<Severity, number>;
  for (const anomaly of anomalies) counts[anomaly.severity]++;
  const failOn = options.failOn ?? 'high';
  const failing = failOn !== 'none' && anomalies.some((a) => severityRank(a.severity) >= severityRank(failOn));
  const recording = await recordingOf(trace);
  return {
    recording,
    trace: { path: trace.path, rows, syscalls, threads: threads.size, program },
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

