// Which anomalies a live session has already printed. Flushes repeat every anomaly found so far, and
// anomalies grow (more rows, a longer run, a higher severity): one is printed when first found and again
// only when its severity rises, keyed on what a flush never changes (Scorer.flush).
import { severityRank, type Anomaly, type Severity } from '../detectors/anomaly.js';

export interface LiveAnomaly {
  anomaly: Anomaly;
  /** Printed before at a lower severity. */
  escalated: boolean;
}

/** Identity of an anomaly across flushes: kind, process, thread, first time. */
export function anomalyKey(anomaly: Anomaly): string {
  return `${anomaly.kind} ${anomaly.pid} ${anomaly.tid} ${anomaly.first_ts_ns}`;
}

export class PrintedAnomalies {
  private readonly printed = new Map<string, Severity>();

  /** The anomalies of a flush not yet printed at their severity; from now on they count as printed. */
  news(anomalies: readonly Anomaly[]): LiveAnomaly[] {
    const out: LiveAnomaly[] = [];
    // Two anomalies of one flush with the same identity (two libraries mapped by a thread in the same
    // nanosecond) are told apart by their order, which flushes keep.
    const seen = new Map<string, number>();
    for (const anomaly of anomalies) {
      const base = anomalyKey(anomaly);
      const nth = seen.get(base) ?? 0;
      seen.set(base, nth + 1);
      const key = nth === 0 ? base : `${base} #${nth}`;
      const before = this.printed.get(key);
      if (before !== undefined && severityRank(anomaly.severity) <= severityRank(before)) continue;
      this.printed.set(key, anomaly.severity);
      out.push({ anomaly, escalated: before !== undefined });
    }
    return out;
  }
}
