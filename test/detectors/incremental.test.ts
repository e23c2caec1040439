// The scorers as a live session drives them: small batches fed one by one, a flush asked now and then.
// Flushing must not change what scoring finds: the final anomalies equal gpo score's on the whole trace,
// and whatever a flush showed is among them.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareAnomalies, severityRank, type Anomaly } from '../../src/detectors/anomaly.js';
import { readBaseline } from '../../src/detectors/load-baseline.js';
import { createScorers, scoreTrace } from '../../src/score/score-trace.js';
import { TRACE_COLUMNS, viewOf } from '../../src/trace/batch-view.js';
import { openTrace } from '../../src/trace/reader.js';

const recording = (name: string) => fileURLToPath(new URL(`../../recordings/${name}`, import.meta.url));

describe('scorers fed batch by batch with flushes', () => {
  it.each(['inject.parquet', 'speedhack.parquet', 'vm-reader.parquet'])('%s: flushes grow, and the end equals gpo score', async (name) => {
    const baseline = readBaseline(recording('baseline.json'));
    const trace = await openTrace(recording(name));
    const scorers = createScorers(baseline, trace.metadata.target);
    let batches = 0;
    let flushed = 0;
    /** Every anomaly a flush showed (by the identity a live session keys on) and the highest severity shown. */
    const shown = new Map<string, number>();
    const key = (a: Anomaly) => `${a.kind} ${a.pid} ${a.tid} ${a.first_ts_ns}`;
    for await (const batch of trace.batches({ columns: [...TRACE_COLUMNS], batchRows: 4096 })) {
      const view = viewOf(batch);
      if (view.rows === 0) continue;
      for (const scorer of scorers) scorer.observe(view);
      if (++batches % 3 === 0) {
        const now = scorers.flatMap((scorer) => scorer.flush());
        // Nothing found so far is forgotten by a later flush (runs may grow, not vanish).
        expect(now.length).toBeGreaterThanOrEqual(flushed);
        flushed = now.length;
        for (const a of now) shown.set(key(a), Math.max(shown.get(key(a)) ?? 0, severityRank(a.severity)));
      }
    }
    expect(batches).toBeGreaterThan(3);
    const live: Anomaly[] = scorers.flatMap((scorer) => scorer.finish()).sort(compareAnomalies);
    const whole = await scoreTrace(await openTrace(recording(name)), baseline, { baselinePath: 'recordings/baseline.json' });
    expect(whole.anomalies.length).toBeGreaterThan(0);
    // The report adds the recording's id to each anomaly; the scorers do not know it.
    expect(live.map((anomaly) => ({ recording_id: whole.recording.id, ...anomaly }))).toEqual(whole.anomalies);
    // What a flush showed is found in the end, at that severity or higher (open rate windows included).
    const final = new Map(live.map((a) => [key(a), severityRank(a.severity)]));
    for (const [shownKey, rank] of shown) expect(final.get(shownKey), shownKey).toBeGreaterThanOrEqual(rank);
  });
});
