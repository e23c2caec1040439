// gpo score TRACE --baseline FILE: anomalies of a recording against a baseline, then a verdict.
// Exit 0 clean, 1 anomalies at or above --fail-on, 2 error.
import { InvalidArgumentError, type Command } from 'commander';
import { readBaseline } from '../detectors/load-baseline.js';
import { escapeTerminal as esc } from '../cli/escape.js';
import { SEVERITIES, type Severity } from '../detectors/anomaly.js';
import { formatReport } from '../score/format-report.js';
import { reportJson, scoreTrace } from '../score/score-trace.js';
import { openTrace } from '../trace/reader.js';
import { progress } from '../cli/progress.js';
import { countingRows } from '../trace/progress.js';

/** --fail-on's value (also gpo watch's). */
export function severity(value: string): Severity | 'none' {
  if (value === 'none' || (SEVERITIES as readonly string[]).includes(value)) return value as Severity | 'none';
  throw new InvalidArgumentError(`expected one of: ${SEVERITIES.join(', ')}, none`);
}

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('score a recording against a baseline: anomalies with severity and evidence, then a verdict')
    .argument('<trace>', 'a .parquet trace, or the .arrows stream of a recording')
    .requiredOption('-b, --baseline <file>', 'baseline written by gpo train')
    .option('--json', 'print the report as JSON')
    .option('--fail-on <severity>', 'exit 1 when an anomaly is at least this severe (low, medium, high, none)', severity, 'high')
    .action(async (path: string, opts: { baseline: string; json?: boolean; failOn: Severity | 'none' }) => {
      const loaded = readBaseline(opts.baseline);
      const opened = await openTrace(path);
      const status = progress('score', { total: opened.numRows });
      const report = await scoreTrace(countingRows(opened, status), loaded, { baselinePath: opts.baseline, failOn: opts.failOn });
      status.finish();
      if (report.program_mismatch) process.stderr.write(`gpo: warning: ${esc(report.program_mismatch)}\n`);
      process.stdout.write(opts.json ? reportJson(report) : formatReport(report));
      process.exitCode = report.exit_code;
    });
}
