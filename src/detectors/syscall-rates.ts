// Syscall rates (rate_deviation): per process, calls of each syscall per window of trace time (1 s), against
// the robust statistics of training's windows. Baseline: `model.frequency` (median, MAD, q99, max per
// syscall) and `calibration.rate_deviation` (the z a window must reach, from held-out windows).
import { rateStats, WindowCounter, type RateStats } from '../model/rates.js';
import type { BatchView } from '../trace/batch-view.js';
import { syscallName } from '../trace/syscalls.js';
import type { Anomaly } from './anomaly.js';
import type { Detector, Learner, Scorer, TrainingPlan } from './detector.js';
import { calibrateRates, labelledCounter, RateRuns, type LabelledWindow } from './rate-deviation.js';

class SyscallRateLearner implements Learner {
  private readonly windows: LabelledWindow[] = [];
  private counter: WindowCounter | undefined;
  private base: bigint | undefined;

  constructor(private readonly plan: TrainingPlan) {}

  beginTrace(index: number): void {
    this.counter = labelledCounter(this.plan, index, this.windows);
    this.base = undefined;
  }

  observe(view: BatchView): void {
    if (view.rows === 0) return;
    this.base ??= view.ts[0]!;
    // In row (time) order, as scoring counts them: windows close when a later call arrives, so feeding
    // thread after thread would pile other threads' calls into the last window.
    this.counter!.addRows(view.pid, view.nr, view.ts, this.base, view.rows, view.eventRows);
  }

  endTrace(): void {
    this.counter!.finish(false);
  }

  finish() {
    const { settings, windowNs } = this.plan;
    const rates: Record<string, RateStats> = {};
    for (const [nr, stats] of rateStats(this.windows)) rates[String(nr)] = stats;
    return {
      model: { frequency: { kind: 'gpo.syscall-frequency' as const, version: 1 as const, options: { ...settings.frequencyWindows, windowNs }, windows: this.windows.length, rates } },
      calibration: { rate_deviation: calibrateRates(this.windows, settings.windowFalseAlarmRate) },
    };
  }
}

class SyscallRateScorer implements Scorer {
  private readonly counter: WindowCounter;
  private readonly runs: RateRuns;
  private base: bigint | undefined;
  private readonly firstThread = new Map<number, { tid: number; comm: string }>();

  constructor(frequency: { options: { windowNs: number }; rates: Record<string, RateStats> }, threshold: number) {
    const stats = new Map<number, RateStats>(Object.entries(frequency.rates).map(([nr, s]) => [Number(nr), s]));
    this.runs = new RateRuns('rate_deviation', threshold, stats, syscallName, () => this.base!, (pid) => this.firstThread.get(pid) ?? { tid: pid, comm: '' });
    this.counter = new WindowCounter(frequency.options.windowNs, (window) => this.runs.window(window));
  }

  observe(view: BatchView): void {
    if (view.rows === 0) return;
    this.base ??= view.ts[0]!;
    this.counter.addRows(view.pid, view.nr, view.ts, this.base, view.rows, view.eventRows, (pid, row) => this.firstThread.set(pid, { tid: view.tid[row]!, comm: view.comm(row) }));
  }

  flush(): Anomaly[] {
    return this.runs.snapshot();
  }

  finish(): Anomaly[] {
    this.counter.finish(true);
    return this.runs.anomalies;
  }
}

export const syscallRates: Detector = {
  name: 'syscall rates',
  sections: ['model', 'calibration'],
  learner: (plan) => new SyscallRateLearner(plan),
  scorer: (baseline) => new SyscallRateScorer(baseline.document.model.frequency, baseline.document.calibration.rate_deviation.z),
};
