// Trains on normal sequences, scores held-back normal and attack sequences, and reports how well the
// scores separate them: per sequence (ROC) and per window (frame novelty over the last 20 windows, with
// its calibrated threshold).
import { GpoError } from '../errors.js';
import { importSequences } from '../import/load.js';
import type { ImportedSequence } from '../import/sequence.js';
import { AnomalyModel, type AnomalyModelOptions } from '../model/anomaly-model.js';
import { summarizeRoc, type RocPoint } from './roc.js';

export interface EvaluationInput {
  format: string;
  /** Files or directories (recursive) of each role. */
  train: readonly string[];
  normal: readonly string[];
  attack: readonly string[];
  options?: Partial<AnomalyModelOptions>;
}

export interface WindowLevelResult {
  /** Calibrated frame novelty threshold (frameLength * windowLength + 1 means never). */
  frame_threshold: number;
  normal_windows: number;
  normal_flagged_windows: number;
  /** normal_flagged_windows / normal_windows: false positives per window. */
  window_fpr: number;
  /** Attack source files with at least one flagged window, out of all attack source files. */
  attack_files_flagged: number;
  attack_files: number;
}

export interface EvaluationResult {
  auc: number;
  fpr_at_90_dr: number;
  dr_at_1_fpr: number;
  n_normal: number;
  n_attack: number;
  roc: RocPoint[];
  /** Share of normal / attack sequences at or above the calibrated sequence threshold. */
  calibrated: { score_threshold: number; fpr: number; dr: number };
  windows: WindowLevelResult;
}

export function evaluate(input: EvaluationInput): EvaluationResult {
  const load = (role: string, paths: readonly string[]): ImportedSequence[] => {
    const sequences = importSequences(input.format, paths).filter((sequence) => sequence.syscalls.length > 0);
    if (sequences.length === 0) throw new GpoError(`no ${role} sequences in: ${paths.join(' ') || '(no paths)'}`);
    return sequences;
  };
  return evaluateSequences(load('training', input.train), load('normal', input.normal), load('attack', input.attack), input.options);
}

export function evaluateSequences(
  train: readonly ImportedSequence[],
  normal: readonly ImportedSequence[],
  attack: readonly ImportedSequence[],
  options: Partial<AnomalyModelOptions> = {},
): EvaluationResult {
  const model = AnomalyModel.train(train, options);
  const detector = model.detector();
  const normalScores = normal.map((sequence) => detector.score(sequence.syscalls));
  const attackScores = attack.map((sequence) => detector.score(sequence.syscalls));
  const { auc, fpr_at_90_dr, dr_at_1_fpr, roc } = summarizeRoc(
    normalScores.map((score) => score.score),
    attackScores.map((score) => score.score),
  );
  const atThreshold = (scores: { score: number }[]): number => scores.filter((score) => score.score >= model.thresholds.score).length / scores.length;

  let normalWindows = 0;
  let normalFlagged = 0;
  for (const score of normalScores) {
    normalWindows += score.windows;
    normalFlagged += model.flaggedWindows(score);
  }
  const attackFiles = new Map<string, boolean>();
  attack.forEach((sequence, index) => {
    const flagged = model.flaggedWindows(attackScores[index]!) > 0;
    attackFiles.set(sequence.source, (attackFiles.get(sequence.source) ?? false) || flagged);
  });
  return {
    auc,
    fpr_at_90_dr,
    dr_at_1_fpr,
    n_normal: normal.length,
    n_attack: attack.length,
    roc,
    calibrated: { score_threshold: model.thresholds.score, fpr: atThreshold(normalScores), dr: atThreshold(attackScores) },
    windows: {
      frame_threshold: model.thresholds.frameNovelty,
      normal_windows: normalWindows,
      normal_flagged_windows: normalFlagged,
      window_fpr: normalWindows === 0 ? 0 : normalFlagged / normalWindows,
      attack_files_flagged: [...attackFiles.values()].filter(Boolean).length,
      attack_files: attackFiles.size,
    },
  };
}
