// Detectors on the syscall rows: windows never seen in training (stide runs, severity by the calibrated
// frame novelty threshold), syscalls never seen at all, and per-process rates far from the baseline's.
import type { RecordBatch } from 'apache-arrow';
import type { BaselineDocument } from '../baseline/document.js';
import type { AnomalyModel } from '../model/anomaly-model.js';
import { SequenceDetector, type WindowAnomaly } from '../model/sequence-detector.js';
import { UNSEEN_SYMBOL } from '../model/syscall-vocabulary.js';
import { syscallName } from '../trace/syscalls.js';
import type { Anomaly, Detector, Severity } from './anomaly.js';
import { groupByThread, viewOf } from './batch-view.js';
import { rateStats, worstKey, WindowCounter, type RateStats, type RateWindow } from './rates.js';

/** Syscalls whose first appearance is itself a sign of tampering or injection. */
const DANGEROUS_SYSCALLS = new Set(['ptrace', 'process_vm_readv', 'process_vm_writev', 'init_module', 'finit_module', 'bpf', 'memfd_create', 'execveat', 'kexec_load', 'kexec_file_load', 'pidfd_getfd', 'userfaultfd', 'io_uring_setup']);

interface ThreadInfo {
  pid: number;
  comm: string;
  /** ts of the last calls before the current batch (ring by call position), for windows spanning batches. */
  recentTs: BigInt64Array;
  /** Times of each run of unseen windows, by the run object the model keeps. */
  times: Map<WindowAnomaly, { first: bigint; last: bigint }>;
}

/** novel_sequence and novel_syscall. */
/** One detector per loaded model, never fed itself: each trace gets a copy without threads (withoutThreads). */
const TRAINED_DETECTORS = new WeakMap<AnomalyModel, SequenceDetector>();

export class SyscallSequenceAnomalies implements Detector {
  private readonly detector: SequenceDetector;
  private readonly threads = new Map<number, ThreadInfo>();
  private readonly novel = new Map<string, { nr: number; pid: number; tid: number; comm: string; first: bigint; last: bigint; count: number }>();
  private readonly windowLength: number;

  constructor(
    private readonly model: AnomalyModel,
    private readonly baseline: BaselineDocument,
  ) {
    let trained = TRAINED_DETECTORS.get(model);
    if (trained === undefined) TRAINED_DETECTORS.set(model, (trained = new SequenceDetector(model.windows, undefined, model.options, undefined, model.thresholds.scales)));
    this.detector = trained.withoutThreads();
    this.windowLength = model.windows.windowLength;
  }

  observe(batch: RecordBatch): void {
    const view = viewOf(batch);
    const groups = groupByThread(view);
    const { order, nrs, starts } = groups;
    const vocabulary = this.model.windows.vocabulary;
    const k = this.windowLength;
    for (let g = 0; g < groups.tids.length; g++) {
      const tid = groups.tids[g]!;
      const start = starts[g]!;
      const end = starts[g + 1]!;
      let info = this.threads.get(tid);
      if (info === undefined) {
        const row = order[start]!;
        info = { pid: view.pid[row]!, comm: view.comm(row), recentTs: new BigInt64Array(k), times: new Map() };
        this.threads.set(tid, info);
      }
      const before = this.detector.position(tid);
      const runsBefore = this.detector.liveAnomalies(tid).length;
      const openBefore = runsBefore > 0 ? this.detector.liveAnomalies(tid)[runsBefore - 1]!.last : -1;
      // Calls of syscalls never seen in training: rare, so only then are this thread's calls looked at again.
      if (this.detector.observe(tid, nrs.subarray(start, end)) > 0) {
        for (let i = start; i < end; i++) {
          if (vocabulary.symbolOf(nrs[i]!) !== UNSEEN_SYMBOL) continue;
          const ts = view.ts[order[i]!]!;
          const key = `${info.pid}:${nrs[i]}`;
          const seen = this.novel.get(key);
          if (seen === undefined) this.novel.set(key, { nr: nrs[i]!, pid: info.pid, tid, comm: info.comm, first: ts, last: ts, count: 1 });
          else {
            seen.last = ts;
            seen.count++;
          }
        }
      }
      const tsAt = (position: number): bigint =>
        position >= before ? view.ts[order[start + position - before]!]! : info.recentTs[((position % k) + k) % k]!;
      const runs = this.detector.liveAnomalies(tid);
      for (let r = Math.max(0, runsBefore - 1); r < runs.length; r++) {
        const run = runs[r]!;
        const times = info.times.get(run);
        if (times === undefined) info.times.set(run, { first: tsAt(run.first), last: tsAt(run.last) });
        else if (r === runsBefore - 1 && run.last !== openBefore) times.last = tsAt(run.last);
      }
      for (let p = Math.max(before, before + end - start - k); p < before + end - start; p++) info.recentTs[p % k] = tsAt(p);
    }
  }

  finish(): Anomaly[] {
    const anomalies: Anomaly[] = [];
    const frame = this.model.thresholds.frameNovelty;
    const high = this.baseline.calibration.novel_sequence_high_frame_novelty;
    const mostNovel = this.model.options.frameLength * this.windowLength;
    for (const [tid, info] of [...this.threads].sort((a, b) => a[0] - b[0])) {
      const score = this.detector.finish(tid);
      for (const run of score.anomalies) {
        const live = [...info.times.entries()].find(([key]) => key.first === run.first && key.last === run.last);
        const times = live?.[1] ?? { first: 0n, last: 0n };
        const severity: Severity = run.maxFrameNovelty >= high ? 'high' : run.maxFrameNovelty >= frame ? 'medium' : 'low';
        const names = run.window.map(syscallName);
        anomalies.push({
          kind: 'novel_sequence',
          severity,
          first_ts_ns: times.first,
          last_ts_ns: times.last,
          pid: info.pid,
          tid,
          comm: info.comm,
          count: run.unseenWindows,
          summary: `${run.unseenWindows} unseen window${run.unseenWindows === 1 ? '' : 's'} of ${this.windowLength} syscalls, first: ${names.join(' ')} (frame novelty ${run.maxFrameNovelty}/${mostNovel}, threshold ${frame})`,
          evidence: {
            window: names,
            window_nrs: run.window,
            unseen_windows: run.unseenWindows,
            max_frame_novelty: run.maxFrameNovelty,
            frame_threshold: frame,
            high_frame_novelty: high,
            first_call: run.first,
            last_call: run.last,
            thread_score: round(score.score),
            thread_score_threshold: round(this.model.thresholds.score),
          },
        });
      }
    }
    for (const n of [...this.novel.values()]) {
      const name = syscallName(n.nr);
      anomalies.push({
        kind: 'novel_syscall',
        severity: DANGEROUS_SYSCALLS.has(name) ? 'high' : 'medium',
        first_ts_ns: n.first,
        last_ts_ns: n.last,
        pid: n.pid,
        tid: n.tid,
        comm: n.comm,
        count: n.count,
        summary: `syscall ${name} (${n.nr}) never seen in training, called ${n.count} time${n.count === 1 ? '' : 's'}`,
        evidence: { syscall: name, nr: n.nr },
      });
    }
    return anomalies;
  }
}

/** Fixed float formatting for output: 6 decimals, so equal inputs print equal bytes on every machine. */
export function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 1e6) / 1e6 : value;
}

/** Runs of consecutive rate windows of one process at or above the threshold, merged into one anomaly. */
export class RateRuns {
  private readonly open = new Map<number, Anomaly>();
  readonly anomalies: Anomaly[] = [];
  constructor(
    private readonly kind: 'rate_deviation' | 'libcall_rate_deviation',
    private readonly threshold: number,
    private readonly stats: ReadonlyMap<number, RateStats>,
    private readonly keyName: (key: number) => string,
    private readonly base: () => bigint,
    private readonly who: (pid: number) => { tid: number; comm: string },
  ) {}

  window(window: RateWindow): void {
    const worst = worstKey(window, this.stats);
    const previous = this.open.get(window.group);
    if (worst === undefined || worst.z < this.threshold) {
      this.open.delete(window.group);
      return;
    }
    const first = this.base() + BigInt(Math.round(window.firstT));
    const last = this.base() + BigInt(Math.round(window.lastT));
    const severity: Severity = worst.z >= 4 * this.threshold ? 'high' : 'medium';
    if (previous !== undefined) {
      previous.last_ts_ns = last;
      previous.count++;
      if (worst.z > (previous.evidence.z as number)) {
        previous.severity = severity;
        previous.evidence = this.evidence(worst);
      }
      previous.summary = this.summary(previous);
      return;
    }
    const { tid, comm } = this.who(window.group);
    const anomaly: Anomaly = { kind: this.kind, severity, first_ts_ns: first, last_ts_ns: last, pid: window.group, tid, comm, count: 1, summary: '', evidence: this.evidence(worst) };
    anomaly.summary = this.summary(anomaly);
    this.anomalies.push(anomaly);
    this.open.set(window.group, anomaly);
  }

  private evidence(worst: { key: number; count: number; z: number; stats: RateStats }): Record<string, unknown> {
    return { key: this.keyName(worst.key), count: worst.count, z: round(worst.z), threshold: this.threshold, median: worst.stats.median, mad: worst.stats.mad, q99: round(worst.stats.q99), max: worst.stats.max };
  }

  private summary(anomaly: Anomaly): string {
    const e = anomaly.evidence as { key: string; count: number; z: number; median: number; q99: number };
    const windows = anomaly.count === 1 ? 'one window' : `${anomaly.count} windows in a row`;
    return `${e.key} called ${e.count} times in a window (baseline median ${e.median}, q99 ${e.q99}, z ${e.z.toFixed(1)} >= ${this.threshold}); ${windows}`;
  }
}

/** rate_deviation: per process, calls per syscall per window against the baseline's rate statistics. */
export class SyscallRateAnomalies implements Detector {
  private readonly counter: WindowCounter;
  private readonly runs: RateRuns;
  private base: bigint | undefined;
  private readonly firstThread = new Map<number, { tid: number; comm: string }>();

  constructor(baseline: BaselineDocument) {
    const stats = new Map<number, RateStats>(Object.entries(baseline.model.frequency.rates).map(([nr, s]) => [Number(nr), s]));
    this.runs = new RateRuns('rate_deviation', baseline.calibration.rate_deviation.z, stats, syscallName, () => this.base!, (pid) => this.firstThread.get(pid) ?? { tid: pid, comm: '' });
    this.counter = new WindowCounter(baseline.model.frequency.options.windowNs, (window) => this.runs.window(window));
  }

  observe(batch: RecordBatch): void {
    const view = viewOf(batch);
    if (view.rows === 0) return;
    this.base ??= view.ts[0]!;
    this.counter.addRows(view.pid, view.nr, view.ts, this.base, view.rows, view.eventRows, (pid, row) => this.firstThread.set(pid, { tid: view.tid[row]!, comm: view.comm(row) }));
  }

  finish(): Anomaly[] {
    this.counter.finish(true);
    return this.runs.anomalies;
  }
}

export { rateStats };
