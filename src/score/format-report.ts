// gpo score's human output: one table row per anomaly (times relative to the first anomaly), then the
// verdict. Traced strings are escaped for the terminal.
import { escapeTerminal as esc } from '../cli/escape.js';
import { formatCount, formatTable } from '../cli/format.js';
import { SEVERITIES } from '../detectors/anomaly.js';
import type { ScoreReport } from './score-trace.js';

function seconds(ts: bigint, start: bigint): string {
  const ns = ts - start;
  const sign = ns < 0n ? '-' : '+';
  const abs = ns < 0n ? -ns : ns;
  return `${sign}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0').slice(0, 6)}s`;
}

/** Human output: one line per anomaly (times relative to the trace's first row), then the verdict. */
export function formatReport(report: ScoreReport): string {
  const start =
    report.anomalies.length === 0 ? 0n : report.anomalies.reduce((min, a) => (a.first_ts_ns < min ? a.first_ts_ns : min), report.anomalies[0]!.first_ts_ns);
  const lines = [
    `trace     ${esc(report.trace.path)}: ${formatCount(report.trace.syscalls)} syscalls, ${formatCount(report.trace.rows - report.trace.syscalls)} other rows, ${report.trace.threads} threads`,
    `recording ${report.recording.id}${report.recording.host ? ` on ${esc(report.recording.host)}` : ''}${report.recording.id_from === 'metadata' ? '' : ' (derived from the file)'}`,
    `baseline  ${esc(report.baseline.path)}: ${esc(report.baseline.program.exe || '(imported)')}, trained on ${report.baseline.traces} trace${report.baseline.traces === 1 ? '' : 's'}${report.baseline.allow === null ? '' : `, with the exceptions of ${esc(report.baseline.allow)}`}`,
  ];
  for (const w of report.warnings) lines.push(`warning   ${esc(w)}`);
  if (report.program_mismatch) lines.push(`warning   ${esc(report.program_mismatch)}`);
  if (report.anomalies.length > 0) {
    lines.push('', `times are from the first anomaly (ts_ns ${start})`);
    lines.push(
      formatTable(
        ['severity', 'kind', 'time', 'pid/tid', 'comm', 'count', 'summary'],
        report.anomalies.map((a) => [
          a.severity,
          a.kind,
          `${seconds(a.first_ts_ns, start)}..${seconds(a.last_ts_ns, start)}`,
          `${a.pid}/${a.tid}`,
          esc(a.comm),
          a.count,
          esc(a.summary),
        ]),
      ),
      '',
    );
  }
  lines.push(formatVerdict(report));
  return `${lines.join('\n')}\n`;
}

/** The verdict line (gpo score's last line, and gpo watch's). */
export function formatVerdict(report: ScoreReport): string {
  const bySeverity = [...SEVERITIES]
    .reverse()
    .map((s) => `${report.counts[s]} ${s}`)
    .join(', ');
  return report.verdict === 'clean'
    ? 'verdict: clean (no anomalies)'
    : `verdict: ${report.verdict === 'fail' ? 'FAIL' : 'pass'}: ${report.anomalies.length} anomal${report.anomalies.length === 1 ? 'y' : 'ies'} (${bySeverity}); fail-on ${report.fail_on}`;
}
