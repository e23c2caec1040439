// gpo train: learns a baseline from normal recordings of one program, reading each trace once as a stream
// of batches (memory bounded by the profile and a fixed budget of kept calls, not the trace). The pass
// trains one syscall window model per calibration unit (recordings, or threads of a single recording) and
// collects rates and profiles; then every unit is scored with a model trained on the other units (from the
// kept calls; rows past the budget are read again), and the thresholds come from those held-out scores.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { quantileSorted } from 'simple-statistics';
import { GpoError } from '../errors.js';
import { ANOMALY_MODEL_VERSION, DEFAULT_ANOMALY_MODEL_OPTIONS, type AnomalyModelOptions } from '../model/anomaly-model.js';
import { thresholdsFromHeldOut, type CalibrationEvidence, type Thresholds } from '../model/calibration.js';
import { SequenceDetector, UNIT_SCORE_SCALES, type SequenceScore } from '../model/sequence-detector.js';
import { SyscallVocabulary } from '../model/syscall-vocabulary.js';
import { SyscallWindowModel } from '../model/syscall-window-model.js';
import { openTrace, type TraceFile } from '../trace/reader.js';
import { progress, withProgress } from '../report/progress.js';
import { GPO_VERSION } from '../version.js';
import type { RecordBatch } from 'apache-arrow';
import { groupByThread, timeOffset, TRACE_BATCH_ROWS, TRACE_COLUMNS, viewOf, type BatchView } from '../score/batch-view.js';
import type { TargetInfo } from '../trace/metadata.js';
import { SyscallReplay } from './syscall-replay.js';
import { classifyEvent } from '../score/events.js';
import { rateStats, worstKey, WindowCounter, type RateStats, type RateWindow } from '../score/rates.js';
import { BASELINE_KIND, BASELINE_VERSION, canonicalJson, type BaselineDocument, type ProgramIdentity, type RateThreshold, type TrainedTrace } from './document.js';
import { StringIds } from '../score/string-ids.js';

export interface TrainOptions {
  model?: Partial<AnomalyModelOptions>;
  /** Rate windows in ns of trace time. */
  windowNs?: number;
  /** Syscalls kept in memory for the held-out scoring (2 bytes each); the rest is read again. */
  replayCalls?: number;
}

/** Robust z-score a rate window must reach when there were no held-out windows to calibrate on. */
export const DEFAULT_RATE_Z = 10;
/** Floor of a calibrated rate threshold, in robust SDs: below it normal jitter would alarm. */
const MIN_RATE_Z = 3;
const THREAD_KEY_BASE = 4294967296;

export interface TrainResult {
  baseline: BaselineDocument;
  /** One line each: things the user should know (mixed programs, no calibration possible). */
  warnings: string[];
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function identityOf(trace: TraceFile): ProgramIdentity {
  const t = trace.metadata.target;
  return { exe: t.exe, build_id: t.build_id, exe_sha256: t.exe_sha256 };
}

interface LabelledWindow extends RateWindow {
  unit: number;
}

/** What pass 1 learns besides the syscall windows: libraries, children, threads, allowed acts. */
class ProfileCollector {
  readonly mappings = new Map<string, { path: string; dev: number | null; inode: number | null }>();
  readonly libcalls = new Map<string, Set<string>>();
  readonly children = new Set<string>();
  readonly threadNames = new Set<string>();
  readonly allowed = new Map<string, number>();
  readonly loaderEnv = new Map<string, Set<string>>();
  readonly funcs = new StringIds();
  threadCounts: number[] = [];
}

/** Pass 1 state: one syscall window model per calibration unit, rate windows, the profile, the kept calls. */
export class BaselineTrainer {
  readonly settings: AnomalyModelOptions;
  readonly windowNs: number;
  readonly byRecording: boolean;
  readonly units: number;
  readonly vocabulary = new SyscallVocabulary();
  readonly unitModels: SyscallWindowModel[];
  readonly syscallWindows: LabelledWindow[] = [];
  readonly libcallWindows: LabelledWindow[] = [];
  readonly profile = new ProfileCollector();
  readonly replay: SyscallReplay;
  private readonly threadUnit = new Map<number, number>();
  private traceIndex = -1;
  private trace!: TraceInProgress;

  constructor(traceCount: number, options: TrainOptions = {}) {
    this.settings = { ...DEFAULT_ANOMALY_MODEL_OPTIONS, ...options.model };
    this.windowNs = options.windowNs ?? this.settings.frequencyWindows.windowNs;
    this.byRecording = traceCount >= 2;
    this.units = this.byRecording ? Math.min(this.settings.folds, traceCount) : this.settings.folds;
    this.unitModels = Array.from({ length: this.units }, () => new SyscallWindowModel(this.settings.windowLength, this.vocabulary));
    this.replay = new SyscallReplay(options.replayCalls);
  }

  readonly unitOfThread = (traceIndex: number, key: number): number => {
    if (this.byRecording) return traceIndex % this.units;
    let unit = this.threadUnit.get(key);
    if (unit === undefined) this.threadUnit.set(key, (unit = this.threadUnit.size % this.units));
    return unit;
  };

  /** Starts the next trace (traces are numbered from 0 in the order begun). */
  beginTrace(target: TargetInfo): void {
    const traceIndex = ++this.traceIndex;
    let windowsOfTrace = 0;
    const units = this.units;
    const byRecording = this.byRecording;
    const label = (into: LabelledWindow[]) => (window: RateWindow) => into.push({ ...window, unit: byRecording ? traceIndex % units : windowsOfTrace++ % units });
    this.trace = {
      target,
      syscallRates: new WindowCounter(this.windowNs, label(this.syscallWindows)),
      libcallRates: new WindowCounter(this.windowNs, label(this.libcallWindows)),
      threads: new Set<number>(),
      base: undefined,
      rows: 0,
      syscalls: 0,
    };
  }

  observe(batch: RecordBatch): void {
    const view = viewOf(batch);
    if (view.rows === 0) return;
    const trace = this.trace;
    const traceIndex = this.traceIndex;
    const target = trace.target;
    trace.base ??= view.ts[0]!;
    trace.rows += view.rows;
    const groups = groupByThread(view);
    for (let g = 0; g < groups.tids.length; g++) {
      const tid = groups.tids[g]!;
      const key = traceIndex * THREAD_KEY_BASE + tid;
      if (!trace.threads.has(tid)) {
        trace.threads.add(tid);
        if (target.mode !== 'import') this.profile.threadNames.add(view.comm(groups.order[groups.starts[g]!]!));
      }
      this.unitModels[this.unitOfThread(traceIndex, key)]!.observe(key, groups.nrs.subarray(groups.starts[g]!, groups.starts[g + 1]!));
    }
    trace.syscalls += groups.nrs.length;
    this.replay.add(traceIndex, groups, view.rows);
    // In row (time) order, as scoring counts them: windows close when a later call arrives, so feeding
    // thread after thread would pile other threads' calls into the last window.
    trace.syscallRates.addRows(view.pid, view.nr, view.ts, trace.base, view.rows, view.eventRows);
    for (const row of view.eventRows) collectEvent(view, row, timeOffset(view.ts, row, trace.base), target.pid, target.exe, this.profile, trace.libcallRates);
  }

  /** Ends the current trace: its rows, syscalls and threads. */
  endTrace(): { rows: number; syscalls: number; threads: number } {
    const trace = this.trace;
    trace.syscallRates.finish(false);
    trace.libcallRates.finish(false);
    for (const model of this.unitModels) for (const tid of trace.threads) model.endThread(this.traceIndex * THREAD_KEY_BASE + tid);
    this.profile.threadCounts.push(trace.threads.size);
    for (const [name, value] of Object.entries(trace.target.loader_env)) {
      let values = this.profile.loaderEnv.get(name);
      if (values === undefined) this.profile.loaderEnv.set(name, (values = new Set()));
      values.add(value);
    }
    return { rows: trace.rows, syscalls: trace.syscalls, threads: trace.threads.size };
  }

  /**
   * Every unit scored by the model of the other units, from the kept calls; `reread(trace, fromRow)` gives
   * the batches of a trace from a row on, for the rows past the replay budget.
   */
  async heldOutScores(reread: (traceIndex: number, fromRow: number) => AsyncIterable<RecordBatch> | Iterable<RecordBatch>): Promise<SequenceScore[]> {
    const { settings, vocabulary, unitModels } = this;
    const detectors = unitModels.map((model, unit) =>
      model.distinct(1) === 0
        ? undefined
        : new SequenceDetector(SyscallWindowModel.merge(settings.windowLength, vocabulary, unitModels.filter((_, other) => other !== unit)), undefined, settings),
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

  /** The baseline document, once every trace has been observed. */
  async finish(trained: TrainedTrace[], program: ProgramIdentity, reread: (traceIndex: number, fromRow: number) => AsyncIterable<RecordBatch> | Iterable<RecordBatch>, warnings: string[], describe: string): Promise<BaselineDocument> {
    const { settings, windowNs, vocabulary, unitModels, byRecording, syscallWindows, libcallWindows, profile } = this;
    const full = SyscallWindowModel.merge(settings.windowLength, vocabulary, unitModels);
    if (full.total(1) === 0) throw new GpoError(`no syscall rows in ${describe}: nothing to learn from`);
    const usedUnits = unitModels.filter((model) => model.distinct(1) > 0).length;

    // Every unit scored by the model of the other units.
    let thresholds: Thresholds;
    let evidence: CalibrationEvidence;
    /** Largest frame novelty a held-out normal window reached (0: none unseen). */
    let worstHeldOutFrame = 0;
    let unitKind: BaselineDocument['calibration']['unit'] = byRecording ? 'recording' : 'thread';
    if (usedUnits >= 2) {
      const heldOut = await this.heldOutScores(reread);
      ({ thresholds, evidence } = thresholdsFromHeldOut(heldOut, usedUnits, settings));
      worstHeldOutFrame = worstFrameNovelty(heldOut);
    } else {
      unitKind = 'none';
      warnings.push('one thread in one recording: thresholds cannot be calibrated (every unseen window is reported as medium); train on more recordings');
      thresholds = { scales: UNIT_SCORE_SCALES, score: Number.MAX_VALUE, frameNovelty: 1 };
      evidence = { folds: 1, heldOutSequences: 0, heldOutWindows: 0, heldOutWindowFalseAlarmRate: 0 };
    }

    const syscallStats = rateStats(syscallWindows);
    const libcallStats = rateStats(libcallWindows);
    const mostNovel = settings.frameLength * settings.windowLength;
    // High: halfway from where normal ends to the most novel frame (every call a syscall never trained on).
    // Normal ends at the frame threshold, or beyond it where a held-out normal window went further: the
    // threshold is a quantile over windows, and a program's repetitive stretches (a startup loop) can hold
    // it down while its threads' timing still makes short runs of novel interleavings.
    const normalEnd = Math.max(thresholds.frameNovelty, worstHeldOutFrame + 1);
    const highFrame = normalEnd > mostNovel ? mostNovel + 1 : Math.min(mostNovel, normalEnd + Math.ceil((mostNovel + 1 - normalEnd) / 2));
    const frequencyRates: Record<string, RateStats> = {};
    for (const [nr, stats] of syscallStats) frequencyRates[String(nr)] = stats;
    const libcallRates: Record<string, RateStats> = {};
    for (const [id, stats] of libcallStats) libcallRates[profile.funcs.names[id]!] = stats;

    return {
      baseline_version: BASELINE_VERSION,
      kind: BASELINE_KIND,
      gpo_version: GPO_VERSION,
      trained_on: { program, traces: trained },
      model: {
        kind: 'gpo.anomaly-model',
        version: ANOMALY_MODEL_VERSION,
        options: { ...settings, frequencyWindows: { ...settings.frequencyWindows, windowNs } },
        thresholds,
        calibration: evidence,
        windows: full.toJSON(),
        frequency: { kind: 'gpo.syscall-frequency', version: 1, options: { ...settings.frequencyWindows, windowNs }, windows: syscallWindows.length, rates: frequencyRates },
      },
      calibration: {
        unit: unitKind,
        units: unitKind === 'none' ? 1 : usedUnits,
        method: unitKind === 'none' ? 'none' : `leave-one-${unitKind}-group-out (${usedUnits} groups)`,
        window_false_alarm_rate: settings.windowFalseAlarmRate,
        sequence_false_alarm_rate: settings.sequenceFalseAlarmRate,
        novel_sequence_high_frame_novelty: highFrame,
        rate_deviation: calibrateRates(syscallWindows, settings.windowFalseAlarmRate),
        libcall_rate_deviation: calibrateRates(libcallWindows, settings.windowFalseAlarmRate),
      },
      libraries: {
        mappings: [...profile.mappings.values()].sort((a, b) => compareText(a.path, b.path) || (a.dev ?? -1) - (b.dev ?? -1) || (a.inode ?? -1) - (b.inode ?? -1)),
        libcalls: Object.fromEntries([...profile.libcalls].map(([func, args]) => [func, [...args].sort(compareText)])),
        libcall_rates: { window_ns: windowNs, windows: libcallWindows.length, stats: libcallRates },
      },
      process: {
        children: [...profile.children].sort(compareText),
        thread_names: [...profile.threadNames].sort(compareText),
        threads: { min: Math.min(...profile.threadCounts), max: Math.max(...profile.threadCounts) },
        loader_env: Object.fromEntries([...profile.loaderEnv].map(([name, values]) => [name, [...values].sort(compareText)])),
      },
      allowed: Object.fromEntries(profile.allowed),
    };
  }
}

interface TraceInProgress {
  target: TargetInfo;
  syscallRates: WindowCounter;
  libcallRates: WindowCounter;
  threads: Set<number>;
  base: bigint | undefined;
  rows: number;
  syscalls: number;
}

export async function trainBaseline(paths: readonly string[], options: TrainOptions = {}): Promise<TrainResult> {
  if (paths.length === 0) throw new GpoError('no training traces given');
  const warnings: string[] = [];
  const traces: TraceFile[] = [];
  for (const path of paths) traces.push(await openTrace(path));
  // One pass over every trace; the held-out scoring replays the calls kept (rows past the budget are read again).
  const status = progress('train', { total: traces.reduce((sum, t) => sum + (t.numRows ?? 0), 0) });
  const counter = { done: 0 };
  traces.splice(0, traces.length, ...traces.map((t) => withProgress(t, status, counter)));
  const program = identityOf(traces[0]!);
  for (const trace of traces.slice(1)) {
    const other = identityOf(trace);
    if (other.exe !== program.exe || (other.build_id && program.build_id && other.build_id !== program.build_id))
      warnings.push(`${trace.path} is a recording of ${other.exe || '(imported)'}, not of ${program.exe || '(imported)'}: one baseline should describe one program`);
  }

  const trainer = new BaselineTrainer(traces.length, options);
  const trained: TrainedTrace[] = [];
  for (const trace of traces) {
    // The file's hash is read alongside the pass.
    const hash = sha256(trace.path);
    hash.catch(() => {}); // awaited below; not an unhandled rejection if the pass fails first
    trainer.beginTrace(trace.metadata.target);
    for await (const batch of trace.batches({ columns: [...TRACE_COLUMNS], batchRows: TRACE_BATCH_ROWS })) trainer.observe(batch);
    const { rows, syscalls, threads } = trainer.endTrace();
    trained.push({ path: trace.path, sha256: await hash, rows, syscalls, threads, program: identityOf(trace), mode: trace.metadata.target.mode });
  }
  const baseline = await trainer.finish(trained, program, (traceIndex, fromRow) => traces[traceIndex]!.batches({ columns: ['tid', 'nr'], fromRow, batchRows: TRACE_BATCH_ROWS }), warnings, paths.join(', '));
  status.finish();
  return { baseline, warnings };
}

export function baselineText(baseline: BaselineDocument): string {
  return canonicalJson(baseline);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function collectEvent(view: BatchView, row: number, t: number, targetPid: number, targetExe: string, profile: ProfileCollector, libcallRates: WindowCounter): void {
  const kind = view.kind(row);
  const path = view.str('path', row);
  if (kind === 'mmap_exec') {
    if (path === null) return;
    const dev = view.int('dev', row);
    const inode = view.int('inode', row);
    profile.mappings.set(`${path}\u0000${dev}\u0000${inode}`, { path, dev, inode });
  } else if (kind === 'libcall') {
    const func = view.str('func', row) ?? '?';
    let args = profile.libcalls.get(func);
    if (args === undefined) profile.libcalls.set(func, (args = new Set()));
    if (path !== null) args.add(path);
    libcallRates.add(view.pid[row]!, profile.funcs.id(func), t);
  } else if (kind === 'exec') {
    if (path !== null && !(view.pid[row] === targetPid && path === targetExe)) profile.children.add(path);
  } else {
    const finding = classifyEvent(view, row, kind, { targetPid });
    if (finding !== null) profile.allowed.set(finding.signature, (profile.allowed.get(finding.signature) ?? 0) + 1);
  }
}

function worstFrameNovelty(scores: readonly SequenceScore[]): number {
  let worst = 0;
  for (const score of scores) for (let novelty = score.frameNoveltyHistogram.length - 1; novelty > worst; novelty--) if (score.frameNoveltyHistogram[novelty]! > 0) worst = novelty;
  return worst;
}

/** Threshold on a window's worst robust z-score: each unit's windows scored by the other units' statistics. */
function calibrateRates(windows: readonly LabelledWindow[], falseAlarmRate: number): RateThreshold {
  const units = [...new Set(windows.map((w) => w.unit))].sort((a, b) => a - b);
  if (units.length < 2) return { z: DEFAULT_RATE_Z, method: 'default', held_out_windows: 0 };
  const scores: number[] = [];
  for (const unit of units) {
    const stats = rateStats(windows.filter((w) => w.unit !== unit));
    for (const window of windows) if (window.unit === unit) {
        const worst = worstKey(window, stats);
        if (worst !== undefined) scores.push(worst.z);
      }
  }
  if (scores.length === 0) return { z: DEFAULT_RATE_Z, method: 'default', held_out_windows: 0 };
  scores.sort((a, b) => a - b);
  const z = Math.max(MIN_RATE_Z, quantileSorted(scores, 1 - falseAlarmRate));
  return { z: Math.round(z * 1e6) / 1e6, method: `leave-one-out quantile ${1 - falseAlarmRate}`, held_out_windows: scores.length };
}
