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

  it('finds and counts keys given as window halves exactly as given whole', () => {
    // Halves of 6-call windows: high and low are three 8-bit symbols each (key < 2^48).
    const random = (() => {
      let x = 12345;
      return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) % 16777216;
    })();
    const pairs = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? [16777215, 16777215] : [random(), random() & 0xff00ff]));
    const byHalves = new PackedCountTable(4);
    const whole = new PackedCountTable(4);
    for (const [high, low] of pairs) {
      byHalves.addHalves(high!, low!);
      whole.add(high! * 2 ** 24 + low!);
    }
    expect([...byHalves.sortedKeys()]).toEqual([...whole.sortedKeys()]);
    for (const key of whole.sortedKeys()) expect(byHalves.get(key)).toBe(whole.get(key));
    expect(byHalves.get(16777215 * 2 ** 24 + 16777215)).toBe(1000);
    for (const [high, low] of pairs) expect(byHalves.slotOfHalves(high!, low!)).toBe(byHalves.slot(high! * 2 ** 24 + low!));
    expect(byHalves.at(byHalves.slotOfHalves(1, 2))).toBe(byHalves.get(2 ** 24 + 2));
  });
});
