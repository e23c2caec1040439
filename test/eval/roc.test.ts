import { describe, expect, it } from 'vitest';
import { areaUnderCurve, rocCurve, summarizeRoc } from '../../src/eval/roc.js';

describe('ROC', () => {
  // pairs (attack, normal): 2>1 win, 2=2 tie, 2<3 loss, 4 beats all three -> (1 + 0.5 + 0 + 3) / 6
  const normal = [1, 2, 3];
  const attack = [2, 4];

  it('has one point per distinct score, ties moving both rates', () => {
    expect(rocCurve(normal, attack)).toEqual([
      { fpr: 0, tpr: 0, threshold: null },
      { fpr: 0, tpr: 0.5, threshold: 4 },
      { fpr: 1 / 3, tpr: 0.5, threshold: 3 },
      { fpr: 2 / 3, tpr: 1, threshold: 2 },
      { fpr: 1, tpr: 1, threshold: 1 },
    ]);
  });

  it('computes AUC with ties counting one half, and the operating points', () => {
    const summary = summarizeRoc(normal, attack);
    expect(summary.auc).toBeCloseTo(0.75, 12);
    expect(summary.fpr_at_90_dr).toBeCloseTo(2 / 3, 12);
    expect(summary.dr_at_1_fpr).toBe(0.5);
  });

  it('gives 1 for perfect separation and 0.5 for identical scores', () => {
    expect(areaUnderCurve(rocCurve([0, 1], [2, 3]))).toBe(1);
    expect(areaUnderCurve(rocCurve([5, 5], [5]))).toBe(0.5);
  });

  it('refuses empty classes and NaN scores', () => {
    expect(() => rocCurve([], [1])).toThrow(RangeError);
    expect(() => rocCurve([Number.NaN], [1])).toThrow(/NaN/);
  });
});
