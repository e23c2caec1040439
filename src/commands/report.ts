// gpo report TRACE [--baseline FILE] -o report.html: one self-contained HTML page with charts.
import type { Command } from 'commander';
import { readBaseline } from '../detectors/load-baseline.js';
import { escapeTerminal as esc } from '../cli/escape.js';
import { progress } from '../cli/progress.js';
import { buildHtmlReport } from '../report/html/index.js';
import { openTrace } from '../trace/reader.js';
import { writeOutputFile } from '../trace/output-file.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write a self-contained HTML report: rate timelines, novelty, libraries, tampering, anomalies')
    .argument('<trace>', 'a .parquet trace, or the .arrows stream of a recording')
    .option('-b, --baseline <file>', 'baseline written by gpo train: adds anomalies and comparisons')
    .requiredOption('-o, --output <file>', 'the HTML file to write')
    .action(async (path: string, opts: { baseline?: string; output: string }) => {
      const baseline = opts.baseline === undefined ? null : readBaseline(opts.baseline);
      const trace = await openTrace(path);
      const status = progress('report: reading', { total: trace.numRows });
      const page = await buildHtmlReport(trace, baseline, { baselinePath: opts.baseline ?? null, progress: status });
      status.finish();
      writeOutputFile(opts.output, page);
      process.stderr.write(`gpo: wrote ${esc(opts.output)} (${Math.round(page.length / 1024)} KB)\n`);
    });
}
