// gpo score TRACE... --baseline FILE: anomalies of each recording against a baseline, then a verdict.
// Exit 0 clean, 1 anomalies at or above --fail-on, 2 error (the worst over all traces).
import { InvalidArgumentError, type Command } from 'commander';
import { escapeTerminal as esc } from '../cli/escape.js';
import { progress } from '../cli/progress.js';
import { SEVERITIES, type Severity } from '../detectors/anomaly.js';
import { loadedWithAllowFile } from '../detectors/allow-file.js';
import { readBaseline } from '../detectors/load-baseline.js';
import { GpoError } from '../errors.js';
import { formatReport } from '../score/format-report.js';
import { reportJson, scoreTrace } from '../score/score-trace.js';
import { expandTraceInputs } from '../trace/inputs.js';
import { countingRows } from '../trace/progress.js';
import { openTrace } from '../trace/reader.js';
import { writeStdout } from '../cli/stdout.js';

/** --fail-on's value (also gpo watch's). */
export function severity(value: string): Severity | 'none' {
  if (value === 'none' || (SEVERITIES as readonly string[]).includes(value)) return value as Severity | 'none';
  throw new InvalidArgumentError(`expected one of: ${SEVERITIES.join(', ')}, none`);
}

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('score a recording against a baseline: anomalies with severity and evidence, then a verdict')
    .argument('<traces...>', 'traces (.parquet, or the .arrows stream of a recording), folders (every *.parquet below) or quoted globs')
    .requiredOption('-b, --baseline <file>', 'baseline written by gpo train')
    .option('--allow <file>', 'user exceptions: acts, libraries, children, loader variables allowed on top of the baseline (docs/baseline.md)')
    .option('--json', 'print the report as JSON (one object per line when there are several traces)')
    .option('--fail-on <severity>', 'exit 1 when an anomaly is at least this severe (low, medium, high, none)', severity, 'high')
    .action(async (args: string[], opts: { baseline: string; allow?: string; json?: boolean; failOn: Severity | 'none' }) => {
      const baseline = readBaseline(opts.baseline);
      const loaded = opts.allow === undefined ? baseline : loadedWithAllowFile(baseline, opts.allow);
      const paths = expandTraceInputs(args);
      // One trace at a time, so memory does not grow with their count; a trace that fails to read is
      // reported and the others still scored (exit 2 at the end).
      let worst = 0;
      for (const [index, path] of paths.entries()) {
        try {
          const opened = await openTrace(path);
          const status = progress(paths.length > 1 ? `score ${index + 1}/${paths.length}` : 'score', { total: opened.numRows });
          const report = await scoreTrace(countingRows(opened, status), loaded, { baselinePath: opts.baseline, allowPath: opts.allow, failOn: opts.failOn });
          status.finish();
          if (report.program_mismatch) process.stderr.write(`gpo: warning: ${esc(report.program_mismatch)}\n`);
          const text = !opts.json ? formatReport(report) : reportJson(report, paths.length > 1 ? 0 : 2);
          await writeStdout(index > 0 && !opts.json ? `\n${text}` : text);
          worst = Math.max(worst, report.exit_code);
        } catch (err) {
          if (!(err instanceof GpoError) || paths.length === 1) throw err;
          process.stderr.write(`gpo: ${err.message.split('\n')[0]}\n`);
          worst = 2;
        }
      }
      process.exitCode = worst;
    });
}
