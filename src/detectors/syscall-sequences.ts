// Syscall sequences (novel_sequence, novel_syscall): windows of 6 calls of a thread never seen in training
// (stide, with t-stide rarity from the counts and frame novelty over the last 20 windows), and syscalls
// never seen at all. Training keeps one window model per calibration unit, scores every unit with the
// model of the others (held out) and sets the thresholds from those scores. Baseline: `model` (windows,
// options, thresholds, calibration evidence) and `calibration` (unit, method, false-alarm rates,
// novel_sequence_high_frame_novelty). The model is docs/models.md.
import type { BaselineDocument, LoadedBaseline, SequenceHeldOut } from '../baseline/document.js';
import { GpoError } from '../errors.js';
import { ANOMALY_MODEL_VERSION, AnomalyModel, type AnomalyModelOptions } from '../model/anomaly-model.js';
import { thresholdsFromHeldOut, type CalibrationEvidence, type Thresholds } from '../model/calibration.js';
import { resized, SequenceDetector, UNIT_SCORE_SCALES, type SequenceScore, type WindowAnomaly } from '../model/sequence-detector.js';
import { SyscallVocabulary, UNSEEN_SYMBOL } from '../model/syscall-vocabulary.js';
import { SyscallWindowModel, type SyscallWindowModelJson } from '../model/syscall-window-model.js';
import { groupByThread, viewOf, type BatchView } from '../trace/batch-view.js';
import { syscallName } from '../trace/syscalls.js';
import { round, type Anomaly, type Severity } from './anomaly.js';
import { defineDetector, type BaselineFragment, type LearnContext, type Learner, type MergeContext, type Scorer, type TrainingPlan } from './detector.js';
import { sameInEvery, sumCounts } from './merge-parts.js';
import { mergeTallies, RecordingTally } from './recording-tally.js';
import { StringPool } from './string-ids.js';
import { SyscallReplay } from './syscall-replay.js';

/** Syscalls whose first appearance is itself a sign of tampering or injection. */
const DANGEROUS_SYSCALLS = new Set([
  'ptrace',
  'process_vm_readv',
  'process_vm_writev',
  'init_module',
  'finit_module',
  'bpf',
  'memfd_create',
  'execveat',
  'kexec_load',
  'kexec_file_load',
  'pidfd_getfd',
  'userfaultfd',
  'io_uring_setup',
]);

interface ThreadInfo {
  pid: number;
  comm: string;
  /**
   * ts of the last calls before the current batch (ring by call position), for windows spanning batches;
   * as long as the thread's calls while it has fewer than the window.
   */
  recentTs: bigint[];
  /** Times of each run of unseen windows, by the run object the model keeps (from the thread's first run). */
  times: Map<WindowAnomaly, { first: bigint; last: bigint }> | undefined;
}

/** One detector per loaded model, never fed itself: each trace gets a copy without threads (withoutThreads). */
const TRAINED_DETECTORS = new WeakMap<AnomalyModel, SequenceDetector>();

/** novel_sequence and novel_syscall. */
class SyscallSequenceScorer implements Scorer {
  private readonly detector: SequenceDetector;
  private readonly threads = new Map<number, ThreadInfo>();
  private readonly comms = new StringPool();
  private readonly novel = new Map<string, { nr: number; pid: number; tid: number; comm: string; first: bigint; last: bigint; count: number }>();
  private readonly windowLength: number;
  private readonly model: AnomalyModel;
  private readonly baseline: BaselineDocument;

  constructor(loaded: LoadedBaseline) {
    this.model = loaded.model;
    this.baseline = loaded.document;
    let trained = TRAINED_DETECTORS.get(loaded.model);
    if (trained === undefined)
      TRAINED_DETECTORS.set(loaded.model, (trained = new SequenceDetector(loaded.model.windows, loaded.model.options, loaded.model.thresholds.scales)));
    this.detector = trained.withoutThreads();
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
        info = { pid: view.pid[row]!, comm: this.comms.get(view.comm(row)), recentTs: [], times: undefined };
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
        position >= before ? view.ts[order[start + position - before]!]! : (info.recentTs[((position % k) + k) % k] ?? 0n);
      const runs = this.detector.liveAnomalies(tid);
      for (let r = Math.max(0, runsBefore - 1); r < runs.length; r++) {
        const run = runs[r]!;
        const times = info.times?.get(run);
        if (times === undefined) (info.times ??= new Map()).set(run, { first: tsAt(run.first), last: tsAt(run.last) });
        else if (r === runsBefore - 1 && run.last !== openBefore) times.last = tsAt(run.last);
      }
      const calls = before + end - start;
      if (info.recentTs.length < k && info.recentTs.length < calls) info.recentTs = resized(info.recentTs, Math.min(k, calls), 0n);
      for (let p = Math.max(before, calls - k); p < calls; p++) info.recentTs[p % k] = tsAt(p);
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
        const live = [...(info.times ?? [])].find(([key]) => key.first === run.first && key.last === run.last);
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
  /** Syscall numbers (+ 2^15) the current trace called: for seen_in.syscalls, one flag a number. */
  private readonly traceSyscalls = new Uint8Array(65536);
  private readonly syscallTally = new RecordingTally('syscalls');
  /** Per trace: windows new to its calibration group (null: the group's first trace, or units are threads). */
  private readonly newWindows: (number | null)[] = [];
  private windowsBefore = 0;

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
    if (this.plan.byRecording) this.windowsBefore = this.unitModels[index % this.plan.units]!.distinct(this.plan.settings.windowLength);
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
    const flags = this.traceSyscalls;
    const nrs = groups.nrs;
    for (let i = 0; i < nrs.length; i++) flags[(nrs[i]! + 32768) & 0xffff] = 1;
  }

  endTrace(): void {
    for (const model of this.unitModels) for (const tid of this.threads) model.endThread(this.traceIndex * THREAD_KEY_BASE + tid);
    for (let flag = 0; flag < this.traceSyscalls.length; flag++) if (this.traceSyscalls[flag] === 1) this.syscallTally.see(String(flag - 32768));
    this.traceSyscalls.fill(0);
    this.syscallTally.endRecording();
    const { byRecording, units, settings } = this.plan;
    this.newWindows.push(
      byRecording && this.traceIndex >= units ? this.unitModels[this.traceIndex % units]!.distinct(settings.windowLength) - this.windowsBefore : null,
    );
  }

  /** Every unit scored by the model of the other units, from the kept calls; rows past them read again. */
  private async heldOutScores(reread: LearnContext['reread']): Promise<SequenceScore[]> {
    const { settings } = this.plan;
    const { vocabulary, unitModels } = this;
    const detectors = unitModels.map((model, unit) =>
      model.distinct(1) === 0
        ? undefined
        : new SequenceDetector(
            SyscallWindowModel.merge(
              settings.windowLength,
              vocabulary,
              unitModels.filter((_, other) => other !== unit),
            ),
            settings,
          ),
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
    const unit = byRecording ? 'recording' : 'thread';
    const heldOut = usedUnits >= 2 ? heldOutSamples(await this.heldOutScores(context.reread)) : { frame_novelty: [], scores: [] };
    const tally = this.syscallTally.sections();
    return {
      seen_in: tally.seen_in,
      learning: { ...tally.learning, windows: this.newWindows },
      ...sequenceSections(
        heldOut,
        usedUnits >= 2 ? { unit, units: usedUnits, method: `leave-one-${unit}-group-out (${usedUnits} groups)` } : undefined,
        { ...settings, frequencyWindows: { ...settings.frequencyWindows, windowNs } },
        full.toJSON(),
        context.warnings,
      ),
    };
  }
}

/**
 * The thread-score threshold of a baseline that could not be calibrated: no unit-scaled score reaches it
 * (a call's surprise is at most -ln Number.MIN_VALUE, about 745 nats; the context term at most 2), and it is
 * the top of what a baseline may hold (src/trace/ranges.ts refuses larger ones: a crafted 1e308 would hide).
 */
const UNREACHABLE_UNIT_SCORE = 1000;

/** What the baseline keeps of the held-out scores: enough to compute the thresholds again. */
function heldOutSamples(scores: readonly SequenceScore[]): SequenceHeldOut {
  const frame_novelty: number[] = [];
  for (const score of scores) score.frameNoveltyHistogram.forEach((count, novelty) => (frame_novelty[novelty] = (frame_novelty[novelty] ?? 0) + count));
  return { frame_novelty: Array.from(frame_novelty, (count) => count ?? 0), scores: scores.map((score) => [score.surpriseScore, score.contextScore]) };
}

/**
 * The model and calibration sections from the held-out samples (`held` undefined: nothing could be held
 * out). Training and merging both go through here, so a baseline merged alone gives the same bytes.
 */
function sequenceSections(
  heldOut: SequenceHeldOut,
  held: { unit: 'recording' | 'thread'; units: number; method: string } | undefined,
  options: AnomalyModelOptions,
  windows: SyscallWindowModelJson,
  warnings: string[],
) {
  let thresholds: Thresholds;
  let evidence: CalibrationEvidence;
  if (held !== undefined) {
    // The summed histogram rides on the first score: thresholdsFromHeldOut sums them.
    const scores = heldOut.scores.map(
      ([surpriseScore, contextScore], i) =>
        ({ surpriseScore, contextScore, frameNoveltyHistogram: i === 0 ? heldOut.frame_novelty : [] }) as unknown as SequenceScore,
    );
    ({ thresholds, evidence } = thresholdsFromHeldOut(scores, held.units, options));
  } else {
    warnings.push('one thread in one recording: thresholds cannot be calibrated (every unseen window is reported as medium); train on more recordings');
    thresholds = { scales: UNIT_SCORE_SCALES, score: UNREACHABLE_UNIT_SCORE, frameNovelty: 1 };
    evidence = { folds: 1, heldOutSequences: 0, heldOutWindows: 0, heldOutWindowFalseAlarmRate: 0 };
  }
  /** Largest frame novelty a held-out normal window reached (0: none unseen). */
  let worstHeldOutFrame = 0;
  heldOut.frame_novelty.forEach((count, novelty) => {
    if (count > 0) worstHeldOutFrame = novelty;
  });
  const mostNovel = options.frameLength * options.windowLength;
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
      options,
      thresholds,
      calibration: evidence,
      windows,
    },
    calibration: {
      unit: held?.unit ?? ('none' as const),
      units: held?.units ?? 1,
      method: held?.method ?? 'none',
      window_false_alarm_rate: options.windowFalseAlarmRate,
      sequence_false_alarm_rate: options.sequenceFalseAlarmRate,
      novel_sequence_high_frame_novelty: highFrame,
      sequence_held_out: heldOut,
    },
  };
}

/**
 * Windows add up exactly (vocabulary: the first baseline's, then each next one's new syscalls, in the
 * order one pass over the recordings would have met them). Thresholds: recomputed from the baselines'
 * held-out samples pooled; each sample was scored against its own baseline's other recordings only.
 */
function mergeSequences(parts: readonly BaselineDocument[], context: MergeContext): BaselineFragment {
  const options = sameInEvery(
    parts.map((part) => part.model.options),
    'model options',
  );
  if (parts.some((part) => part.calibration.sequence_held_out === undefined))
    throw new Error('a baseline has no held-out sequence scores (trained by an older gpo): retrain it to merge');
  const vocabulary: number[] = [];
  const known = new Set<number>();
  for (const part of parts)
    for (const nr of part.model.windows.vocabulary)
      if (!known.has(nr)) {
        known.add(nr);
        vocabulary.push(nr);
      }
  const windows: SyscallWindowModelJson = {
    kind: 'gpo.syscall-windows',
    version: 1,
    windowLength: options.windowLength,
    vocabulary,
    windows: sumCounts(parts.map((part) => part.model.windows.windows)),
    startWindows: sumCounts(parts.map((part) => part.model.windows.startWindows)),
  };
  const calibrated = parts.filter((part) => part.calibration.unit !== 'none');
  const heldOut = heldOutSamplesOf(calibrated.map((part) => part.calibration.sequence_held_out!));
  const units = calibrated.reduce((sum, part) => sum + part.calibration.units, 0);
  const held =
    calibrated.length === 0
      ? undefined
      : calibrated.length === 1 && parts.length === 1
        ? { unit: calibrated[0]!.calibration.unit as 'recording' | 'thread', units, method: calibrated[0]!.calibration.method }
        : {
            unit: calibrated[0]!.calibration.unit as 'recording' | 'thread',
            units,
            method: `held-out scores of ${calibrated.length} baselines pooled (${calibrated.map((part) => part.calibration.method).join('; ')})`,
          };
  const tallies = mergeTallies(parts, ['syscalls']);
  return {
    seen_in: tallies.seen_in,
    learning: { ...tallies.learning, windows: parts.flatMap((part) => part.learning!.windows ?? []) },
    ...sequenceSections(heldOut, held, options, windows, context.warnings),
  };
}

function heldOutSamplesOf(parts: readonly SequenceHeldOut[]): SequenceHeldOut {
  const frame_novelty: number[] = [];
  for (const part of parts) part.frame_novelty.forEach((count, novelty) => (frame_novelty[novelty] = (frame_novelty[novelty] ?? 0) + count));
  return { frame_novelty: Array.from(frame_novelty, (count) => count ?? 0), scores: parts.flatMap((part) => part.scores) };
}

/** The window model and thresholds, parsed and checked once when the baseline is read. */
function loadModel(baseline: BaselineDocument): { model: AnomalyModel } {
  try {
    return { model: AnomalyModel.fromJSON(baseline.model) };
  } catch (err) {
    throw new Error(`corrupt baseline model (${(err as Error).message})`);
  }
}

export const syscallSequences = defineDetector(['model', 'calibration'], SyscallSequenceLearner, SyscallSequenceScorer, {
  load: loadModel,
  merge: mergeSequences,
});
