// gpo score: a pure function of (trace, baseline, options). Every detector consumes the same batches in
// order; anomalies are sorted by (first time, kind, thread); floats have fixed formatting. Same inputs,
// same bytes out.
import type { BaselineDocument, LoadedBaseline, ProgramIdentity } from '../baseline/document.js';
import type { TraceFile } from '../trace/reader.js';
import { recordingOf, type RecordingIdentity } from '../trace/recording.js';
import { totalDropped } from '../trace/metadata.js';
import { escapeTerminal as esc, formatCount, formatTable } from '../report/format.js';
import { compareAnomalies, SEVERITIES, severityRank, type Anomaly, type Detector, type Severity } from './anomaly.js';
import { groupByThread, TRACE_BATCH_ROWS, TRACE_COLUMNS, viewOf } from './batch-view.js';
import { EventAnomalies } from './event-detectors.js';
import { SyscallRateAnomalies, SyscallSequenceAnomalies } from './syscall-detectors.js';

export interface ScoreReport {
  /** Which recording (and host) this is; each anomaly repeats its id, so anomalies can be pooled across traces. */
  recording: RecordingIdentity;
  trace: { path: string; sha256?: string; rows: number; syscalls: number; threads: number; program: ProgramIdentity };
  baseline: { path: string; program: ProgramIdentity; traces: number };
  /** Set when the trace is of another program than the baseline's (exe path, build-id or sha256 differ). */
  program_mismatch: string | null;
  /** Other one-line notes: dropped records, incomplete recording. */
  warnings: string[];
  anomalies: (Anomaly & { recording_id: string })[];
  counts: Record<Severity, number>;
  fail_on: Severity | 'none';
  verdict: 'clean' | 'anomalous';
  /** 0 clean (nothing at or above fail_on), 1 otherwise. */
  exit_code: 0 | 1;
}

/** The detectors of one scoring run, in a fixed order; a live session can feed them the same way. */
export function createDetectors(loaded: LoadedBaseline, target: { pid: number; exe: string }): Detector[] {
  return [new SyscallSequenceAnomalies(loaded.model, loaded.document), new SyscallRateAnomalies(loaded.document), new EventAnomalies(loaded.document, target)];
}

export function programMismatch(trace: ProgramIdentity, baseline: ProgramIdentity): string | null {
  const differences: string[] = [];
  if (trace.exe !== baseline.exe) differences.push(`exe ${trace.exe || '(imported)'} vs ${baseline.exe || '(imported)'}`);
  if (trace.build_id && baseline.build_id && trace.build_id !== baseline.build_id) differences.push(`build-id ${trace.build_id} vs ${baseline.build_id}`);
  if (trace.exe_sha256 && baseline.exe_sha256 && trace.exe_sha256 !== baseline.exe_sha256) differences.push(`sha256 ${trace.exe_sha256.slice(0, 12)} vs ${baseline.exe_sha256.slice(0, 12)}`);
  return differences.length === 0 ? null : `the trace is of another program than the baseline's (${differences.join('; ')})`;
}

/** LD_PRELOAD / LD_AUDIT values of the recording that the baseline never saw. */
function preloadAnomalies(trace: TraceFile, baseline: BaselineDocument, at: bigint): Anomaly[] {
  const out: Anomaly[] = [];
  const target = trace.metadata.target;
  for (const name of ['LD_PRELOAD', 'LD_AUDIT']) {
    const value = target.loader_env[name];
    if (value === undefined || value === '' || (baseline.process.loader_env[name] ?? []).includes(value)) continue;
    out.push({
      kind: 'preload',
      severity: 'high',
      first_ts_ns: at,
      last_ts_ns: at,
      pid: target.pid,
      tid: target.pid,
      comm: target.comm,
      count: 1,
      summary: `target started with ${name}=${value}, not in the baseline`,
      evidence: { variable: name, value, baseline: baseline.process.loader_env[name] ?? [] },
    });
  }
  return out;
}

export async function scoreTrace(trace: TraceFile, loaded: LoadedBaseline, options: { baselinePath: string; failOn?: Severity | 'none' }): Promise<ScoreReport> {
  const baseline = loaded.document;
  const target = trace.metadata.target;
  const detectors = createDetectors(loaded, { pid: target.pid, exe: target.exe });
  let rows = 0;
  let syscalls = 0;
  let firstTs: bigint | undefined;
  /** When the target exec'd its program: where its loader environment took effect. */
  let execTs: bigint | undefined;
  const threads = new Set<number>();
  for await (const batch of trace.batches({ columns: [...TRACE_COLUMNS], batchRows: TRACE_BATCH_ROWS })) {
    const view = viewOf(batch);
    if (view.rows === 0) continue;
    firstTs ??= view.ts[0]!;
    rows += view.rows;
    syscalls += view.rows - view.eventRows.length;
    for (const tid of groupByThread(view).tids) threads.add(tid);
    if (execTs === undefined) for (const row of view.eventRows) if (view.pid[row] === target.pid && view.kind(row) === 'exec') {
        execTs = view.ts[row]!;
        break;
      }
    for (const detector of detectors) detector.observe(batch);
  }
  const anomalies = detectors.flatMap((detector) => detector.finish());
  anomalies.push(...preloadAnomalies(trace, baseline, execTs ?? firstTs ?? 0n));
  anomalies.sort(compareAnomalies);

  const program: ProgramIdentity = { exe: target.exe, build_id: target.build_id, exe_sha256: target.exe_sha256 };
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
    baseline: { path: options.baselinePath, program: baseline.trained_on.program, traces: baseline.trained_on.traces.length },
    program_mismatch: programMismatch(program, baseline.trained_on.program),
    warnings,
    anomalies: anomalies.map((anomaly) => ({ recording_id: recording.id, ...anomaly })),
    counts,
    fail_on: failOn,
    verdict: anomalies.length === 0 ? 'clean' : 'anomalous',
    exit_code: failing ? 1 : 0,
  };
}

/** The report as JSON: times as decimal strings (exact 64-bit), keys in a fixed order; `indent` 0 gives one line. */
export function reportJson(report: ScoreReport, indent = 2): string {
  return `${JSON.stringify(report, (_, value) => (typeof value === 'bigint' ? value.toString() : value), indent || undefined)}\n`;
}

function seconds(ts: bigint, start: bigint): string {
  const ns = ts - start;
  const sign = ns < 0n ? '-' : '+';
  const abs = ns < 0n ? -ns : ns;
  return `${sign}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0').slice(0, 6)}s`;
}

/** Human output: one line per anomaly (times relative to the trace's first row), then the verdict. */
export function formatReport(report: ScoreReport): string {
  const start = report.anomalies.length === 0 ? 0n : report.anomalies.reduce((min, a) => (a.first_ts_ns < min ? a.first_ts_ns : min), report.anomalies[0]!.first_ts_ns);
  const lines = [
    `trace     ${esc(report.trace.path)}: ${formatCount(report.trace.syscalls)} syscalls, ${formatCount(report.trace.rows - report.trace.syscalls)} other rows, ${report.trace.threads} threads`,
    `recording ${report.recording.id}${report.recording.host ? ` on ${esc(report.recording.host)}` : ''}${report.recording.id_from === 'metadata' ? '' : ' (derived from the file)'}`,
    `baseline  ${esc(report.baseline.path)}: ${esc(report.baseline.program.exe || '(imported)')}, trained on ${report.baseline.traces} trace${report.baseline.traces === 1 ? '' : 's'}`,
  ];
  for (const w of report.warnings) lines.push(`warning   ${esc(w)}`);
  if (report.program_mismatch) lines.push(`warning   ${esc(report.program_mismatch)}`);
  if (report.anomalies.length > 0) {
    lines.push('', `times are from the first anomaly (ts_ns ${start})`);
    lines.push(
      formatTable(
        ['severity', 'kind', 'time', 'pid/tid', 'comm', 'count', 'summary'],
        report.anomalies.map((a) => [a.severity, a.kind, `${seconds(a.first_ts_ns, start)}..${seconds(a.last_ts_ns, start)}`, `${a.pid}/${a.tid}`, esc(a.comm), a.count, esc(a.summary)]),
      ),
      '',
    );
  }
  const bySeverity = [...SEVERITIES].reverse().map((s) => `${report.counts[s]} ${s}`).join(', ');
  lines.push(
    report.verdict === 'clean'
      ? 'verdict: clean (no anomalies)'
      : `verdict: ${report.exit_code === 1 ? 'FAIL' : 'pass'}: ${report.anomalies.length} anomal${report.anomalies.length === 1 ? 'y' : 'ies'} (${bySeverity}); fail-on ${report.fail_on}`,
  );
  return `${lines.join('\n')}\n`;
}
