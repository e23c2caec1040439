// gpo train TRACE... -o baseline.json: learns a baseline from normal recordings of one program;
// gpo train --merge A.json B.json... -o C.json: one baseline from baselines trained apart.
import type { Command } from 'commander';
import { progress } from '../cli/progress.js';
import { readAllowFile } from '../detectors/allow-file.js';
import { learningStatus } from '../baseline/learning.js';
import { mergeBaselineFiles } from '../train/merge.js';
import { baselineText, trainBaseline, type TrainResult } from '../train/train.js';
import { escapeJson, escapeTerminal as esc } from '../cli/escape.js';
import { formatCount } from '../cli/format.js';
import { expandTraceInputs } from '../trace/inputs.js';
import { writeOutputFile } from '../trace/output-file.js';

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('learn a baseline (syscall windows, rates, libraries, children, allowed acts) from normal recordings')
    .argument('<inputs...>', 'normal recordings of one program (.parquet or .arrows), folders (every *.parquet below) or quoted globs; with --merge, baselines')
    .requiredOption('-o, --output <file>', 'baseline file to write')
    .option('--merge', 'merge baselines trained apart on disjoint recordings (docs/baseline.md says what is exact)')
    .option('--allow <file>', 'add the user exceptions of an allow file to the baseline (docs/baseline.md)')
    .option('--json', 'print a JSON summary instead of text')
    .action(async (paths: string[], opts: { output: string; merge?: boolean; allow?: string; json?: boolean }) => {
      // Read first, so a bad allow file stops before the training pass.
      const allow = opts.allow === undefined ? undefined : readAllowFile(opts.allow);
      let trained: TrainResult;
      if (opts.merge) trained = mergeBaselineFiles(paths);
      else {
        const status = progress('train');
        trained = await trainBaseline(expandTraceInputs(paths), { progress: status });
        status.finish();
      }
      const { warnings } = trained;
      const baseline = allow ? allow(trained.baseline).document : trained.baseline;
      writeOutputFile(opts.output, baselineText(baseline));
      for (const warning of warnings) process.stderr.write(`gpo: warning: ${esc(warning)}\n`);
      const c = baseline.calibration;
      const m = baseline.model;
      const summary = {
        output: opts.output,
        traces: baseline.trained_on.traces.length,
        syscalls: baseline.trained_on.traces.reduce((sum, t) => sum + t.syscalls, 0),
        distinct_windows: Object.keys(m.windows.windows).length,
        window_length: m.windows.windowLength,
        calibration: c.method,
        frame_threshold: m.thresholds.frameNovelty,
        high_frame_novelty: c.novel_sequence_high_frame_novelty,
        rate_z: c.rate_deviation.z,
        libraries: baseline.libraries.mappings.length,
        allowed: Object.keys(baseline.allowed).length,
        learning: learningStatus(baseline),
        warnings,
      };
      if (opts.json) {
        process.stdout.write(escapeJson(summary));
        return;
      }
      process.stdout.write(
        [
          `baseline  ${esc(opts.output)}: ${summary.traces} trace${summary.traces === 1 ? '' : 's'}, ${formatCount(summary.syscalls)} syscalls`,
          `windows   ${formatCount(summary.distinct_windows)} distinct windows of ${summary.window_length} syscalls`,
          `threshold ${c.method}: frame novelty >= ${summary.frame_threshold} medium, >= ${summary.high_frame_novelty} high; rate z >= ${summary.rate_z} (${c.rate_deviation.method})`,
          `profile   ${summary.libraries} executable mappings, ${baseline.process.children.length} child programs, ${summary.allowed} allowed acts`,
          `learning  ${summary.learning.summary}`,
        ].join('\n') + '\n',
      );
    });
}
