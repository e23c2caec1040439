// The rate model: calls per key (syscall number, library function) per process per window of trace time,
// robust statistics of those rates (median, MAD, q99, max) and how far a window lies from them (robust z). Counting uses flat typed arrays: it runs on every
// syscall of a trace.
import { medianSorted, quantileSorted } from 'simple-statistics';

export interface RateStats {
  median: number;
  /** Median absolute deviation from the median. */
  mad: number;
  q99: number;
  max: number;
}

/** One closed window of one process: its keys and their counts (empty for a window without calls). */
export interface RateWindow {
  group: number;
  /** Trace time offsets (ns from the trace's first row) of the first and last call counted. */
  firstT: number;
  lastT: number;
  keys: number[];
  counts: number[];
  /**
   * How many windows this entry stands for: consecutive windows without calls come as one entry, so a
   * process idle for weeks costs one entry, not one per second.
   */
  windows: number;
}

/** How many windows `entries` stand for. */
export function windowCount(entries: readonly RateWindow[]): number {
  let windows = 0;
  for (const entry of entries) windows += entry.windows;
  return windows;
}

const FLAT_KEYS = 1024;
/**
 * Keys a window of a process may have, and calls the process may make, before it gets its flat array of
 * counts (4 KB): until then they are counted in a list, so the many processes of a few calls each cost a
 * few hundred bytes, and a busy process soon counts a call with one array access.
 */
export const LISTED_KEYS = 16;
export const LISTED_CALLS = 256;

/** One process's open window: its keys and counts, in a list while few, in a flat array once many. */
export class GroupWindow {
  index = 0;
  /**
   * Counts of keys 0 .. FLAT_KEYS - 1, once a window of the process had more than LISTED_KEYS keys or the
   * process made more than LISTED_CALLS calls.
   */
  counts: Int32Array | undefined;
  /** With `counts`: the counts of the keys outside its range. */
  overflow: Map<number, number> | undefined;
  /** The open window's keys in the order of their first call. */
  touched: number[] = [];
  /** Without `counts`: listed[i] is the count of touched[i]. */
  listed: number[] = [];
  /** Calls counted in the list so far, all windows. */
  listedCalls = 0;
  firstT = Number.NaN;
  lastT = Number.NaN;
  constructor(readonly start: number) {}

  /** One more call of `key` in the open window. */
  count(key: number): void {
    const counts = this.counts;
    if (counts !== undefined && key >= 0 && key < FLAT_KEYS) {
      if (counts[key]++ === 0) this.touched.push(key);
    } else this.countOther(key);
  }

  /** The window's keys (ascending) and their counts so far. */
  tally(): { keys: number[]; counts: number[] } {
    const keys = [...this.touched].sort((a, b) => a - b);
    return { keys, counts: keys.map((key) => this.countOf(key)) };
  }

  /** The open window's count of `key` (0 if not called). */
  countOf(key: number): number {
    if (this.counts === undefined) {
      const at = this.touched.indexOf(key);
      return at < 0 ? 0 : this.listed[at]!;
    }
    return key >= 0 && key < FLAT_KEYS ? this.counts[key]! : (this.overflow?.get(key) ?? 0);
  }

  /** count(key) for a key the flat array does not count: no flat array yet, or a key outside its range. */
  countOther(key: number): void {
    if (this.counts === undefined && ++this.listedCalls > LISTED_CALLS) this.flatten();
    if (this.counts === undefined) {
      const at = this.touched.indexOf(key);
      if (at >= 0) {
        this.listed[at]!++;
        return;
      }
      if (this.touched.length === 0) {
        // Exact-size arrays: most windows of a short process have one key.
        this.touched = [key];
        this.listed = [1];
        return;
      }
      if (this.touched.length < LISTED_KEYS) {
        this.touched.push(key);
        this.listed.push(1);
        return;
      }
      this.flatten();
    }
    if (key >= 0 && key < FLAT_KEYS) {
      if (this.counts![key]++ === 0) this.touched.push(key);
      return;
    }
    const overflow = (this.overflow ??= new Map());
    const count = overflow.get(key) ?? 0;
    if (count === 0) this.touched.push(key);
    overflow.set(key, count + 1);
  }

  /** Ends the open window: no keys, no counts. */
  clear(): void {
    if (this.counts !== undefined) for (const key of this.touched) if (key >= 0 && key < FLAT_KEYS) this.counts[key] = 0;
    this.overflow?.clear();
    this.touched = [];
    this.listed = [];
  }

  /** Moves the listed counts to the flat array (and the overflow map), for good. */
  private flatten(): void {
    const counts = (this.counts = new Int32Array(FLAT_KEYS));
    this.touched.forEach((key, i) => {
      if (key >= 0 && key < FLAT_KEYS) counts[key] = this.listed[i]!;
      else (this.overflow ??= new Map()).set(key, this.listed[i]!);
    });
    this.listed = [];
  }
}

/** Counts calls per key in consecutive windows of each group (process), from the group's first call. */
export class WindowCounter {
  private readonly groups = new Map<number, GroupWindow>();
  private lastGroup = -1;
  private last: GroupWindow | undefined;

  constructor(
    readonly windowNs: number,
    private readonly onWindow: (window: RateWindow) => void,
  ) {}

  add(group: number, key: number, t: number): void {
    let state = group === this.lastGroup ? this.last : this.groups.get(group);
    if (state === undefined) {
      state = new GroupWindow(t);
      this.groups.set(group, state);
    }
    this.lastGroup = group;
    this.last = state;
    const index = Math.floor((t - state.start) / this.windowNs);
    if (index > state.index) this.advance(group, state, index);
    if (Number.isNaN(state.firstT)) state.firstT = t;
    state.lastT = t;
    state.count(key);
  }

  /**
   * add(pid[row], nr[row], ts[row] - base) for every row but `skipRows` (ascending), in row order;
   * `onNewGroup` is told the first row of each group never seen before.
   */
  addRows(
    pid: Int32Array,
    nr: Int16Array,
    ts: BigInt64Array,
    base: bigint,
    rows: number,
    skipRows: readonly number[],
    onNewGroup?: (group: number, row: number) => void,
  ): void {
    const windowNs = this.windowNs;
    // ts - base from the two 32-bit words of each ts, exact below 2^53 ns (about 104 days): no BigInt a row.
    const words = new Uint32Array(ts.buffer, ts.byteOffset, 2 * rows);
    const baseHigh = Number(base >> 32n);
    const baseLow = Number(base & 0xffffffffn);
    let nextSkip = skipRows.length > 0 ? skipRows[0]! : rows;
    let skipAt = 0;
    let group = this.lastGroup;
    let state = this.last;
    let counts = state?.counts;
    let index = state === undefined ? 0 : state.index;
    // Trace time at which the current group's window ends: a comparison a call, no division.
    let end = state === undefined ? 0 : state.start + (index + 1) * windowNs;
    // The current window's last call time in a local (NaN before its first call), stored back on leaving.
    let lastT = state === undefined ? Number.NaN : state.lastT;
    for (let row = 0; row < rows; row++) {
      if (row === nextSkip) {
        nextSkip = ++skipAt < skipRows.length ? skipRows[skipAt]! : rows;
        continue;
      }
      const p = pid[row]!;
      const time = ((words[2 * row + 1]! | 0) - baseHigh) * 4294967296 + (words[2 * row]! - baseLow);
      if (p !== group || state === undefined) {
        if (state !== undefined) state.lastT = lastT;
        state = this.groups.get(p);
        if (state === undefined) {
          state = new GroupWindow(time);
          this.groups.set(p, state);
          onNewGroup?.(p, row);
        }
        group = p;
        counts = state.counts;
        index = state.index;
        end = state.start + (index + 1) * windowNs;
        lastT = state.lastT;
      }
      // Times are whole nanoseconds below 2^53: time >= end exactly when floor((time - start) / windowNs)
      // passes index.
      if (time >= end) {
        state.lastT = lastT;
        this.advance(group, state, Math.floor((time - state.start) / windowNs));
        index = state.index;
        end = state.start + (index + 1) * windowNs;
        lastT = Number.NaN;
      }
      if (Number.isNaN(lastT)) state.firstT = time;
      lastT = time;
      // GroupWindow.count with the flat counts in a local.
      const key = nr[row]!;
      if (counts !== undefined && key >= 0 && key < FLAT_KEYS) {
        if (counts[key]++ === 0) state.touched.push(key);
      } else {
        state.countOther(key);
        counts = state.counts;
      }
    }
    if (state !== undefined) state.lastT = lastT;
    this.lastGroup = group;
    this.last = state;
  }

  /**
   * Each group's open window as it stands (groups with a call in it), without closing it: a live scorer
   * looks at it before the window ends, since counts in a window only grow.
   */
  openWindows(): RateWindow[] {
    const windows: RateWindow[] = [];
    for (const [group, state] of this.groups) {
      if (state.touched.length === 0) continue;
      windows.push({ group, firstT: state.firstT, lastT: state.lastT, ...state.tally(), windows: 1 });
    }
    return windows;
  }

  /** Closes every group's current window: scoring looks at the last partial window too, training does not. */
  finish(includePartial: boolean): void {
    for (const [group, state] of this.groups) if (includePartial && state.touched.length > 0) this.close(group, state);
    this.groups.clear();
    this.last = undefined;
    this.lastGroup = -1;
  }

  /** Closes the group's open window and the empty ones after it (as one entry); window `index` is open next. */
  private advance(group: number, state: GroupWindow, index: number): void {
    this.close(group, state);
    // Windows without a call are windows too: every key's rate was 0.
    const empty = index - state.index - 1;
    if (empty > 0) {
      const first = state.start + (state.index + 1) * this.windowNs;
      this.onWindow({ group, firstT: first, lastT: first + (empty - 1) * this.windowNs, keys: [], counts: [], windows: empty });
    }
    state.index = index;
  }

  private close(group: number, state: GroupWindow): void {
    const { keys, counts } = state.tally();
    state.clear();
    this.onWindow({ group, firstT: state.firstT, lastT: state.lastT, keys, counts, windows: 1 });
    state.firstT = Number.NaN;
    state.lastT = Number.NaN;
  }
}

/** Statistics per key over `windows` (a key absent from a window counts 0 there), keys ascending. */
export function rateStats(windows: readonly RateWindow[]): Map<number, RateStats> {
  const present = new Map<number, number[]>();
  for (const window of windows) {
    window.keys.forEach((key, i) => {
      let list = present.get(key);
      if (list === undefined) present.set(key, (list = []));
      list.push(window.counts[i]!);
    });
  }
  return rateStatsOf(present, windowCount(windows));
}

/**
 * Statistics per key from its counts in the windows it appeared in, out of `windows` windows (the others
 * count 0). The zeros are never written out: a key's sorted rates are its own counts, sorted, with the
 * zeros in their place, read through an index, so the cost follows the windows a key appeared in.
 */
export function rateStatsOf(present: ReadonlyMap<number, readonly number[]>, windows: number): Map<number, RateStats> {
  const stats = new Map<number, RateStats>();
  for (const key of [...present.keys()].sort((a, b) => a - b)) {
    const counts = present.get(key)!;
    const sorted = withCopies(Float64Array.from(counts).sort(), 0, windows - counts.length);
    const median = medianSorted(sorted);
    const deviations = withCopies(Float64Array.from(counts, (rate) => Math.abs(rate - median)).sort(), median, windows - counts.length);
    stats.set(key, { median, mad: medianSorted(deviations), q99: quantileSorted(sorted, 0.99), max: sorted[sorted.length - 1]! });
  }
  return stats;
}

/** Ascending `sorted` with `copies` more of `value` in their place, as an array to read (not to write). */
function withCopies(sorted: Float64Array, value: number, copies: number): number[] {
  let at = 0; // where the copies go: after every element below `value`
  while (at < sorted.length && sorted[at]! < value) at++;
  const element = (i: number): number => (i < at ? sorted[i]! : i < at + copies ? value : sorted[i - copies]!);
  return new Proxy([] as number[], { get: (_, key) => (key === 'length' ? sorted.length + copies : element(Number(key))) });
}

/**
 * How far `count` lies above normal, in robust standard deviations: 1.4826 MAD, at least one call per
 * window, so a key that never varied is not infinitely sensitive.
 */
export function robustZ(count: number, stats: RateStats): number {
  return (count - stats.median) / Math.max(1.4826 * stats.mad, 1);
}

/**
 * The key of the window lying furthest above normal (robustZ).
 * Keys without statistics (never in a full training window) are skipped: novel_syscall reports those.
 */
export function worstKey(window: RateWindow, stats: ReadonlyMap<number, RateStats>): { key: number; count: number; z: number; stats: RateStats } | undefined {
  let worst: { key: number; count: number; z: number; stats: RateStats } | undefined;
  window.keys.forEach((key, i) => {
    const s = stats.get(key);
    if (s === undefined) return;
    const count = window.counts[i]!;
    const z = robustZ(count, s);
    if (worst === undefined || z > worst.z) worst = { key, count, z, stats: s };
  });
  return worst;
}

/** Rate statistics as stored in the baseline: key (syscall number or function name) -> stats. */
export type RateStatsJson = Record<string, RateStats>;
