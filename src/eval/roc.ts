// ROC analysis of anomaly scores: higher score = more anomalous, a sequence is flagged when score >= threshold.

export interface RocPoint {
  fpr: number;
  tpr: number;
  /** Flag scores >= threshold; null for the first point, which flags nothing. */
  threshold: number | null;
}

export interface RocSummary {
  auc: number;
  /** Lowest false-alarm rate among thresholds that detect at least 90% of the attacks. */
  fpr_at_90_dr: number;
  /** Highest detection rate among thresholds with at most 1% false alarms. */
  dr_at_1_fpr: number;
  roc: RocPoint[];
}

/** One ROC point per distinct score (tied scores move both rates at once), from (0,0) to (1,1). */
export function rocCurve(normalScores: ArrayLike<number>, attackScores: ArrayLike<number>): RocPoint[] {
  if (normalScores.length === 0 || attackScores.length === 0) throw new RangeError('ROC needs normal and attack scores');
  const labelled: [number, boolean][] = [];
  for (let i = 0; i < normalScores.length; i++) labelled.push([checked(normalScores[i]!), false]);
  for (let i = 0; i < attackScores.length; i++) labelled.push([checked(attackScores[i]!), true]);
  labelled.sort((a, b) => b[0] - a[0]);
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: null }];
  let falseAlarms = 0;
  let detections = 0;
  for (let i = 0; i < labelled.length;) {
    const threshold = labelled[i]![0];
    for (; i < labelled.length && labelled[i]![0] === threshold; i++) {
      if (labelled[i]![1]) detections++;
      else falseAlarms++;
    }
    points.push({ fpr: falseAlarms / normalScores.length, tpr: detections / attackScores.length, threshold });
  }
  return points;
}

/** Area under the ROC curve by the trapezoid rule (a tie between a normal and an attack counts one half). */
export function areaUnderCurve(points: readonly RocPoint[]): number {
  let area = 0;
  for (let i = 1; i < points.length; i++) {
    area += ((points[i]!.fpr - points[i - 1]!.fpr) * (points[i]!.tpr + points[i - 1]!.tpr)) / 2;
  }
  return area;
}

export function summarizeRoc(normalScores: ArrayLike<number>, attackScores: ArrayLike<number>): RocSummary {
  const roc = rocCurve(normalScores, attackScores);
  let fprAt90 = 1;
  let drAt1 = 0;
  for (const point of roc) {
    if (point.tpr >= 0.9) fprAt90 = Math.min(fprAt90, point.fpr);
    if (point.fpr <= 0.01) drAt1 = Math.max(drAt1, point.tpr);
  }
  return { auc: areaUnderCurve(roc), fpr_at_90_dr: fprAt90, dr_at_1_fpr: drAt1, roc };
}

function checked(score: number): number {
  if (Number.isNaN(score)) throw new RangeError('anomaly score is NaN');
  return score;
}
