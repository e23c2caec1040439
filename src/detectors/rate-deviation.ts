// Rate deviation, shared by syscall rates and library-call rates: training labels each closed window of a
// process with its calibration unit and sets the threshold on the worst robust z of held-out windows;
// scoring merges consecutive windows of a process at or above it into one anomaly.
import { quantileSorted } from 'simple-statistics';
import type { RateThreshold } from '../baseline/document.js';
import { rateStats, rateStatsOf, windowCount, worstKey, WindowCounter, type RateStats, type RateWindow } from '../model/rates.js';
import { round, type Anomaly, type Severity } from './anomaly.js';
import type { BatchView } from '../trace/batch-view.js';
import type { BaselineFragment, Learner, TrainingPlan } from './detector.js';
import { StringPool } from './string-ids.js';

/** Robust z-score a rate window must reach when there were no held-out windows to calibrate on. */
const DEFAULT_RATE_Z = 10;
/** Floor of a calibrated rate threshold, in robust SDs: below it normal jitter would alarm. */
const MIN_RATE_Z = 3;

/** A window's worst key: its count and robust z against the baseline's statistics. */
type Deviation = NonNullable<ReturnType<typeof worstKey>>;

interface LabelledWindow extends RateWindow {
  unit: number;
}

/**
 * A learner of rates: each closed window of a process labelled with its calibration unit (the recording's
 * when recordings are held out in groups, else windows dealt round-robin to the units). Subclasses say
 * what a batch adds to the windows and write their sections from histograms() and threshold().
 */
export abstract class RateLearner implements Learner {
  protected readonly windows: LabelledWindow[] = [];
  private counter: WindowCounter | undefined;
  private base: bigint | undefined;

  constructor(protected readonly plan: TrainingPlan) {}

  /** Counts the batch's calls: `base` is the trace's first time, windows count from it. */
  protected abstract count(view: BatchView, counter: WindowCounter, base: bigint): void;

  abstract finish(): BaselineFragment;

  beginTrace(traceIndex: number): void {
    let windowsOfTrace = 0;
    const { units, byRecording } = this.plan;
    this.counter = new WindowCounter(this.plan.windowNs, (window) => {
      if (byRecording) this.windows.push({ ...window, unit: traceIndex % units });
      else {
        // Windows are dealt round-robin; a run of empty windows is dealt as one entry per unit it reaches.
        for (let unit = 0; unit < Math.min(units, window.windows); unit++) {
          const first = windowsOfTrace + unit;
          this.windows.push({ ...window, windows: Math.ceil((window.windows - unit) / units), unit: first % units });
        }
        windowsOfTrace += window.windows;
      }
    });
    this.base = undefined;
  }

  observe(view: BatchView): void {
    if (view.rows === 0) return;
    this.base ??= view.ts[0]!;
    this.count(view, this.counter!, this.base);
  }

  /** Training counts full windows only: the last partial window of a trace is dropped. */
  endTrace(): void {
    this.counter!.finish(false);
  }

  /** The windows' histograms per key (named by `keyName`): summable, so baselines trained apart merge exactly. */
  /** How many windows training counted. */
  protected windowCount(): number {
    return windowCount(this.windows);
  }

  protected histograms(keyName: (key: number) => string): RateHistograms {
    return rateHistograms(this.windows, keyName);
  }

  protected threshold(): RateThreshold {
    return calibrateRates(this.windows, this.plan.settings.windowFalseAlarmRate);
  }
}

/** Threshold on a window's worst robust z-score: each unit's windows scored by the other units' statistics. */
function calibrateRates(windows: readonly LabelledWindow[], falseAlarmRate: number): RateThreshold {
  const units = [...new Set(windows.map((w) => w.unit))].sort((a, b) => a - b);
  if (units.length < 2) return thresholdOf([], 0, falseAlarmRate);
  const scores: number[] = [];
  for (const unit of units) {
    const stats = rateStats(windows.filter((w) => w.unit !== unit));
    for (const window of windows)
      if (window.unit === unit) {
        const worst = worstKey(window, stats);
        if (worst !== undefined) scores.push(worst.z);
      }
  }
  return thresholdOf(
    scores.sort((a, b) => a - b),
    scores.length,
    falseAlarmRate,
  );
}

/**
 * The threshold from the largest held-out z-scores (ascending) out of `count`: the quantile reads only the
 * top of the sorted scores, so keeping that tail in the baseline lets baselines trained apart pool their
 * held-out windows exactly (mergeRateThresholds).
 */
function thresholdOf(tail: readonly number[], count: number, falseAlarmRate: number): RateThreshold {
  if (count === 0) return { z: DEFAULT_RATE_Z, method: 'default', held_out_windows: 0, held_out_tail: [] };
  const quantile = 1 - falseAlarmRate;
  // quantileSorted reads the elements at floor and ceil of (count - 1) * quantile.
  const kept = Math.min(count, count - Math.floor((count - 1) * quantile));
  const top = tail.slice(tail.length - kept);
  const offset = count - top.length;
  const scores = new Proxy(top, { get: (target, key) => (key === 'length' ? count : target[Number(key) - offset]) });
  const z = Math.max(MIN_RATE_Z, quantileSorted(scores, quantile));
  return { z: round(z), method: `leave-one-out quantile ${quantile}`, held_out_windows: count, held_out_tail: top };
}

/**
 * The threshold of baselines trained apart: their held-out windows pooled (exact over those windows; each
 * was scored against its own baseline's other recordings, not all of them).
 */
export function mergeRateThresholds(parts: readonly RateThreshold[], falseAlarmRate: number): RateThreshold {
  if (parts.some((part) => part.held_out_windows > 0 && part.held_out_tail === undefined))
    throw new Error('a baseline has no held-out rate scores (trained by an older gpo): retrain it to merge');
  const tail = parts.flatMap((part) => part.held_out_tail ?? []).sort((a, b) => a - b);
  return thresholdOf(
    tail,
    parts.reduce((sum, part) => sum + part.held_out_windows, 0),
    falseAlarmRate,
  );
}

/** Rate windows per key and count (key -> count -> windows; windows without the key are not listed). */
export type RateHistograms = Record<string, Record<string, number>>;

/** The histograms of `windows`, keys named by `keyName`: stats can be rebuilt from them, and summed. */
function rateHistograms(windows: readonly RateWindow[], keyName: (key: number) => string): RateHistograms {
  const histograms: RateHistograms = {};
  for (const window of windows)
    window.keys.forEach((key, i) => {
      const histogram = (histograms[keyName(key)] ??= {});
      const count = String(window.counts[i]!);
      histogram[count] = (histogram[count] ?? 0) + 1;
    });
  return histograms;
}

/** Statistics per key from histograms of `windows` windows: the same numbers rateStats gives on the windows. */
export function statsOfHistograms(histograms: RateHistograms, windows: number): Record<string, RateStats> {
  const names = Object.keys(histograms);
  const present = new Map<number, number[]>();
  names.forEach((name, id) => {
    const counts: number[] = [];
    for (const [count, times] of Object.entries(histograms[name]!)) for (let i = 0; i < times; i++) counts.push(Number(count));
    present.set(id, counts);
  });
  const stats: Record<string, RateStats> = {};
  for (const [id, s] of rateStatsOf(present, windows)) stats[names[id]!] = s;
  return stats;
}

/** Key-wise sums of histograms. */
export function sumHistograms(parts: readonly RateHistograms[]): RateHistograms {
  const sum: RateHistograms = {};
  for (const part of parts)
    for (const [key, histogram] of Object.entries(part)) {
      const into = (sum[key] ??= {});
      for (const [count, times] of Object.entries(histogram)) into[count] = (into[count] ?? 0) + times;
    }
  return sum;
}

/**
 * Scoring's rate windows of each process against the baseline's statistics: runs of consecutive windows at
 * or above the threshold, merged into one anomaly.
 */
export class RateDeviations {
  private readonly open = new Map<number, Anomaly>();
  readonly anomalies: Anomaly[] = [];
  private readonly counter: WindowCounter;
  private base: bigint | undefined;
  /** The first thread seen calling in each process: who a window of the process is shown as. */
  private readonly firstThread = new Map<number, { tid: number; comm: string }>();
  private readonly comms = new StringPool();

  constructor(
    private readonly kind: 'rate_deviation' | 'libcall_rate_deviation',
    private readonly threshold: number,
    private readonly stats: ReadonlyMap<number, RateStats>,
    private readonly keyName: (key: number) => string,
    windowNs: number,
  ) {
    this.counter = new WindowCounter(windowNs, (window) => this.window(window));
  }

  /** The counter, and the trace's first time (windows count from it) once a batch has rows. */
  counting(view: BatchView): { counter: WindowCounter; base: bigint } {
    this.base ??= view.ts[0]!;
    return { counter: this.counter, base: this.base };
  }

  /** Row `row` is a call of a process not seen before (its first thread names the process's anomalies). */
  firstCall(pid: number, view: BatchView, row: number): void {
    if (!this.firstThread.has(pid)) this.firstThread.set(pid, { tid: view.tid[row]!, comm: this.comms.get(view.comm(row)) });
  }

  /**
   * Copies of the runs so far, with each process's open window as it stands: a window's counts only grow
   * until it closes, so one that already reaches the threshold will close at or above it (with at least
   * this severity) and is reported now, not when the process's next call after the window's end arrives,
   * which may never come. The state is left as it is: finish() gives what gpo score gives.
   */
  flush(): Anomaly[] {
    const copies = new Map(this.anomalies.map((a) => [a, { ...a }]));
    const out = [...copies.values()];
    for (const window of this.counter.openWindows()) {
      const worst = this.deviation(window);
      if (worst === undefined) continue;
      const run = this.open.get(window.group);
      if (run !== undefined) this.extend(copies.get(run)!, window, worst);
      else out.push(this.start(window, worst));
    }
    return out;
  }

  /** Closes the last partial window of every process: scoring looks at it too. */
  finish(): Anomaly[] {
    this.counter.finish(true);
    return this.anomalies;
  }

  /** A closed window: it starts or extends its process's run when at or above the threshold, else ends it. */
  private window(window: RateWindow): void {
    const worst = this.deviation(window);
    if (worst === undefined) {
      this.open.delete(window.group);
      return;
    }
    const run = this.open.get(window.group);
    if (run !== undefined) {
      this.extend(run, window, worst);
      return;
    }
    const anomaly = this.start(window, worst);
    this.anomalies.push(anomaly);
    this.open.set(window.group, anomaly);
  }

  /** The window's worst key when it reaches the threshold. */
  private deviation(window: RateWindow): Deviation | undefined {
    const worst = worstKey(window, this.stats);
    return worst === undefined || worst.z < this.threshold ? undefined : worst;
  }

  private severity(worst: Deviation): Severity {
    return worst.z >= 4 * this.threshold ? 'high' : 'medium';
  }

  /** The run `run` goes on through `window`. */
  private extend(run: Anomaly, window: RateWindow, worst: Deviation): void {
    run.last_ts_ns = this.base! + BigInt(Math.round(window.lastT));
    run.count++;
    if (worst.z > (run.evidence.z as number)) {
      run.severity = this.severity(worst);
      run.evidence = this.evidence(worst);
    }
    run.summary = this.summary(run);
  }

  /** A run starting at `window`. */
  private start(window: RateWindow, worst: Deviation): Anomaly {
    const { tid, comm } = this.firstThread.get(window.group) ?? { tid: window.group, comm: '' };
    const first = this.base! + BigInt(Math.round(window.firstT));
    const last = this.base! + BigInt(Math.round(window.lastT));
    const anomaly: Anomaly = {
      kind: this.kind,
      severity: this.severity(worst),
      first_ts_ns: first,
      last_ts_ns: last,
      pid: window.group,
      tid,
      comm,
      count: 1,
      summary: '',
      evidence: this.evidence(worst),
    };
    anomaly.summary = this.summary(anomaly);
    return anomaly;
  }

  private evidence(worst: Deviation): Record<string, unknown> {
    return {
      key: this.keyName(worst.key),
      count: worst.count,
      z: round(worst.z),
      threshold: this.threshold,
      median: worst.stats.median,
      mad: worst.stats.mad,
      q99: round(worst.stats.q99),
      max: worst.stats.max,
    };
  }

  private summary(anomaly: Anomaly): string {
    const e = anomaly.evidence as { key: string; count: number; z: number; median: number; q99: number };
    const windows = anomaly.count === 1 ? 'one window' : `${anomaly.count} windows in a row`;
    return `${e.key} called ${e.count} times in a window (baseline median ${e.median}, q99 ${e.q99}, z ${e.z.toFixed(1)} >= ${this.threshold}); ${windows}`;
  }
}
