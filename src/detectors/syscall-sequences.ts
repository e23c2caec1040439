// Syscall sequences (novel_sequence, novel_syscall): windows of 6 calls of a thread never seen in training
// (stide, with t-stide rarity from the counts and frame novelty over the last 20 windows), and syscalls
// never seen at all. Training keeps one window model per calibration unit, scores every unit with the
// model of the others (held out) and sets the thresholds from those scores. Baseline: `model` (windows,
// options, thresholds, calibration evidence) and `calibration` (unit, method, false-alarm rates,
// novel_sequence_high_frame_novelty). The model is docs/models.md.
import type { BaselineDocument, LoadedBaseline } from '../baseline/document.js';
import { GpoError } from '../errors.js';
import { ANOMALY_MODEL_VERSION, AnomalyModel } from '../model/anomaly-model.js';
import { thresholdsFromHeldOut, type CalibrationEvidence, type Thresholds } from '../model/calibration.js';
import { SequenceDetector, UNIT_SCORE_SCALES, type SequenceScore, type WindowAnomaly } from '../model/sequence-detector.js';
import { SyscallVocabulary, UNSEEN_SYMBOL } from '../model/syscall-vocabulary.js';
import { SyscallWindowModel } from '../model/syscall-window-model.js';
import { groupByThread, viewOf, type BatchView } from '../trace/batch-view.js';
import { syscallName } from '../trace/syscalls.js';
import { round, type Anomaly, type Severity } from './anomaly.js';
import { defineDetector, type LearnContext, type Learner, type Scorer, type TrainingPlan } from './detector.js';
import { SyscallReplay } from './syscall-replay.js';

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
class SyscallSequenceScorer implements Scorer {
  private readonly detector: SequenceDetector;
  private readonly threads = new Map<number, ThreadInfo>();
  private readonly novel = new Map<string, { nr: number; pid: number; tid: number; comm: string; first: bigint; last: bigint; count: number }>();
  private readonly windowLength: number;
  private readonly model: AnomalyModel;
  private readonly baseline: BaselineDocument;

  constructor(loaded: LoadedBaseline) {
    this.model = loaded.model;
    this.baseline = loaded.document;
    this.detector = new SequenceDetector(loaded.model.windows, loaded.model.options, loaded.model.thresholds.scales);
    this.windowLength = loaded.model.windows.windowLength;
  }

  observe(view: BatchView): void {
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

  flush(): Anomaly[] {
    return this.report(false);
  }

  finish(): Anomaly[] {
    return this.report(true);
  }

  /** The anomalies of every thread; `end`: the threads' scores are final and they are forgotten. */
  private report(end: boolean): Anomaly[] {
    const anomalies: Anomaly[] = [];
    const frame = this.model.thresholds.frameNovelty;
    const high = this.baseline.calibration.novel_sequence_high_frame_novelty;
    const mostNovel = this.model.options.frameLength * this.windowLength;
    for (const [tid, info] of [...this.threads].sort((a, b) => a[0] - b[0])) {
      const score = end ? this.detector.finish(tid) : this.detector.peek(tid);
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

/** Thread keys of training: trace index * 2^32 + tid, unique across traces. */
const THREAD_KEY_BASE = 4294967296;

class SyscallSequenceLearner implements Learner {
  private readonly vocabulary = new SyscallVocabulary();
  private readonly unitModels: SyscallWindowModel[];
  private readonly replay: SyscallReplay;
  private readonly threadUnit = new Map<number, number>();
  private traceIndex = -1;
  private threads = new Set<number>();

  constructor(private readonly plan: TrainingPlan) {
    this.unitModels = Array.from({ length: plan.units }, () => new SyscallWindowModel(plan.settings.windowLength, this.vocabulary));
    this.replay = new SyscallReplay(plan.replayCalls);
  }

  private readonly unitOfThread = (traceIndex: number, key: number): number => {
    if (this.plan.byRecording) return traceIndex % this.plan.units;
    let unit = this.threadUnit.get(key);
    if (unit === undefined) this.threadUnit.set(key, (unit = this.threadUnit.size % this.plan.units));
    return unit;
  };

  beginTrace(index: number): void {
    this.traceIndex = index;
    this.threads = new Set();
  }

  observe(view: BatchView): void {
    if (view.rows === 0) return;
    const traceIndex = this.traceIndex;
    const groups = groupByThread(view);
    for (let g = 0; g < groups.tids.length; g++) {
      const tid = groups.tids[g]!;
      const key = traceIndex * THREAD_KEY_BASE + tid;
      this.threads.add(tid);
      this.unitModels[this.unitOfThread(traceIndex, key)]!.observe(key, groups.nrs.subarray(groups.starts[g]!, groups.starts[g + 1]!));
    }
    this.replay.add(traceIndex, groups, view.rows);
  }

  endTrace(): void {
    for (const model of this.unitModels) for (const tid of this.threads) model.endThread(this.traceIndex * THREAD_KEY_BASE + tid);
  }

  /** Every unit scored by the model of the other units, from the kept calls; rows past them read again. */
  private async heldOutScores(reread: LearnContext['reread']): Promise<SequenceScore[]> {
    const { settings } = this.plan;
    const { vocabulary, unitModels } = this;
    const detectors = unitModels.map((model, unit) =>
      model.distinct(1) === 0 ? undefined : new SequenceDetector(SyscallWindowModel.merge(settings.windowLength, vocabulary, unitModels.filter((_, other) => other !== unit)), settings),
    );
    const scores: SequenceScore[] = [];
    for (let traceIndex = 0; traceIndex <= this.traceIndex; traceIndex++) {
      const observe = (tid: number, nrs: Int32Array) => {
        const key = traceIndex * THREAD_KEY_BASE + tid;
        detectors[this.unitOfThread(traceIndex, key)]?.observe(key, nrs);
      };
      this.replay.replay(traceIndex, observe);
      this.replay.release(traceIndex);
      if (!this.replay.isComplete(traceIndex)) {
        for await (const batch of reread(traceIndex, this.replay.rowsOf(traceIndex))) {
          const groups = groupByThread(viewOf(batch));
          for (let g = 0; g < groups.tids.length; g++) observe(groups.tids[g]!, groups.nrs.subarray(groups.starts[g]!, groups.starts[g + 1]!));
        }
      }
      for (const detector of detectors) {
        if (detector === undefined) continue;
        for (const thread of detector.activeThreads()) scores.push(detector.finish(thread));
      }
    }
    return scores;
  }

  async finish(context: LearnContext) {
    const { settings, windowNs, byRecording } = this.plan;
    const { vocabulary, unitModels } = this;
    const full = SyscallWindowModel.merge(settings.windowLength, vocabulary, unitModels);
    if (full.total(1) === 0) throw new GpoError(`no syscall rows in ${context.describe}: nothing to learn from`);
    const usedUnits = unitModels.filter((model) => model.distinct(1) > 0).length;

    let thresholds: Thresholds;
    let evidence: CalibrationEvidence;
    /** Largest frame novelty a held-out normal window reached (0: none unseen). */
    let worstHeldOutFrame = 0;
    let unitKind: BaselineDocument['calibration']['unit'] = byRecording ? 'recording' : 'thread';
    if (usedUnits >= 2) {
      const heldOut = await this.heldOutScores(context.reread);
      ({ thresholds, evidence } = thresholdsFromHeldOut(heldOut, usedUnits, settings));
      worstHeldOutFrame = worstFrameNovelty(heldOut);
    } else {
      unitKind = 'none';
      context.warnings.push('one thread in one recording: thresholds cannot be calibrated (every unseen window is reported as medium); train on more recordings');
      thresholds = { scales: UNIT_SCORE_SCALES, score: Number.MAX_VALUE, frameNovelty: 1 };
      evidence = { folds: 1, heldOutSequences: 0, heldOutWindows: 0, heldOutWindowFalseAlarmRate: 0 };
    }

    const mostNovel = settings.frameLength * settings.windowLength;
    // High: halfway from where normal ends to the most novel frame (every call a syscall never trained on).
    // Normal ends at the frame threshold, or beyond it where a held-out normal window went further: the
    // threshold is a quantile over windows, and a program's repetitive stretches (a startup loop) can hold
    // it down while its threads' timing still makes short runs of novel interleavings.
    const normalEnd = Math.max(thresholds.frameNovelty, worstHeldOutFrame + 1);
    const highFrame = normalEnd > mostNovel ? mostNovel + 1 : Math.min(mostNovel, normalEnd + Math.ceil((mostNovel + 1 - normalEnd) / 2));
    return {
      model: {
        kind: 'gpo.anomaly-model' as const,
        version: ANOMALY_MODEL_VERSION as typeof ANOMALY_MODEL_VERSION,
        options: { ...settings, frequencyWindows: { ...settings.frequencyWindows, windowNs } },
        thresholds,
        calibration: evidence,
        windows: full.toJSON(),
      },
      calibration: {
        unit: unitKind,
        units: unitKind === 'none' ? 1 : usedUnits,
        method: unitKind === 'none' ? 'none' : `leave-one-${unitKind}-group-out (${usedUnits} groups)`,
        window_false_alarm_rate: settings.windowFalseAlarmRate,
        sequence_false_alarm_rate: settings.sequenceFalseAlarmRate,
        novel_sequence_high_frame_novelty: highFrame,
      },
    };
  }
}

function worstFrameNovelty(scores: readonly SequenceScore[]): number {
  let worst = 0;
  for (const score of scores) for (let novelty = score.frameNoveltyHistogram.length - 1; novelty > worst; novelty--) if (score.frameNoveltyHistogram[novelty]! > 0) worst = novelty;
  return worst;
}

/** The window model and thresholds, parsed and checked once when the baseline is read. */
function loadModel(baseline: BaselineDocument): { model: AnomalyModel } {
  try {
    return { model: AnomalyModel.fromJSON(baseline.model) };
  } catch (err) {
    throw new Error(`corrupt baseline model (${(err as Error).message})`);
  }
}

export const syscallSequences = defineDetector(['model', 'calibration'], SyscallSequenceLearner, SyscallSequenceScorer, loadModel);
