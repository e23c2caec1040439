import { describe, expect, it } from 'vitest';
import { combinedScore, CONTEXT_CLIP, SequenceDetector, DEFAULT_DETECTOR_OPTIONS } from '../../src/model/sequence-detector.js';
import { NgramLikelihood } from '../../src/model/ngram-likelihood.js';
import { SyscallWindowModel } from '../../src/model/syscall-window-model.js';
import { WindowCursor } from '../../src/model/window-cursor.js';

const options = { ...DEFAULT_DETECTOR_OPTIONS, frameLength: 3 };

describe('SequenceDetector', () => {
  const cyclic = new SyscallWindowModel(2).train([[1, 2, 3, 1, 2, 3, 1]]);

  it('reports one unseen window as one anomaly at its position', () => {
    const score = new SequenceDetector(cyclic, options).score([1, 2, 3, 2, 3]);
    expect(score.windows).toBe(4);
    expect(score.mismatches).toBe(1);
    expect(score.mismatchRate).toBe(0.25);
    expect(score.anomalies).toEqual([{ first: 2, last: 3, window: [3, 2], unseenWindows: 1, maxFrameNovelty: 1 }]);
  });

  it('merges overlapping unseen windows and reports syscalls training never saw', () => {
    const score = new SequenceDetector(cyclic, options).score([1, 2, 99, 3, 1, 2, 1, 3]);
    expect(score.anomalies.map(({ first, last, window, unseenWindows }) => ({ first, last, window, unseenWindows }))).toEqual([
      { first: 1, last: 3, window: [2, 99], unseenWindows: 2 },
      { first: 5, last: 7, window: [2, 1], unseenWindows: 2 },
    ]);
  });

  it('sums window novelty over the locality frame', () => {
    // windows: 12 ok, 21 x, 13 x, 31 ok, 12 ok, 22 x, each unseen one of known calls (novelty 1)
    // -> frame novelty over 3 windows: 0 1 2 2 1 1, of at most 3 * 2
    const score = new SequenceDetector(cyclic, options).score([1, 2, 1, 3, 1, 2, 2]);
    expect(score.frameNoveltyHistogram).toEqual([1, 3, 2, 0, 0, 0, 0]);
    expect(score.maxFrameNovelty).toBe(2);
  });

  it('counts every unseen suffix of an unseen window: a new syscall or a new pair weighs more', () => {
    // windows: 12 ok, 2-99 (99 never trained: both suffixes unseen, 2), 99-3 (3 known: 1) -> frames 0 2 3
    const withNewCall = new SequenceDetector(cyclic, options).score([1, 2, 99, 3]);
    expect(withNewCall.frameNoveltyHistogram).toEqual([1, 0, 1, 1, 0, 0, 0]);
    expect(withNewCall.anomalies[0]!.maxFrameNovelty).toBe(3);
    // k = 3: 123 ok, 231 ok, 313 (pair 13 never trained: 2), 131 (pair 31 known: 1) -> frames 0 0 2 3
    const triples = new SyscallWindowModel(3).train([[1, 2, 3, 1, 2, 3, 1]]);
    const newPair = new SequenceDetector(triples, options).score([1, 2, 3, 1, 3, 1]);
    expect(newPair.mismatches).toBe(2);
    expect(newPair.frameNoveltyHistogram).toEqual([2, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('knows trained windows whose calls the model is certain of (probability rounding to 1)', () => {
    // 10000 alternating calls: every order predicts the next call with probability 1 - (tiny), = 1 in doubles
    const alternating = Array.from({ length: 10000 }, (_, i) => 1 + (i % 2));
    const model = new SyscallWindowModel(6).train([alternating]);
    const score = new SequenceDetector(model, DEFAULT_DETECTOR_OPTIONS).score(alternating.slice(0, 100));
    expect(score.mismatches).toBe(0);
    expect(score.maxFrameNovelty).toBe(0);
  });

  it('finds no anomaly in the training data itself', () => {
    const score = new SequenceDetector(cyclic, options).score([1, 2, 3, 1, 2, 3, 1]);
    expect(score.mismatches).toBe(0);
    expect(score.anomalies).toEqual([]);
  });

  it('scores batch by batch exactly as whole, thread by thread', () => {
    const sequence = [1, 2, 99, 3, 1, 2, 1, 3, 3, 1];
    const whole = new SequenceDetector(cyclic, options).score(sequence);
    const detector = new SequenceDetector(cyclic, options);
    for (let i = 0; i < sequence.length; i++) {
      detector.observe('a', sequence.slice(i, i + 1));
      detector.observe('b', [1, 2, 3]); // another thread interleaved
    }
    expect(detector.finish('a')).toEqual(whole);
    expect(detector.finish('a').calls).toBe(0); // finished threads are forgotten
  });

  it('scores many threads fed in lockstep exactly as each alone (one cursor and scratch serve them all)', () => {
    // Threads at the same positions with different calls: a cursor or count left from another thread shows.
    const sequences = [
      [1, 2, 3, 1, 2, 3, 1, 2],
      [3, 1, 2, 99, 1, 3, 2, 1],
      [2, 2, 1, 3, 3, 1, 99, 99],
      [1, 3, 2, 1, 3, 2, 1, 3],
    ];
    const detector = new SequenceDetector(cyclic, options);
    for (let i = 0; i < 8; i += 2) sequences.forEach((sequence, thread) => detector.observe(thread, sequence.slice(i, i + 2)));
    sequences.forEach((sequence, thread) => {
      const alone = new SequenceDetector(cyclic, options).score(sequence);
      expect(detector.finish(thread)).toEqual(alone);
    });
    expect(new Set(sequences.map((sequence) => new SequenceDetector(cyclic, options).score(sequence).score)).size).toBe(4);
  });

  it('measures surprise under the interpolated n-gram model and the sequence own entropy', () => {
    const model = new SyscallWindowModel(2).train([[1, 2, 1, 2]]);
    const score = new SequenceDetector(model, options).score([1, 2]);
    // unigram: P(1) = (2 + 2/3) / (4 + 2) = 4/9; bigram: P(2|1) = (2 + 1 * P(2)) / (2 + 1) with P(2) = 4/9.
    const expected = (-Math.log(4 / 9) - Math.log((2 + 4 / 9) / 3)) / 2;
    expect(score.meanSurprise).toBeCloseTo(expected, 12);
    expect(score.selfEntropy).toBeCloseTo(Math.log(2), 12);
    expect(score.surpriseScore).toBeCloseTo(expected - Math.log(2), 12);
    // window length 2: the full order is the short context, so the context score is 0 and the
    // uncalibrated score (unit scales) is the surprise score
    expect(score.contextScore).toBe(0);
    expect(score.score).toBe(score.surpriseScore);
  });

  describe('context score', () => {
    // After 2, training continues with 3 when 1 came before and with 5 when 4 came before.
    const model = new SyscallWindowModel(3).train([Array<number[]>(10).fill([1, 2, 3]).flat(), Array<number[]>(10).fill([4, 2, 5]).flat()]);
    const detector = new SequenceDetector(model, options);

    it('is 0 while the context is no longer than one call', () => {
      expect(detector.score([1, 2]).contextScore).toBe(0);
      expect(detector.score([2]).contextScore).toBe(0);
    });

    it('is negative when the long context predicts better than the last call alone', () => {
      // Witten-Bell: P(3) = (10 + 5/6) / (60 + 5) = 1/6; P(3 | 2) = (10 + 2/6) / (20 + 2) = 31/66;
      // P(3 | 1 2) = (10 + 31/66) / (10 + 1) = 691/726. The first two calls have no longer context: 0.
      expect(detector.score([1, 2, 3]).contextScore).toBeCloseTo(Math.log(31 / 66 / (691 / 726)) / 3, 12);
    });

    it('clamps each call where the long context misleads to CONTEXT_CLIP nats', () => {
      // 5 after 1 2 was never seen: P(5 | 1 2) = P(5 | 2) / 11, and ln 11 > CONTEXT_CLIP
      expect(detector.score([1, 2, 5]).contextScore).toBe(CONTEXT_CLIP / 3);
    });

    it('scores a thread batch by batch as whole', () => {
      const whole = detector.score([1, 2, 5, 4, 2, 3, 1, 2]);
      const streaming = new SequenceDetector(model, options);
      for (const call of [1, 2, 5, 4, 2, 3, 1, 2]) streaming.observe('t', [call]);
      expect(streaming.finish('t')).toEqual(whole);
    });

    it('is combined with the surprise score by the given scales', () => {
      const scales = { surprise: { center: 1, scale: 2 }, context: { center: -0.5, scale: 0.25 } };
      const score = new SequenceDetector(model, options, scales).score([1, 2, 5]);
      expect(score.score).toBe((score.surpriseScore - 1) / 2 + (score.contextScore + 0.5) / 0.25);
      expect(combinedScore(3, 0.5, scales)).toBe(1 + 4);
    });
  });

  it('counts rare trained windows (t-stide)', () => {
    const model = new SyscallWindowModel(2).train([[1, 1, 1, 1, 1, 1, 1, 1, 1, 2]]);
    const score = new SequenceDetector(model, { ...options, rareFraction: 0.2 }).score([1, 1, 2]);
    expect(score.rareWindows).toBe(1); // [1, 2] is 1 of 9 windows
  });
});

// The detector's loops keep the window cursor in locals and precompute each trained window's terms; this
// follows the definitions call by call through the public model API and must give the same numbers.
describe('SequenceDetector against its definition, call by call', () => {
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  /** Calls from a small chain with some randomness; `unseen` adds syscalls training never has. */
  const sequence = (length: number, unseen: boolean) => {
    const out: number[] = [];
    let state = 0;
    for (let i = 0; i < length; i++) {
      state = random() < 0.8 ? (state * 3 + 1) % 7 : Math.floor(random() * 7);
      out.push(unseen && random() < 0.02 ? 200 + Math.floor(random() * 3) : state);
    }
    return out;
  };
  const frameLength = 5;

  function reference(model: SyscallWindowModel, calls: number[]) {
    const likelihood = new NgramLikelihood(model);
    const k = model.windowLength;
    const cursor = new WindowCursor(k);
    const histogram = new Array<number>(frameLength * k + 1).fill(0);
    const frame: number[] = [];
    let surpriseSum = 0;
    let contextSum = 0;
    let mismatches = 0;
    for (const nr of calls) {
      cursor.push(model.vocabulary.symbolOf(nr));
      const surprise = likelihood.surprise(cursor);
      surpriseSum += surprise;
      contextSum += Math.max(-CONTEXT_CLIP, Math.min(CONTEXT_CLIP, surprise - likelihood.shortContextSurprise(cursor)));
      if (cursor.available < k) continue;
      let novelty = 0;
      if (model.count(k, cursor.key) === 0) {
        mismatches++;
        novelty = k;
        for (let n = k - 1; n >= 1; n--)
          if (model.count(n, cursor.keys[n - 1]!) > 0) {
            novelty = k - n;
            break;
          }
      }
      frame.push(novelty);
      if (frame.length > frameLength) frame.shift();
      histogram[frame.reduce((a, b) => a + b, 0)]!++;
    }
    return { meanSurprise: surpriseSum / calls.length, contextScore: contextSum / calls.length, mismatches, histogram };
  }

  for (const k of [1, 2, 3, 4, 5, 6]) {
    it(`gives the definition's numbers with windows of ${k} call${k === 1 ? '' : 's'}, in batches of any size`, () => {
      const model = new SyscallWindowModel(k).train([sequence(3000, false), sequence(2000, false)]);
      const calls = sequence(1500, true);
      const expected = reference(model, calls);
      const detector = new SequenceDetector(model, { ...DEFAULT_DETECTOR_OPTIONS, frameLength });
      for (let at = 0; at < calls.length;) {
        const size = 1 + Math.floor(random() * 40);
        detector.observe('t', calls.slice(at, at + size));
        at += size;
      }
      const score = detector.finish('t');
      expect(score.mismatches).toBeGreaterThan(0);
      expect(score.mismatches).toBe(expected.mismatches);
      expect(score.frameNoveltyHistogram).toEqual(expected.histogram);
      expect(score.meanSurprise).toBe(expected.meanSurprise);
      expect(score.contextScore).toBe(expected.contextScore);
      // Each run's first unseen window, as called, also when it began in an earlier batch.
      expect(score.anomalies.length).toBeGreaterThan(0);
      for (const run of score.anomalies) expect(run.window).toEqual(calls.slice(run.first, run.first + k));
    });
  }
});
