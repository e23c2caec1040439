// Train and score walk syscall rows thread by thread: groupThreads (one pass for batches of few threads,
// a counting sort for more) must give exactly the groups the definition says.
import { describe, expect, it } from 'vitest';
import { groupThreads } from '../../src/trace/batch-view.js';

/** The groups as the definition says: rows with a syscall, by thread in order of first row, in row order. */
function naiveGroups(tid: Int32Array, nr: Int16Array, events: Set<number>) {
  const byThread = new Map<number, number[]>();
  tid.forEach((t, row) => {
    if (events.has(row)) return;
    if (!byThread.has(t)) byThread.set(t, []);
    byThread.get(t)!.push(row);
  });
  const order = [...byThread.values()].flat();
  const starts = [0];
  for (const rows of byThread.values()) starts.push(starts.at(-1)! + rows.length);
  return { tids: [...byThread.keys()], starts, order, nrs: order.map((row) => nr[row]!) };
}

describe('groupThreads', () => {
  it('groups rows by thread, events left out, with few threads (one pass) and many (sorted)', () => {
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (const threads of [1, 3, 8, 9, 40, 5000]) {
      const rows = 20_000;
      // tids 4096 apart collide in the direct-mapped tid cache: every lookup must be verified.
      const tid = Int32Array.from({ length: rows }, () => 100 + Math.floor(next() * threads) * (threads > 100 ? 1 : 4096));
      const nr = Int16Array.from({ length: rows }, () => Math.floor(next() * 400));
      const eventRows = [...Array(rows).keys()].filter(() => next() < 0.01);
      const groups = groupThreads(tid, nr, rows, eventRows);
      const expected = naiveGroups(tid, nr, new Set(eventRows));
      expect(groups.tids).toEqual(expected.tids);
      expect([...groups.starts]).toEqual(expected.starts);
      expect([...groups.order]).toEqual(expected.order);
      expect([...groups.nrs]).toEqual(expected.nrs);
    }
  });
});
