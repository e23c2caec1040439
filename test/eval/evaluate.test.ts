import { describe, expect, it } from 'vitest';
import { GpoError } from '../../src/errors.js';
import { evaluate } from '../../src/eval/evaluate.js';

const mini = 'test/fixtures/datasets/adfa-mini';

describe('evaluate', () => {
  it('trains, scores and summarizes a tiny labelled set', () => {
    const result = evaluate({ format: 'adfa-ld', train: [`${mini}/train`], normal: [`${mini}/normal`], attack: [`${mini}/attack`] });
    expect(result.n_normal).toBe(3);
    expect(result.n_attack).toBe(2);
    // a2 is a copy of n3: they tie; a1 (unseen syscall 9) beats every normal -> AUC = (3 + 2.5) / 6
    expect(result.auc).toBeCloseTo(5.5 / 6, 12);
    expect(result.dr_at_1_fpr).toBe(0.5);
    expect(result.roc[0]).toEqual({ fpr: 0, tpr: 0, threshold: null });
    expect(result.roc.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
  });

  it('is deterministic', () => {
    const input = { format: 'adfa-ld', train: [`${mini}/train`], normal: [`${mini}/normal`], attack: [`${mini}/attack`] };
    expect(JSON.stringify(evaluate(input))).toBe(JSON.stringify(evaluate(input)));
  });

  it('fails with one-line GpoErrors on bad input', () => {
    const base = { format: 'adfa-ld', train: [`${mini}/train`], normal: [`${mini}/normal`], attack: [`${mini}/attack`] };
    expect(() => evaluate({ ...base, format: 'pcap' })).toThrow(GpoError);
    expect(() => evaluate({ ...base, attack: [`${mini}/missing`] })).toThrow(/no such file or directory/);
    expect(() => evaluate({ ...base, attack: [] })).toThrow(/no attack sequences/);
  });
});
