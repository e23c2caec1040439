// What gpo watch keys its printed anomalies on (kind, pid, tid, first time) must never change between
// flushes, or an anomaly would be printed twice: fed the demo's recordings row by row at first (a live
// session's first batches can be that small) and then in small batches, every key a flush shows is a key of
// the final anomalies, and PrintedAnomalies prints each anomaly once, again only when its severity rises.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readBaseline } from '../src/detectors/load-baseline.js';
import { ScoringRun } from '../src/score/score-trace.js';
import { TRACE_COLUMNS } from '../src/trace/batch-view.js';
import { openTrace } from '../src/trace/reader.js';
import { anomalyKey, PrintedAnomalies } from '../src/watch/printed-anomalies.js';
import type { Anomaly } from '../src/detectors/anomaly.js';

const recording = (name: string) => fileURLToPath(new URL(`../recordings/${name}`, import.meta.url));

describe('anomaly keys across flushes', () => {
  it.each(['speedhack.parquet', 'inject.parquet', 'vm-reader.parquet', 'clean-seed-101.parquet'])(
    '%s: flushed keys are final, each anomaly printed once per severity',
    async (name) => {
      const baseline = readBaseline(recording('baseline.json'));
      const trace = await openTrace(recording(name));
      const run = new ScoringRun(baseline, trace.metadata.target);
      const printed = new PrintedAnomalies();
      const flushedKeys = new Set<string>();
      const lines: { key: string; severity: string; escalated: boolean }[] = [];
      const show = (anomalies: Anomaly[]) => {
        for (const a of anomalies) flushedKeys.add(anomalyKey(a));
        for (const { anomaly, escalated } of printed.news(anomalies)) lines.push({ key: anomalyKey(anomaly), severity: anomaly.severity, escalated });
      };
      let fed = 0;
      for await (const batch of trace.batches({ columns: [...TRACE_COLUMNS], batchRows: 4096 })) {
        // The first rows one at a time (the launcher's, then the exec), then whole small batches.
        const pieces = fed < 200 ? Array.from({ length: batch.numRows }, (_, i) => batch.slice(i, i + 1)) : [batch];
        for (const piece of pieces) {
          run.observe(piece);
          show(run.flush());
        }
        fed += batch.numRows;
      }
      const final = run.finish();
      show(final);
      const finalKeys = new Set(final.map(anomalyKey));
      expect([...flushedKeys].filter((key) => !finalKeys.has(key))).toEqual([]);
      // Once each, plus escalations; the last line of each anomaly carries its final severity.
      const last = new Map<string, string>();
      for (const line of lines) {
        expect(last.has(line.key)).toBe(line.escalated);
        last.set(line.key, line.severity);
      }
      expect(Object.fromEntries([...last].sort())).toEqual(Object.fromEntries(final.map((a) => [anomalyKey(a), a.severity] as const).sort()));
    },
    120_000,
  );
});
