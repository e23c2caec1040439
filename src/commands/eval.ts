// gpo eval: how well the anomaly model separates normal from attack sequences of a public dataset.
import type { Command } from 'commander';
import { escapeJson } from '../cli/escape.js';
import { GpoError } from '../errors.js';
import { adfaLdProtocols, ADFA_LD_PROTOCOL_NAMES } from '../eval/adfa-ld-protocols.js';
import { evaluate, type EvaluationResult } from '../eval/evaluate.js';
import { SEQUENCE_FORMATS } from '../import/load.js';

interface EvalFlags {
  format: string;
  train?: string[];
  normal?: string[];
  attack?: string[];
  dataset?: string;
  protocol?: string;
  json?: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('train on normal sequences, score normal and attack sequences, report ROC AUC and alarm rates')
    .requiredOption('--format <format>', `input format: ${SEQUENCE_FORMATS.join(', ')}`)
    .option('--train <path...>', 'training files or directories (recursive)')
    .option('--normal <path...>', 'normal test files or directories')
    .option('--attack <path...>', 'attack test files or directories')
    .option('--dataset <dir>', 'ADFA-LD root folder, split by --protocol instead of --train/--normal/--attack')
    .option('--protocol <name>', `with --dataset: ${[...ADFA_LD_PROTOCOL_NAMES, 'all'].join(', ')} (default: all)`)
    .option('--json', 'print the full result (with ROC points) as JSON')
    .action((flags: EvalFlags) => {
      const runs = evaluationRuns(flags);
      if (flags.json) {
        const json = flags.dataset === undefined ? runs[0]!.result : runs.map(({ protocol, result }) => ({ protocol, ...result }));
        process.stdout.write(escapeJson(json));
        return;
      }
      runs.forEach(({ protocol, description, result }, index) => {
        if (protocol !== undefined) process.stdout.write(`${index === 0 ? '' : '\n'}protocol ${protocol}: ${description}\n`);
        printResult(result);
      });
    });
}

interface EvaluationRun {
  protocol?: string;
  description?: string;
  result: EvaluationResult;
}

function evaluationRuns(flags: EvalFlags): EvaluationRun[] {
  const paths = [flags.train, flags.normal, flags.attack];
  if (flags.dataset === undefined) {
    const [train, normal, attack] = paths;
    if (train === undefined || normal === undefined || attack === undefined) throw new GpoError('give --train, --normal and --attack, or --dataset');
    if (flags.protocol !== undefined) throw new GpoError('--protocol needs --dataset');
    return [{ result: evaluate({ format: flags.format, train, normal, attack }) }];
  }
  if (paths.some((path) => path !== undefined)) throw new GpoError('--dataset splits the data itself: drop --train, --normal and --attack');
  if (flags.format !== 'adfa-ld') throw new GpoError(`--dataset splits ADFA-LD only (not ${flags.format})`);
  return adfaLdProtocols(flags.protocol ?? 'all').map((protocol) => ({
    protocol: protocol.name,
    description: protocol.description,
    result: evaluate({ format: flags.format, ...protocol.split(flags.dataset!) }),
  }));
}

function printResult(result: EvaluationResult): void {
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
}

function percent(rate: number): string {
  return `${(100 * rate).toFixed(1)}%`;
}
