// The typed-array count table under syscall windows: counts survive the table growing, also for the key
// whose insertion makes it grow.
import { describe, expect, it } from 'vitest';
import { PackedCountTable } from '../../src/model/packed-count-table.js';

describe('PackedCountTable', () => {
  it('keeps every count across growth, including the key that triggered it', () => {
    const table = new PackedCountTable(8); // 16 slots: grows on the 9th key, then the 17th, 33rd ...
    const keys = Array.from({ length: 100 }, (_, i) => i * 2 ** 40 + i);
    keys.forEach((k, i) => expect(table.add(k, i + 1)).toBe(i + 1));
    expect(table.size).toBe(100);
    keys.forEach((k, i) => expect(table.get(k)).toBe(i + 1));
    expect(table.get(7)).toBe(0);
  });

  it('sets values across growth and lists keys in ascending order', () => {
    const table = new PackedCountTable(1);
    for (const k of [5, 3, 2 ** 52, 1, 4, 9, 8, 7, 6, 2]) table.set(k, -k);
    expect([...table.sortedKeys()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 2 ** 52]);
    for (const k of table.sortedKeys()) expect(table.get(k)).toBe(-k);
  });
});
