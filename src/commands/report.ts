// gpo report TRACE [--baseline FILE] -o report.html: one self-contained HTML page with charts.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { readBaseline } from '../detectors/load-baseline.js';
import { GpoError } from '../errors.js';
import { escapeTerminal as esc } from '../cli/escape.js';
import { progress } from '../cli/progress.js';
import { buildHtmlReport } from '../report/html/index.js';
import { openTrace } from '../trace/reader.js';

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
      try {
        writeFileSync(opts.output, page);
      } catch (err) {
        throw new GpoError(`cannot write ${opts.output}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      process.stderr.write(`gpo: wrote ${esc(opts.output)} (${Math.round(page.length / 1024)} KB)\n`);
    });
}
