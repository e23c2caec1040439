// A live flush of rate deviations reports a process's open window as soon as it reaches the threshold: the
// window's end, and the process's next call after it, may never come (a target quiet after the act).
// Flushing leaves the state as it is: the end equals scoring without flushes.
import { describe, expect, it } from 'vitest';
import { RateDeviations } from '../../src/detectors/rate-deviation.js';
import type { BatchView } from '../../src/trace/batch-view.js';

const GETPID = 39;
const WINDOW_NS = 1_000_000_000;
/** Normal: about 100 getpid calls a window; z = (count - 100) / 7.41, the threshold 10 is reached at 175, 40 (high) at 397. */
const STATS = new Map([[GETPID, { median: 100, mad: 5, q99: 120, max: 130 }]]);

/** Rows of process `pid`, all getpid, at these times (ns): what the counter reads of a batch. */
function rows(pid: number, times: number[]): BatchView {
  const ts = BigInt64Array.from(times.map(BigInt));
  return {
    rows: times.length,
    ts,
    pid: new Int32Array(times.length).fill(pid),
    tid: new Int32Array(times.length).fill(pid),
    nr: new Int16Array(times.length).fill(GETPID),
    eventRows: [],
    comm: () => 'target',
  } as unknown as BatchView;
}

/** `n` calls evenly spread over [from, from + span) ns. */
const spread = (n: number, from: number, span: number) => Array.from({ length: n }, (_, i) => from + Math.floor((i * span) / n));

function scorer(): { deviations: RateDeviations; feed: (view: BatchView) => void } {
  const deviations = new RateDeviations('rate_deviation', 10, STATS, String, WINDOW_NS);
  const feed = (view: BatchView) => {
    const { counter, base } = deviations.counting(view);
    counter.addRows(view.pid, view.nr, view.ts, base, view.rows, view.eventRows, (pid, row) => deviations.firstCall(pid, view, row));
  };
  return { deviations, feed };
}

describe('rate deviations flushed live', () => {
  it('reports an open window once it reaches the threshold, without waiting for the window to end', () => {
    const { deviations, feed } = scorer();
    feed(rows(7, spread(100, 0, 400_000_000)));
    expect(deviations.flush()).toEqual([]);
    // A burst, then nothing: the window (from 0 to 1 s) never closes before the end of input.
    feed(rows(7, spread(200, 400_000_000, 100_000_000)));
    const flushed = deviations.flush();
    expect(flushed).toHaveLength(1);
    expect(flushed[0]).toMatchObject({
      kind: 'rate_deviation',
      pid: 7,
      tid: 7,
      first_ts_ns: 0n,
      count: 1,
      severity: 'medium',
      evidence: { key: String(GETPID), count: 300 },
    });
    // Flushing again gives the same: the window was looked at, not closed.
    expect(deviations.flush()).toEqual(flushed);
    expect(deviations.finish()).toEqual(flushed);
  });

  it('a window still below the threshold is not reported before it closes', () => {
    const { deviations, feed } = scorer();
    feed(rows(7, spread(150, 0, 900_000_000)));
    expect(deviations.flush()).toEqual([]);
    expect(deviations.finish()).toEqual([]);
  });

  it('an open window at or above the threshold extends its process run; the end equals scoring without flushes', () => {
    const times = [...spread(300, 0, WINDOW_NS), ...spread(1000, WINDOW_NS, 300_000_000)];
    const live = scorer();
    live.feed(rows(7, times.slice(0, 300)));
    expect(live.deviations.flush()).toMatchObject([{ count: 1, severity: 'medium' }]);
    live.feed(rows(7, times.slice(300)));
    // Window 0 closed (medium), window 1 open and already high: one run of two windows, high.
    const flushed = live.deviations.flush();
    expect(flushed).toMatchObject([{ first_ts_ns: 0n, count: 2, severity: 'high', evidence: { count: 1000 } }]);
    const offline = scorer();
    offline.feed(rows(7, times));
    expect(live.deviations.finish()).toEqual(offline.deviations.finish());
    expect(flushed).toEqual(offline.deviations.anomalies);
  });
});
