// The pool of thread names the scorers keep per thread: one entry per distinct name, at most `limit`.
import { describe, expect, it } from 'vitest';
import { StringPool } from '../../src/detectors/string-ids.js';

describe('StringPool', () => {
  it('gives back the value, pooling each distinct string once up to its limit', () => {
    const pool = new StringPool(3);
    const decoded = (name: string) => [...name].join(''); // a new string of the same text, as a decoded row
    for (let i = 0; i < 100; i++) expect(pool.get(decoded(i % 2 === 0 ? 'main' : 'worker'))).toBe(i % 2 === 0 ? 'main' : 'worker');
    expect(pool.size).toBe(2);
    for (const name of ['a', 'b', 'c', 'd']) expect(pool.get(name)).toBe(name);
    expect(pool.size).toBe(3); // 'a' pooled, then full: 'b' .. 'd' given back as they are
    expect(pool.get('')).toBe('');
    expect(pool.size).toBe(3);
  });
});
