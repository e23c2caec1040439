// gpo eval: how well the anomaly model separates normal from attack sequences of a public dataset.
import type { Command } from 'commander';
import { escapeJson } from '../cli/escape.js';
import { evaluate } from '../eval/evaluate.js';
import { SEQUENCE_FORMATS } from '../import/load.js';

interface EvalFlags {
  format: string;
  train: string[];
  normal: string[];
  attack: string[];
  json?: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('train on normal sequences, score normal and attack sequences, report ROC AUC and alarm rates')
    .requiredOption('--format <format>', `input format: ${SEQUENCE_FORMATS.join(', ')}`)
    .requiredOption('--train <path...>', 'training files or directories (recursive)')
    .requiredOption('--normal <path...>', 'normal test files or directories')
    .requiredOption('--attack <path...>', 'attack test files or directories')
    .option('--json', 'print the full result (with ROC points) as JSON')
    .action((flags: EvalFlags) => {
      const result = evaluate(flags);
      if (flags.json) {
        process.stdout.write(escapeJson(result));
        return;
      }
      const w = result.windows;
      const rows: [string, string][] = [
        ['sequences (normal / attack)', `${result.n_normal} / ${result.n_attack}`],
        ['ROC AUC', result.auc.toFixed(4)],
        ['false alarms at 90% detection', percent(result.fpr_at_90_dr)],
        ['detection at 1% false alarms', percent(result.dr_at_1_fpr)],
        ['calibrated threshold: false alarms / detection', `${percent(result.calibrated.fpr)} / ${percent(result.calibrated.dr)}`],
        ['window alarms: frame novelty threshold', String(w.frame_threshold)],
        ['window alarms: false positives per window', `${w.window_fpr.toExponential(2)} (${w.normal_flagged_windows} / ${w.normal_windows})`],
        ['window alarms: attack files flagged', `${w.attack_files_flagged} / ${w.attack_files}`],
      ];
      const width = Math.max(...rows.map(([label]) => label.length));
      for (const [label, value] of rows) process.stdout.write(`${label.padEnd(width)}  ${value}\n`);
    });
}

function percent(rate: number): string {
  return `${(100 * rate).toFixed(1)}%`;
}
