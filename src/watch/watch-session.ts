// gpo watch: a recording session (src/capture, unchanged) whose batches are read back from its stream as
// the addon writes them and scored by the same ScoringRun as `gpo score`. Anomalies are reported as found;
// at the end the run finishes like an offline score of the trace it wrote, and gives the same report.
import { mkdtempSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedBaseline } from '../baseline/document.js';
import { GpoError } from '../errors.js';
import { CONSUMER_NICE, RecordingSession, type RecordOptions, type RecordingSummary } from '../capture/session.js';
import type { Severity } from '../detectors/anomaly.js';
import { ScoringRun, scoreReport, type ScoreReport } from '../score/score-trace.js';
import { recordingOf } from '../trace/recording.js';
import { ipcPathFor } from '../trace/output-file.js';
import { PrintedAnomalies, type LiveAnomaly } from './printed-anomalies.js';
import { RecordingStreamTail } from './stream-tail.js';

/**
 * Longest a partial batch waits in the recorder before it is written (and read back here). The recorder
 * drains the ring buffer every millisecond; at idle a lone row is written at the next drain, under a
 * trickle of rows the wait is at most this. It bounds alert latency at idle and costs a small IPC message
 * per period.
 */
export const LIVE_DELIVERY_MS = 20;
/**
 * The same for a batch holding a row that is not a syscall (an act, a library load, a process event): what
 * most alerts are about, so it goes at the recorder's next drain once the last write is this old. Such rows
 * are rare; under a storm of them this keeps batches to at most 500 a second.
 */
export const LIVE_EVENT_DELIVERY_MS = 2;
/**
 * Period of the read timer, besides the read after every batch the recorder reports (the addon writes a
 * batch before its report reaches JavaScript). Every read that brings rows flushes the scorers, open rate
 * windows included (Scorer.flush: a window is reported once it reaches its threshold, not when it ends),
 * so nothing waits for rows that may never come. Scorers are functions of the rows they have seen, so a
 * flush with no new rows would find nothing new: the timer reads, and flushes only when rows came.
 */
export const LIVE_FLUSH_MS = 50;
/**
 * Nice value of gpo watch's JavaScript thread once the target runs: the alert path (read the stream, score,
 * print) runs on it, and under load it waited for a CPU far longer than it worked (bench/watch, README:
 * Performance). Set after the target is started, so the target does not inherit it; only this thread (Linux
 * nice values are per thread; threads started later by it inherit it, the Parquet worker sets its own).
 */
export const WATCH_NICE = CONSUMER_NICE;

export interface WatchOptions {
  /** What to record, as for gpo record; without `output`, a temporary trace removed at the end. */
  record: Omit<RecordOptions, 'output' | 'deliveryMs' | 'eventDeliveryMs' | 'onBatch' | 'convert'> & { output?: string };
  baseline: LoadedBaseline;
  baselinePath: string;
  /** The allow file already added to `baseline` (--allow), named in the report. */
  allowPath?: string;
  failOn: Severity | 'none';
  /** An anomaly found (or one whose severity rose): `detectedNs` is CLOCK_MONOTONIC when it was found. */
  onAnomaly: (found: LiveAnomaly, detectedNs: bigint, metadata: { wallOffsetNs: bigint; recordingId: string | null }) => void;
  /** Stop asked for (SIGINT/SIGTERM): the session is handed here once running. */
  onSession?: (session: RecordingSession) => void;
}

export interface WatchResult {
  report: ScoreReport;
  summary: RecordingSummary;
  /** The trace written, or null when it was temporary (removed). */
  trace: string | null;
}

export async function watch(options: WatchOptions): Promise<WatchResult> {
  const temporaryDir = options.record.output === undefined ? mkdtempSync(join(tmpdir(), 'gpo-watch-')) : null;
  const output = options.record.output ?? join(temporaryDir!, 'trace.parquet');
  const printed = new PrintedAnomalies();
  let tail: RecordingStreamTail | null = null;
  let run: ScoringRun | null = null;
  let failure: unknown = null;
  let wallOffsetNs = 0n;
  let recordingId: string | null = null;

  const report = (found: LiveAnomaly[]) => {
    const now = process.hrtime.bigint();
    for (const f of found) options.onAnomaly(f, now, { wallOffsetNs, recordingId });
  };
  // Reads what the recorder has written since the last call, scores it, reports what is new.
  const pump = () => {
    if (failure !== null) return;
    try {
      if (tail === null) return;
      const batches = tail.read();
      if (run === null && tail.metadata !== null) {
        run = new ScoringRun(options.baseline, tail.metadata.target);
        wallOffsetNs = BigInt(tail.metadata.clock.wall_offset_ns);
        recordingId = tail.metadata.recording_id ?? null;
      }
      if (run === null || batches.length === 0) return;
      for (const batch of batches) run.observe(batch);
      report(printed.news(run.flush()));
    } catch (err) {
      failure = err;
      session.requestStop('error');
    }
  };

  const session = new RecordingSession({
    ...options.record,
    output,
    deliveryMs: LIVE_DELIVERY_MS,
    eventDeliveryMs: LIVE_EVENT_DELIVERY_MS,
    onBatch: pump,
    // A temporary trace is never converted to Parquet: nobody will read it, so stopping waits for nothing.
    convert: temporaryDir === null,
    // The stream exists once the target is followed; opened now, it stays readable to its end.
    onStarted: (target) => {
      tail = new RecordingStreamTail(ipcPathFor(output));
      raisePriority();
      options.record.onStarted?.(target);
    },
  });
  options.onSession?.(session);
  const timer = setInterval(pump, LIVE_FLUSH_MS);
  try {
    const summary = await session.run();
    clearInterval(timer);
    // The rest of the stream (converted and removed by now with -o; the open file is still readable).
    pump();
    if (failure !== null) throw failure;
    if (run === null) throw new GpoError(`${ipcPathFor(output)}: the recording stream has no schema message`);
    const scoring: ScoringRun = run;
    const anomalies = scoring.finish();
    report(printed.news(anomalies));
    return {
      report: scoreReport(
        scoring,
        anomalies,
        { path: output, metadata: summary.metadata },
        await recordingOf({ path: output, metadata: summary.metadata }),
        options.baseline,
        { baselinePath: options.baselinePath, allowPath: options.allowPath, failOn: options.failOn },
      ),
      summary,
      trace: temporaryDir === null ? output : null,
    };
  } finally {
    clearInterval(timer);
    (tail as RecordingStreamTail | null)?.close();
    if (temporaryDir !== null) rmSync(temporaryDir, { recursive: true, force: true });
  }
}

/** This thread at WATCH_NICE; best effort (it needs CAP_SYS_NICE). */
function raisePriority(): void {
  try {
    setPriority(WATCH_NICE);
  } catch {
    // Not allowed: alerts wait for a CPU like any other work.
  }
}
