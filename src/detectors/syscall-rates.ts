// Syscall rates (rate_deviation): per process, calls of each syscall per window of trace time (1 s), against
// the robust statistics of training's windows. Baseline: `model.frequency` (median, MAD, q99, max per
// syscall) and `calibration.rate_deviation` (the z a window must reach, from held-out windows).
import type { RateStats, WindowCounter } from '../model/rates.js';
import type { BatchView } from '../trace/batch-view.js';
import { syscallName } from '../trace/syscalls.js';
import type { LoadedBaseline } from '../baseline/document.js';
import { defineDetector, type Scorer } from './detector.js';
import { RateDeviations, RateLearner } from './rate-deviation.js';

class SyscallRateLearner extends RateLearner {
  protected count(view: BatchView, counter: WindowCounter, base: bigint): void {
    // In row (time) order, as scoring counts them: windows close when a later call arrives, so feeding
    // thread after thread would pile other threads' calls into the last window.
    counter.addRows(view.pid, view.nr, view.ts, base, view.rows, view.eventRows);
  }

  finish() {
    const { settings, windowNs } = this.plan;
    const rates: Record<string, RateStats> = {};
    for (const [nr, stats] of this.stats()) rates[String(nr)] = stats;
    return {
      model: { frequency: { kind: 'gpo.syscall-frequency' as const, version: 1 as const, options: { ...settings.frequencyWindows, windowNs }, windows: this.windows.length, rates } },
      calibration: { rate_deviation: this.threshold() },
    };
  }
}

class SyscallRateScorer extends RateDeviations implements Scorer {
  constructor({ document }: LoadedBaseline) {
    const frequency = document.model.frequency;
    const stats = new Map<number, RateStats>(Object.entries(frequency.rates).map(([nr, s]) => [Number(nr), s]));
    super('rate_deviation', document.calibration.rate_deviation.z, stats, syscallName, frequency.options.windowNs);
  }

  observe(view: BatchView): void {
    if (view.rows === 0) return;
    const { counter, base } = this.counting(view);
    counter.addRows(view.pid, view.nr, view.ts, base, view.rows, view.eventRows, (pid, row) => this.firstCall(pid, view, row));
  }
}

export const syscallRates = defineDetector(['model', 'calibration'], SyscallRateLearner, SyscallRateScorer);
