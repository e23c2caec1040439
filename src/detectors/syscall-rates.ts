// Syscall rates (rate_deviation): per process, calls of each syscall per window of trace time (1 s), against
// the robust statistics of training's windows. Baseline: `model.frequency` (median, MAD, q99, max per
// syscall) and `calibration.rate_deviation` (the z a window must reach, from held-out windows).
import type { BaselineDocument, LoadedBaseline } from '../baseline/document.js';
import type { RateStats, WindowCounter } from '../model/rates.js';
import type { FrequencyWindowOptions, SyscallFrequencyModelJson } from '../model/syscall-frequency-model.js';
import type { BatchView } from '../trace/batch-view.js';
import { syscallName } from '../trace/syscalls.js';
import { defineDetector, type BaselineFragment, type Scorer } from './detector.js';
import { sameInEvery } from './merge-parts.js';
import { mergeRateThresholds, RateDeviations, RateLearner, statsOfHistograms, sumHistograms, type RateHistograms } from './rate-deviation.js';

class SyscallRateLearner extends RateLearner {
  protected count(view: BatchView, counter: WindowCounter, base: bigint): void {
    // In row (time) order, as scoring counts them: windows close when a later call arrives, so feeding
    // thread after thread would pile other threads' calls into the last window.
    counter.addRows(view.pid, view.nr, view.ts, base, view.rows, view.eventRows);
  }

  finish() {
    const { settings, windowNs } = this.plan;
    const histograms = this.histograms(String);
    return {
      model: { frequency: frequencySection({ ...settings.frequencyWindows, windowNs }, this.windowCount(), histograms) },
      calibration: { rate_deviation: this.threshold() },
    };
  }
}

function frequencySection(options: FrequencyWindowOptions, windows: number, histograms: RateHistograms): SyscallFrequencyModelJson {
  return { kind: 'gpo.syscall-frequency', version: 1, options, windows, rates: statsOfHistograms(histograms, windows), histograms };
}

/** Window counts and histograms add up, so the statistics are exact; the threshold pools held-out windows. */
function mergeRates(parts: readonly BaselineDocument[]): BaselineFragment {
  const frequencies = parts.map((part) => part.model.frequency);
  const options = sameInEvery(
    frequencies.map((frequency) => frequency.options),
    'rate windows',
  );
  if (frequencies.some((frequency) => frequency.histograms === undefined))
    throw new Error('a baseline has no rate histograms (trained by an older gpo): retrain it to merge');
  const windows = frequencies.reduce((sum, frequency) => sum + frequency.windows, 0);
  const falseAlarmRate = sameInEvery(
    parts.map((part) => part.calibration.window_false_alarm_rate),
    'false-alarm rates',
  );
  return {
    model: { frequency: frequencySection(options, windows, sumHistograms(frequencies.map((frequency) => frequency.histograms!))) },
    calibration: {
      rate_deviation: mergeRateThresholds(
        parts.map((part) => part.calibration.rate_deviation),
        falseAlarmRate,
      ),
    },
  };
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

export const syscallRates = defineDetector(['model', 'calibration'], SyscallRateLearner, SyscallRateScorer, { merge: mergeRates });
