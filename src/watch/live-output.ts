// What gpo watch prints: one line per anomaly as it is found (escaped for a terminal, or one JSON object
// per line), and the verdict at the end. Keys of the JSON lines are stable; `escalated` and `delay_ms`
// are live-only (gpo score has no such thing).
import { escapeJson, escapeTerminal as esc } from '../cli/escape.js';
import type { ScoreReport } from '../score/score-trace.js';
import type { LiveAnomaly } from './printed-anomalies.js';

/** Wall-clock time of a trace time, ISO 8601 UTC with nanoseconds. */
export function wallTime(tsNs: bigint, wallOffsetNs: bigint): string {
  const wall = tsNs + wallOffsetNs;
  const iso = new Date(Number(wall / 1_000_000n)).toISOString();
  return `${iso.slice(0, 19)}.${(wall % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

/** From the anomaly's first row (kernel time) to its detection, in ms (two decimals). */
export function delayMs(found: LiveAnomaly, detectedNs: bigint): number {
  return Math.round(Number(detectedNs - found.anomaly.first_ts_ns) / 1e4) / 100;
}

/** `recording`: the recording id (as in the trace's metadata and gpo score's report); `trace`: the trace kept, or null. */
export function anomalyJson(found: LiveAnomaly, detectedNs: bigint, wallOffsetNs: bigint, recording: string | null, trace: string | null): string {
  const a = found.anomaly;
  const line = {
    kind: a.kind,
    severity: a.severity,
    ts_ns: a.first_ts_ns,
    wall: wallTime(a.first_ts_ns, wallOffsetNs),
    pid: a.pid,
    tid: a.tid,
    comm: a.comm,
    summary: a.summary,
    evidence: a.evidence,
    recording,
    trace,
    escalated: found.escalated,
    delay_ms: delayMs(found, detectedNs),
  };
  return escapeJson(line, 0);
}

export function anomalyLine(found: LiveAnomaly, detectedNs: bigint, wallOffsetNs: bigint): string {
  const a = found.anomaly;
  const time = wallTime(a.first_ts_ns, wallOffsetNs).slice(11, 23);
  const severity = found.escalated ? `${a.severity} (now)` : a.severity;
  return `${time} ${severity.padEnd(6)} ${a.kind} pid ${a.pid}/${a.tid} ${esc(a.comm)}: ${esc(a.summary)} (+${delayMs(found, detectedNs).toFixed(1)} ms)\n`;
}

export function verdictJson(report: ScoreReport, trace: string | null): string {
  return escapeJson(
    {
      verdict: report.verdict,
      passed: report.passed,
      anomalous: report.anomalous,
      exit_code: report.exit_code,
      fail_on: report.fail_on,
      counts: report.counts,
      anomalies: report.anomalies.length,
      rows: report.trace.rows,
      syscalls: report.trace.syscalls,
      warnings: report.warnings,
      program_mismatch: report.program_mismatch,
      recording: report.recording.id,
      trace,
    },
    0,
  );
}
