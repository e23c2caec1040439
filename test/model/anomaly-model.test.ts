import { describe, expect, it } from 'vitest';
import { AnomalyModel } from '../../src/model/anomaly-model.js';
import { calibrateThresholds, componentScale, MIN_COMPONENT_SCALE, thresholdsFromHeldOut } from '../../src/model/calibration.js';
import type { SequenceScore } from '../../src/model/sequence-detector.js';

function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

// Normal behaviour: a loop 1 2 3 4 with occasional 5 after 2; deterministic pseudo-random choices.
function normalSequences(count: number, seed: number): number[][] {
  const random = lcg(seed);
  return Array.from({ length: count }, () => {
    const calls: number[] = [];
    for (let i = 0; i < 60; i++) calls.push(...(random() < 0.1 ? [1, 2, 5, 3, 4] : [1, 2, 3, 4]));
    return calls;
  });
}

describe('AnomalyModel', () => {
  const training = normalSequences(20, 1).map((syscalls) => ({ syscalls }));

  it('trains deterministically: byte-identical JSON and identical scores', () => {
    const first = AnomalyModel.train(training, { windowLength: 4 });
    const second = AnomalyModel.train(training, { windowLength: 4 });
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    const attack = [1, 2, 3, 4, 4, 3, 2, 1, 1, 2, 3, 4];
    expect(second.detector().score(attack)).toEqual(first.detector().score(attack));
    const restored = AnomalyModel.fromJSON(JSON.parse(JSON.stringify(first)));
    expect(restored.detector().score(attack)).toEqual(first.detector().score(attack));
  });

  it('flags a foreign sequence and passes a new normal one', () => {
    const model = AnomalyModel.train(training, { windowLength: 4 });
    const normal = model.detector().score(normalSequences(1, 99)[0]!);
    const attack = model.detector().score([1, 2, 3, 4, 1, 2, 3, 4, 6, 6, 6, 4, 3, 2, 1, 1, 2, 3, 4]);
    expect(model.isAnomalous(normal)).toBe(false);
    expect(model.isAnomalous(attack)).toBe(true);
    expect(model.flaggedWindows(attack)).toBeGreaterThan(0);
    expect(attack.score).toBeGreaterThan(normal.score);
  });
});

describe('calibrateThresholds', () => {
  const score = (value: number, histogram: number[], context = 0): SequenceScore =>
    ({ surpriseScore: value, contextScore: context, frameNoveltyHistogram: histogram }) as SequenceScore;

  it('holds out every sequence once and sets thresholds at the stated rates', () => {
    const heldOut: number[][] = [];
    const sequences = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const { thresholds, evidence } = calibrateThresholds(
      sequences,
      (train, held) => {
        heldOut.push(held);
        expect(train.length + held.length).toBe(10);
        // 1000 windows per sequence; one window with 2 mismatches in sequence 9, three with 1 everywhere
        return held.map((i) => score(i, i === 9 ? [996, 3, 1] : [997, 3, 0]));
      },
      { folds: 5, sequenceFalseAlarmRate: 0.1, windowFalseAlarmRate: 1e-4 },
    );
    expect(heldOut).toEqual([
      [0, 5],
      [1, 6],
      [2, 7],
      [3, 8],
      [4, 9],
    ]);
    // surprise component 0..9: median 4.5, 90th percentile 8.1 (interpolated); context all 0: minimum scale
    expect(thresholds.scales).toEqual({ surprise: { center: 4.5, scale: expect.closeTo(3.6, 12) }, context: { center: 0, scale: MIN_COMPONENT_SCALE } });
    expect(thresholds.score).toBeCloseTo(1, 12); // (8.1 - 4.5) / 3.6: flags only 9
    expect(thresholds.frameNovelty).toBe(2); // 1 of 10000 windows reach 2: within 1e-4
    expect(evidence).toEqual({ folds: 5, heldOutSequences: 10, heldOutWindows: 10000, heldOutWindowFalseAlarmRate: 1e-4 });
  });

  it('adds the components each normalized by its held-out median and quantile', () => {
    // surprise 0..4 (median 2, 75% quantile 3), context 0, 10, ..., 40 reversed (median 20, 75% quantile 30)
    const scores = [0, 1, 2, 3, 4].map((i) => score(i, [10], 10 * (4 - i)));
    const { thresholds } = thresholdsFromHeldOut(scores, 5, { folds: 5, sequenceFalseAlarmRate: 0.25, windowFalseAlarmRate: 1e-3 });
    expect(thresholds.scales).toEqual({ surprise: { center: 2, scale: 1 }, context: { center: 20, scale: 10 } });
    // combined: (i - 2) / 1 + (10 (4 - i) - 20) / 10 = 0 for every sequence
    expect(thresholds.score).toBe(0);
  });

  it('keeps a component scale above the minimum when held-out sequences agree', () => {
    expect(componentScale([0.5, 0.5, 0.5], 0.99)).toEqual({ center: 0.5, scale: MIN_COMPONENT_SCALE });
    expect(componentScale([3, 1, 2], 1)).toEqual({ center: 2, scale: 1 });
  });

  it('never flags windows when even the highest frame novelty is too common', () => {
    const { thresholds } = calibrateThresholds([0, 1], (_, held) => held.map(() => score(0, [1, 1, 1])), {
      folds: 2,
      sequenceFalseAlarmRate: 0.5,
      windowFalseAlarmRate: 1e-3,
    });
    expect(thresholds.frameNovelty).toBe(3);
  });
});
