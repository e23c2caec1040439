// Bag-of-syscalls profile: how often each syscall is called per window (1 s of trace time when timestamps
// exist, else a fixed number of calls), summarized with robust statistics so a burst stands out.
import { rateStatsOf, type RateStats } from './rates.js';
import type { ThreadKey } from './syscall-window-model.js';

export interface FrequencyWindowOptions {
  /** Window length in ns of trace time, used when the calls have timestamps. */
  windowNs: number;
  /** Window length in calls, used when they do not. */
  windowCalls: number;
}

export const DEFAULT_FREQUENCY_WINDOWS: FrequencyWindowOptions = { windowNs: 1e9, windowCalls: 1000 };

export type SyscallRateStats = RateStats;

export interface SyscallFrequencyModelJson {
  kind: 'gpo.syscall-frequency';
  version: 1;
  options: FrequencyWindowOptions;
  windows: number;
  /** Per syscall number (sorted), statistics of its rate (calls per window) over all training windows. */
  rates: Record<string, SyscallRateStats>;
  /** Windows per syscall number and count (gpo train writes them so baselines can be merged: src/detectors/rate-deviation.ts). */
  histograms?: Record<string, Record<string, number>>;
}

/** Calls per syscall in the current window of one thread; emits the window's counts when it closes. */
export class FrequencyWindower {
  private counts = new Map<number, number>();
  private calls = 0;
  private windowStart: bigint | undefined;

  constructor(private readonly options: FrequencyWindowOptions) {}

  /**
   * Adds calls; `onWindow` receives each completed window's counts (a partial last window is not one), and
   * a run of windows without calls once, with its length.
   */
  push(syscalls: ArrayLike<number>, tsNs: ArrayLike<bigint> | undefined, onWindow: (counts: Map<number, number>, windows: number) => void): void {
    const windowNs = BigInt(Math.round(this.options.windowNs));
    for (let i = 0; i < syscalls.length; i++) {
      if (tsNs !== undefined) {
        const ts = tsNs[i]!;
        this.windowStart ??= ts;
        if (ts - this.windowStart >= windowNs) {
          const passed = (ts - this.windowStart) / windowNs;
          onWindow(this.counts, 1);
          // Empty windows (no call for a whole second) are windows too: every syscall's rate was 0.
          if (passed > 1n) onWindow(new Map(), Number(passed - 1n));
          this.counts = new Map();
          this.windowStart += passed * windowNs;
        }
      }
      this.counts.set(syscalls[i]!, (this.counts.get(syscalls[i]!) ?? 0) + 1);
      if (tsNs === undefined && ++this.calls === this.options.windowCalls) {
        onWindow(this.counts, 1);
        this.counts = new Map();
        this.calls = 0;
      }
    }
  }
}

export class SyscallFrequencyModel {
  private constructor(
    readonly options: FrequencyWindowOptions,
    readonly windows: number,
    private readonly stats: ReadonlyMap<number, SyscallRateStats>,
  ) {}

  /** Statistics of the rate of syscall `nr`; all zero for syscalls training never saw. */
  rateStats(nr: number): SyscallRateStats {
    return this.stats.get(nr) ?? { median: 0, mad: 0, q99: 0, max: 0 };
  }

  toJSON(): SyscallFrequencyModelJson {
    const rates: Record<string, SyscallRateStats> = {};
    for (const nr of [...this.stats.keys()].sort((a, b) => a - b)) rates[nr] = this.stats.get(nr)!;
    return { kind: 'gpo.syscall-frequency', version: 1, options: this.options, windows: this.windows, rates };
  }

  static fromJSON(json: SyscallFrequencyModelJson): SyscallFrequencyModel {
    if (json.kind !== 'gpo.syscall-frequency' || json.version !== 1) throw new Error('not a gpo syscall frequency model (version 1)');
    return new SyscallFrequencyModel(json.options, json.windows, new Map(Object.entries(json.rates).map(([nr, s]) => [Number(nr), s])));
  }

  /** Collects training windows thread by thread; `finish` computes the statistics. */
  static trainer(options: FrequencyWindowOptions = DEFAULT_FREQUENCY_WINDOWS): SyscallFrequencyTrainer {
    return new SyscallFrequencyTrainer(options, (windows, stats) => new SyscallFrequencyModel(options, windows, stats));
  }
}

export class SyscallFrequencyTrainer {
  private readonly windowers = new Map<ThreadKey, FrequencyWindower>();
  /** Per syscall, its count in each window it appeared in; windows without it count as 0. */
  private readonly countsBySyscall = new Map<number, number[]>();
  private windows = 0;

  constructor(
    private readonly options: FrequencyWindowOptions,
    private readonly build: (windows: number, stats: Map<number, SyscallRateStats>) => SyscallFrequencyModel,
  ) {}

  observe(thread: ThreadKey, syscalls: ArrayLike<number>, tsNs?: ArrayLike<bigint>): void {
    let windower = this.windowers.get(thread);
    if (windower === undefined) this.windowers.set(thread, (windower = new FrequencyWindower(this.options)));
    windower.push(syscalls, tsNs, (counts, windows) => {
      this.windows += windows;
      for (const [nr, count] of counts) {
        let list = this.countsBySyscall.get(nr);
        if (list === undefined) this.countsBySyscall.set(nr, (list = []));
        list.push(count);
      }
    });
  }

  endThread(thread: ThreadKey): void {
    this.windowers.delete(thread);
  }

  finish(): SyscallFrequencyModel {
    return this.build(this.windows, this.windows > 0 ? rateStatsOf(this.countsBySyscall, this.windows) : new Map());
  }
}
