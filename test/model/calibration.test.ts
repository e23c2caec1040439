import { describe, expect, it } from 'vitest';
import { calibrateThresholds } from '../../src/model/calibration.js';
import type { SequenceScore } from '../../src/model/sequence-detector.js';

describe('calibrateThresholds', () => {
  it('takes folds of more held-out sequences than a call has room for arguments', () => {
    // 1,000,000 training threads: 200,000 held out per fold.
    const sequences = Array.from({ length: 1_000_000 }, (_, i) => i);
    const scoreOf = (i: number) => ({ surpriseScore: i % 7, contextScore: 0, frameNoveltyHistogram: [1] }) as unknown as SequenceScore;
    const { evidence } = calibrateThresholds(sequences, (_train, heldOut) => heldOut.map(scoreOf));
    expect(evidence).toMatchObject({ folds: 5, heldOutSequences: 1_000_000, heldOutWindows: 1_000_000 });
  });
});
