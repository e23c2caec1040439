// gpo demo: the demo game recorded clean and under each bundled cheat, a baseline trained on the clean
// runs, and a table of what gpo caught. Exit 1 when a cheat went undetected or a clean run alarmed.
import type { Command } from 'commander';
import { formatDuration } from '../cli/format.js';
import { runDemo } from '../demo/run.js';
import { demoJson, formatDemoTable } from '../demo/table.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('record the bundled game clean and under each bundled cheat, train, score, and show what was caught (root)')
    .option('--json', 'print the rows as JSON objects (scenario, detected, kind, summary, latency_ms)')
    .option('--save-recordings <dir>', 'keep the traces, the baseline and a manifest in this directory')
    .option('--live', 'also watch each scenario live (gpo watch) and show the time from the attack to the live alert')
    .option('-q, --quiet', 'no progress lines on stderr')
    .action(async (opts: { json?: boolean; saveRecordings?: string; quiet?: boolean; live?: boolean }) => {
      const progress = opts.quiet ? undefined : (line: string) => process.stderr.write(`gpo demo: ${line}\n`);
      const result = await runDemo({ saveTo: opts.saveRecordings, onProgress: progress, live: opts.live });
      process.stdout.write(opts.json ? demoJson(result.rows) : formatDemoTable(result.rows));
      const failed = result.results.filter((r) => !r.ok).map((r) => r.scenario.name);
      if (!opts.quiet) {
        process.stderr.write(
          `gpo demo: ${formatDuration(result.elapsedMs)}; ${failed.length === 0 ? 'every cheat caught, no high anomaly on clean runs' : `not as expected: ${failed.join(', ')}`}\n`,
        );
      }
      process.exitCode = failed.length === 0 ? 0 : 1;
    });
}
