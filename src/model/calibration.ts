// Thresholds learned from the training sequences themselves: k-fold, each fold scored by a profile trained
// on the other folds, so the thresholds reflect how novel unseen-but-normal behaviour looks.
import { quantileSorted } from 'simple-statistics';
import { combinedScore, type ComponentScale, type ScoreScales, type SequenceScore } from './sequence-detector.js';

export interface CalibrationOptions {
  /** Folds of the training sequences (sequence i goes to fold i mod folds). */
  folds: number;
  /** Share of held-out normal sequences whose score may reach the sequence threshold. */
  sequenceFalseAlarmRate: number;
  /** Share of held-out normal windows whose frame novelty may reach the frame threshold. */
  windowFalseAlarmRate: number;
}

export const DEFAULT_CALIBRATION: CalibrationOptions = { folds: 5, sequenceFalseAlarmRate: 0.01, windowFalseAlarmRate: 1e-3 };

/**
 * Smallest scale of a score component (nats per call): when held-out sequences all score alike, a
 * component still cannot turn a tiny difference into a huge normalized score.
 */
export const MIN_COMPONENT_SCALE = 0.01;

export interface Thresholds {
  /** Location and scale of each score component among held-out sequences: the score adds them normalized. */
  scales: ScoreScales;
  /** A sequence whose score is at least this is anomalous. */
  score: number;
  /**
   * A window whose frame novelty (SequenceScore.frameNoveltyHistogram) is at least this is anomalous
   * (frameLength * windowLength + 1: never).
   */
  frameNovelty: number;
}

export interface CalibrationEvidence {
  folds: number;
  heldOutSequences: number;
  heldOutWindows: number;
  /** Share of held-out windows at or above the frame novelty threshold. */
  heldOutWindowFalseAlarmRate: number;
}

/**
 * `scoreFold(train, heldOut)` trains on `train` and scores each `heldOut` sequence. Needs two sequences.
 */
export function calibrateThresholds<T>(
  sequences: readonly T[],
  scoreFold: (train: T[], heldOut: T[]) => SequenceScore[],
  options: CalibrationOptions = DEFAULT_CALIBRATION,
): { thresholds: Thresholds; evidence: CalibrationEvidence } {
  if (sequences.length < 2) throw new RangeError('calibration needs at least two training sequences');
  const folds = Math.min(options.folds, sequences.length);
  const scores: SequenceScore[] = [];
  for (let fold = 0; fold < folds; fold++) {
    const train = sequences.filter((_, i) => i % folds !== fold);
    const heldOut = sequences.filter((_, i) => i % folds === fold);
    for (const score of scoreFold(train, heldOut)) scores.push(score); // not push(...): folds can hold more than the stack takes
  }
  return thresholdsFromHeldOut(scores, folds, options);
}

/** Thresholds from the scores of held-out normal sequences, each scored by a profile trained without it. */
export function thresholdsFromHeldOut(
  scores: readonly SequenceScore[],
  folds: number,
  options: CalibrationOptions = DEFAULT_CALIBRATION,
): { thresholds: Thresholds; evidence: CalibrationEvidence } {
  if (scores.length === 0) throw new RangeError('calibration needs held-out scores');
  const quantile = 1 - options.sequenceFalseAlarmRate;
  const scales: ScoreScales = {
    surprise: componentScale(
      scores.map((score) => score.surpriseScore),
      quantile,
    ),
    context: componentScale(
      scores.map((score) => score.contextScore),
      quantile,
    ),
  };
  const sequenceScores = scores.map((score) => combinedScore(score.surpriseScore, score.contextScore, scales)).sort((a, b) => a - b);
  const histogram = sumHistograms(scores.map((score) => score.frameNoveltyHistogram));
  const heldOutWindows = histogram.reduce((sum, count) => sum + count, 0);
  const allowed = options.windowFalseAlarmRate * heldOutWindows;
  // Smallest frame novelty that flags few enough held-out windows; it starts at 1 (one unseen window).
  let frameNovelty = histogram.length;
  let flagged = 0;
  for (let novelty = histogram.length - 1; novelty >= 1 && flagged + histogram[novelty]! <= allowed; novelty--) {
    flagged += histogram[novelty]!;
    frameNovelty = novelty;
  }
  return {
    thresholds: { scales, score: quantileSorted(sequenceScores, quantile), frameNovelty },
    evidence: {
      folds,
      heldOutSequences: scores.length,
      heldOutWindows,
      heldOutWindowFalseAlarmRate: heldOutWindows === 0 ? 0 : flagged / heldOutWindows,
    },
  };
}

/** Median and (quantile - median) of held-out values of one score component. */
export function componentScale(values: readonly number[], quantile: number): ComponentScale {
  const sorted = [...values].sort((a, b) => a - b);
  const center = quantileSorted(sorted, 0.5);
  return { center, scale: Math.max(MIN_COMPONENT_SCALE, quantileSorted(sorted, quantile) - center) };
}

/** Windows of a score whose frame novelty reached `frameNovelty`. */
export function windowsAtOrAbove(score: SequenceScore, frameNovelty: number): number {
  let windows = 0;
  for (let novelty = frameNovelty; novelty < score.frameNoveltyHistogram.length; novelty++) windows += score.frameNoveltyHistogram[novelty]!;
  return windows;
}

function sumHistograms(histograms: readonly (readonly number[])[]): number[] {
  const sum = new Array<number>(histograms[0]?.length ?? 1).fill(0);
  for (const histogram of histograms) histogram.forEach((count, index) => (sum[index]! += count));
  return sum;
}
