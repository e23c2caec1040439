// A process's open rate window keeps its counts in a list while it has few keys and in a flat array once it
// has more than LISTED_KEYS: either way, and across the switch, the closed windows hold the exact counts.
import { describe, expect, it } from 'vitest';
import { GroupWindow, LISTED_CALLS, LISTED_KEYS, WindowCounter, type RateWindow } from '../../src/model/rates.js';

/** The window's keys and counts as a map. */
function tallyOf(window: GroupWindow): Map<number, number> {
  const { keys, counts } = window.tally();
  expect(keys).toEqual([...keys].sort((a, b) => a - b));
  return new Map(keys.map((key, i) => [key, counts[i]!]));
}

describe('GroupWindow', () => {
  it('counts in a list up to LISTED_KEYS keys, then in the flat array, exact across the switch', () => {
    const window = new GroupWindow(0);
    const expected = new Map<number, number>();
    const count = (key: number) => {
      window.count(key);
      expected.set(key, (expected.get(key) ?? 0) + 1);
    };
    // Keys outside the flat range (negative, >= 1024) among them, before and after the switch.
    const keys = [5, -1, 5, 2000, 7, 5, ...Array.from({ length: LISTED_KEYS - 4 }, (_, i) => 100 + i)];
    for (const key of keys) count(key);
    expect(window.counts).toBeUndefined();
    expect(tallyOf(window)).toEqual(expected);
    count(999); // one key more than LISTED_KEYS
    expect(window.counts).toBeDefined();
    for (const key of [5, -1, 2000, 999, 3000, 0, 0, -7]) count(key);
    expect(tallyOf(window)).toEqual(expected);
    expect(window.countOf(5)).toBe(4);
    expect(window.countOf(2000)).toBe(2);
    expect(window.countOf(12)).toBe(0);
    window.clear();
    expect(tallyOf(window)).toEqual(new Map());
    // The next window starts from zero in the flat array and the overflow map too.
    window.count(5);
    window.count(2000);
    expect(tallyOf(window)).toEqual(
      new Map([
        [5, 1],
        [2000, 1],
      ]),
    );
  });

  it('gives a process of few keys but many calls the flat array after LISTED_CALLS calls, counts exact', () => {
    const window = new GroupWindow(0);
    for (let i = 0; i < LISTED_CALLS; i++) window.count(i % 3 === 0 ? 7 : 1500);
    expect(window.counts).toBeUndefined();
    window.clear();
    window.count(7);
    expect(window.counts).toBeDefined();
    window.count(1500);
    window.count(7);
    expect(tallyOf(window)).toEqual(
      new Map([
        [7, 2],
        [1500, 1],
      ]),
    );
  });

  it('starts a window after clear() in the list while the process has no flat array', () => {
    const window = new GroupWindow(0);
    window.count(3);
    window.count(3);
    window.clear();
    window.count(4);
    expect(window.counts).toBeUndefined();
    expect(tallyOf(window)).toEqual(new Map([[4, 1]]));
    expect(window.countOf(3)).toBe(0);
  });
});

describe('WindowCounter', () => {
  it('closes the same windows from rows as from calls one by one, for many processes of few and many keys', () => {
    let seed = 5;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const rows = 20_000;
    const pid = new Int32Array(rows);
    const nr = new Int16Array(rows);
    const ts = new BigInt64Array(rows);
    for (let row = 0; row < rows; row++) {
      // Process 1 calls up to 60 keys (flat array), the others 1-4 (a list); a few keys out of range.
      pid[row] = random() < 0.5 ? 1 : 2 + Math.floor(random() * 300);
      const spread = pid[row] === 1 ? 60 : 4;
      nr[row] = random() < 0.01 ? -5 : random() < 0.01 ? 1500 : Math.floor(random() * spread);
      ts[row] = 1000n + BigInt(row) * 300_000n; // windows of 100 ms: 333 calls each
    }
    const fromRows: RateWindow[] = [];
    const byCall: RateWindow[] = [];
    const counter = new WindowCounter(100_000_000, (w) => fromRows.push(w));
    counter.addRows(pid, nr, ts, 1000n, rows / 2, []);
    counter.addRows(pid.subarray(rows / 2), nr.subarray(rows / 2), ts.subarray(rows / 2), 1000n, rows / 2, []);
    counter.finish(true);
    const one = new WindowCounter(100_000_000, (w) => byCall.push(w));
    for (let row = 0; row < rows; row++) one.add(pid[row]!, nr[row]!, Number(ts[row]! - 1000n));
    one.finish(true);
    expect(fromRows).toEqual(byCall);
    // Against counts taken directly: every call is in exactly one window of its process.
    const calls = new Map<string, number>();
    for (let row = 0; row < rows; row++) calls.set(`${pid[row]} ${nr[row]}`, (calls.get(`${pid[row]} ${nr[row]}`) ?? 0) + 1);
    const counted = new Map<string, number>();
    for (const w of fromRows) w.keys.forEach((key, i) => counted.set(`${w.group} ${key}`, (counted.get(`${w.group} ${key}`) ?? 0) + w.counts[i]!));
    expect(counted).toEqual(calls);
    expect(fromRows.filter((w) => w.group === 1 && w.keys.length > LISTED_KEYS).length).toBeGreaterThan(0);
  });
});
