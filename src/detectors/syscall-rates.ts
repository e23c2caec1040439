// Syscall rates (rate_deviation): per process, calls of each syscall per window of trace time (1 s), against
// the robust statistics of training's windows. Baseline: `model.frequency` (median, MAD, q99, max per
// syscall) and `calibration.rate_deviation` (the z a window must reach, from held-out windows).
import type { BaselineDocument } from '../baseline/document.js';
import { WindowCounter, type RateStats } from '../model/rates.js';
import type { FrequencyWindowOptions, SyscallFrequencyModelJson } from '../model/syscall-frequency-model.js';
import type { BatchView } from '../trace/batch-view.js';
import { syscallName } from '../trace/syscalls.js';
import type { Anomaly } from './anomaly.js';
import type { BaselineFragment, Detector, Learner, Scorer, TrainingPlan } from './detector.js';
import { sameInEvery } from './merge-parts.js';
import { calibrateRates, labelledCounter, mergeRateThresholds, rateHistograms, RateRuns, statsOfHistograms, sumHistograms, type LabelledWindow, type RateHistograms } from './rate-deviation.js';

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
    const histograms = rateHistograms(this.windows, String);
    return {
      model: { frequency: frequencySection({ ...settings.frequencyWindows, windowNs }, this.windows.length, histograms) },
      calibration: { rate_deviation: calibrateRates(this.windows, settings.windowFalseAlarmRate) },
    };
  }
}

function frequencySection(options: FrequencyWindowOptions, windows: number, histograms: RateHistograms): SyscallFrequencyModelJson {
  return { kind: 'gpo.syscall-frequency', version: 1, options, windows, rates: statsOfHistograms(histograms, windows), histograms };
}

/** Window counts and histograms add up, so the statistics are exact; the threshold pools held-out windows. */
function mergeRates(parts: readonly BaselineDocument[]): BaselineFragment {
  const frequencies = parts.map((part) => part.model.frequency);
  const options = sameInEvery(frequencies.map((frequency) => frequency.options), 'rate windows');
  if (frequencies.some((frequency) => frequency.histograms === undefined)) throw new Error('a baseline has no rate histograms (trained by an older gpo): retrain it to merge');
  const windows = frequencies.reduce((sum, frequency) => sum + frequency.windows, 0);
  const falseAlarmRate = sameInEvery(parts.map((part) => part.calibration.window_false_alarm_rate), 'false-alarm rates');
  return {
    model: { frequency: frequencySection(options, windows, sumHistograms(frequencies.map((frequency) => frequency.histograms!))) },
    calibration: { rate_deviation: mergeRateThresholds(parts.map((part) => part.calibration.rate_deviation), falseAlarmRate) },
  };
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
  merge: mergeRates,
};
