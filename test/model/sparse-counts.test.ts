// A thread's symbol counts, kept sparse: batches counted into a shared dense scratch array and added here
// give the counts a dense array per thread would hold, keys ascending, and leave the scratch all zeros.
import { describe, expect, it } from 'vitest';
import { SparseCounts } from '../../src/model/sparse-counts.js';

/** Counts `keys` into the scratch arrays as the detector's loop does; how many keys it touched. */
function countInto(dense: Float64Array, touched: Uint8Array, keys: readonly number[]): number {
  let n = 0;
  for (const key of keys) if (dense[key]!++ === 0) touched[n++] = key;
  return n;
}

describe('SparseCounts', () => {
  it('adds batches as a dense array would, keys ascending, the scratch cleared each time', () => {
    let seed = 11;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const dense = new Float64Array(256);
    const touched = new Uint8Array(256);
    const counts = new SparseCounts();
    const reference = new Float64Array(256);
    for (let batch = 0; batch < 300; batch++) {
      // Batches of old keys only, of new keys, of both; in any order.
      const spread = batch % 3 === 0 ? 256 : 8 + (batch % 40);
      const keys = Array.from({ length: Math.floor(random() * 30) }, () => Math.floor(random() * spread));
      for (const key of keys) reference[key]!++;
      counts.addAndClear(dense, touched, countInto(dense, touched, keys));
      expect(dense.every((value) => value === 0)).toBe(true);
    }
    const listed: [number, number][] = [];
    counts.forEach((key, count) => listed.push([key, count]));
    const expected = [...reference].flatMap((count, key) => (count > 0 ? [[key, count] as [number, number]] : []));
    expect(listed).toEqual(expected);
    expect(counts.size).toBe(expected.length);
    for (let key = 0; key < 256; key++) expect(counts.get(key)).toBe(reference[key]);
  });

  it('starts empty and keeps counts exact beyond 32 bits', () => {
    const counts = new SparseCounts();
    expect(counts.size).toBe(0);
    expect(counts.get(5)).toBe(0);
    const dense = new Float64Array(256);
    const touched = new Uint8Array(256);
    counts.addAndClear(dense, touched, 0);
    expect(counts.size).toBe(0);
    dense[200] = 2 ** 40;
    dense[3] = 1;
    touched.set([200, 3]);
    counts.addAndClear(dense, touched, 2);
    dense[200] = 2 ** 40 + 1;
    touched[0] = 200;
    counts.addAndClear(dense, touched, 1);
    const listed: number[][] = [];
    counts.forEach((key, count) => listed.push([key, count]));
    expect(listed).toEqual([
      [3, 1],
      [200, 2 ** 41 + 1],
    ]);
  });
});
