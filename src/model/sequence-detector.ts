// Scores threads as their calls arrive, batch by batch, against a trained profile: stide mismatches and
// how novel the last frame of windows is (after Forrest's and Warrender's locality frame count), t-stide
// rare windows and the n-gram surprise of every call. A thread's score is final
// once the thread ends.
import { NgramLikelihood } from './ngram-likelihood.js';
import { PackedCountTable } from './packed-count-table.js';
import { SparseCounts } from './sparse-counts.js';
import { SYMBOL_BASE, UNSEEN_SYMBOL } from './syscall-vocabulary.js';
import type { SyscallWindowModel, ThreadKey } from './syscall-window-model.js';
import { WindowCursor } from './window-cursor.js';

export interface DetectorOptions {
  /** Locality frame: window novelty is summed over the last `frameLength` windows (Forrest: 20). */
  frameLength: number;
  /** t-stide: a trained window seen in fewer than this fraction of training windows is rare. */
  rareFraction: number;
  /** Anomalies kept per thread (the counts go on); bounds memory in live mode. */
  maxAnomalies: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = { frameLength: 20, rareFraction: 1e-5, maxAnomalies: 100 };

/**
 * Bound on one call's term of the context score, in nats: ln P(call | 1 call before) - ln P(call | up to
 * windowLength - 1 calls before) is clamped to +-CONTEXT_CLIP, so a few calls the long context gets badly
 * wrong (or badly right) cannot outweigh how the rest of the sequence follows its long contexts. Chosen on
 * ADFA-LD (1 and 2 nats about equal, unbounded clearly worse; docs/models.md).
 */
export const CONTEXT_CLIP = 2;

/** Location and scale of one score component among held-out normal sequences (calibration). */
export interface ComponentScale {
  /** Median of the held-out sequences' component. */
  center: number;
  /** The (1 - sequenceFalseAlarmRate) quantile, 99% by default, minus the median (at least MIN_COMPONENT_SCALE). */
  scale: number;
}

/** How the two score components are put on one scale before they are added. */
export interface ScoreScales {
  surprise: ComponentScale;
  context: ComponentScale;
}

/** Without calibration (a detector built for held-out scoring): the components are added as they are. */
export const UNIT_SCORE_SCALES: ScoreScales = { surprise: { center: 0, scale: 1 }, context: { center: 0, scale: 1 } };

/** The sequence score from its components: each (value - held-out median) / (held-out q99 - median), summed. */
export function combinedScore(surpriseScore: number, contextScore: number, scales: ScoreScales): number {
  return (surpriseScore - scales.surprise.center) / scales.surprise.scale + (contextScore - scales.context.center) / scales.context.scale;
}

/** A run of overlapping or adjacent unseen windows. Positions index the thread's calls from 0. */
export interface WindowAnomaly {
  /** First call of the first unseen window. */
  first: number;
  /** Last call of the last unseen window. */
  last: number;
  /** The first unseen window as syscall numbers. */
  window: number[];
  /** Unseen windows in the run. */
  unseenWindows: number;
  /** Highest frame novelty reached in the run. */
  maxFrameNovelty: number;
}

export interface SequenceScore {
  calls: number;
  /** Full-length windows scored. */
  windows: number;
  /** Windows never seen in training (stide). */
  mismatches: number;
  /** Trained windows rarer than rareFraction (t-stide). */
  rareWindows: number;
  /** mismatches / windows (0 without windows). */
  mismatchRate: number;
  /**
   * frameNoveltyHistogram[v] = windows whose locality frame had novelty v: the sum, over the frame's last
   * frameLength windows, of each window's novelty (windowNovelty; 0 for a trained window), 0 ..
   * frameLength * windowLength.
   */
  frameNoveltyHistogram: number[];
  maxFrameNovelty: number;
  /** Mean surprise (-ln p) per call under the n-gram model, in nats. */
  meanSurprise: number;
  /** Entropy of the thread's own syscall distribution, in nats: what any model must pay at least. */
  selfEntropy: number;
  /** Surprise beyond the sequence's own entropy: meanSurprise - selfEntropy (nats per call). */
  surpriseScore: number;
  /**
   * Mean over calls of the surprise under the full-order model minus the surprise given only the previous
   * call, each term clamped to +-CONTEXT_CLIP: negative when the long contexts predict the calls better
   * than the last call alone (normal), positive when they mislead (nats per call).
   */
  contextScore: number;
  /** The sequence's anomaly score: combinedScore(surpriseScore, contextScore, the detector's scales). */
  score: number;
  anomalies: WindowAnomaly[];
}

/**
 * What the detector keeps of a thread until it ends. Kept small (a trace may hold hundreds of thousands of
 * threads of one call each): the window cursor's state is three numbers (the detector moves one shared
 * cursor to it), the symbol counts are sparse, and the frame ring and the histogram come with the thread's
 * first full window and its first nonzero frame novelty.
 */
class ThreadState {
  /** The window cursor's halves and position (WindowCursor.low, high, position). */
  low = 0;
  high = 0;
  position = 0;
  /**
   * The thread's last windowLength syscall numbers before the current batch (ring by call position), to
   * report unseen windows that began in an earlier batch as called; as long as the thread's calls while
   * it has fewer.
   */
  recent: number[] = [];
  /** Novelty of each of the last frameLength windows (ring by window); from the first full window. */
  frame: Uint8Array | undefined;
  frameNovelty = 0;
  /** Windows whose frame novelty was 0. */
  zeroFrames = 0;
  /** histogram[v]: windows whose frame novelty was v > 0 ([0] unused); as long as the largest v so far. */
  histogram: number[] | undefined;
  windows = 0;
  mismatches = 0;
  rareWindows = 0;
  surpriseSum = 0;
  /** Sum of the clamped per-call differences of the context score. */
  contextSum = 0;
  /** Calls per symbol (unseen syscalls share symbol 0), for the entropy. */
  readonly symbolCounts = new SparseCounts();
  readonly anomalies: WindowAnomaly[] = [];
  /** The run of unseen windows still open (its last window is among the latest). */
  openAnomaly: WindowAnomaly | undefined;
}

/** `values` copied into an array of `length` (> values.length), zeros after them. */
export function resized<T>(values: readonly T[], length: number, zero: T): T[];
export function resized(values: readonly number[], length: number): number[];
export function resized<T>(values: readonly T[], length: number, zero: T = 0 as T): T[] {
  const out = new Array<T>(length);
  for (let i = 0; i < length; i++) out[i] = i < values.length ? values[i]! : zero;
  return out;
}

/** `histogram` (or none) grown to hold frame novelty `novelty`, zeros added. */
function grownHistogram(histogram: number[] | undefined, novelty: number): number[] {
  const grown = histogram === undefined ? [0] : histogram;
  while (grown.length <= novelty) grown.push(0);
  return grown;
}

export class SequenceDetector {
  private readonly likelihood: NgramLikelihood;
  private readonly threads = new Map<ThreadKey, ThreadState>();
  /**
   * Every trained full window -> the surprise of its latest call (likelihood.trainedWindowSurprise),
   * negated when the window is rarer than rareFraction: one lookup a call tells seen, rare and surprise.
   */
  private readonly trainedWindows: PackedCountTable;
  /** clampContext(surprise - short-context surprise) of the latest call of each trained window, by slot. */
  private readonly trainedContext: Float64Array;
  /** The cursor of the thread being scored, moved to the thread's state (ThreadState.low, high, position). */
  private cursor: WindowCursor;
  /** Scratch of observe(): calls per symbol of the batch (all 0 between calls), and the symbols touched. */
  private batchCounts = new Float64Array(SYMBOL_BASE);
  private batchSymbols = new Uint8Array(SYMBOL_BASE);

  constructor(
    private readonly windows: SyscallWindowModel,
    private readonly options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS,
    /** Calibrated scales of the score components (AnomalyModel thresholds); unit scales when not given. */
    private readonly scales: ScoreScales = UNIT_SCORE_SCALES,
  ) {
    this.likelihood = new NgramLikelihood(windows);
    const full = windows.windowLength;
    this.cursor = new WindowCursor(full);
    const rareBelow = options.rareFraction * windows.total(full);
    // Sized to never grow, so slots stay where they are and the context terms can be kept by slot.
    this.trainedWindows = new PackedCountTable(windows.distinct(full));
    this.trainedContext = new Float64Array(this.trainedWindows.capacity);
    for (const key of windows.sortedKeys(full)) {
      const surprise = this.likelihood.trainedWindowSurprise(key);
      this.trainedWindows.set(key, windows.count(full, key) < rareBelow ? -surprise : surprise);
      this.trainedContext[this.trainedWindows.slot(key)] = clampContext(surprise - this.likelihood.windowShortContextSurprise(key, full));
    }
  }

  /**
   * Scores the next calls of `thread`. Returns how many of these calls are of syscalls training never saw.
   */
  observe(thread: ThreadKey, syscalls: ArrayLike<number>): number {
    let state = this.threads.get(thread);
    if (state === undefined) {
      state = new ThreadState();
      this.threads.set(thread, state);
    }
    const { cursor, batchCounts, batchSymbols } = this;
    const full = this.windows.windowLength;
    const frameLength = this.options.frameLength;
    // The frame ring from the thread's first full window on (all zeros before it).
    if (state.frame === undefined && state.position + syscalls.length >= full) state.frame = new Uint8Array(frameLength);
    const frame = state.frame!;
    let histogram = state.histogram;
    let zeroFrames = state.zeroFrames;
    let touched = 0;
    const vocabulary = this.windows.vocabulary;
    const flatSymbols = vocabulary.flatSymbols;
    const likelihood = this.likelihood;
    const trained = this.trainedWindows;
    const trainedContext = this.trainedContext;
    // The running sums stay in locals, added to in the same order as call by call.
    let surpriseSum = state.surpriseSum;
    let contextSum = state.contextSum;
    let unseenCalls = 0;
    const batchStart = state.position;
    // Ring position as a counter (no division a call).
    let frameSlot = state.windows % frameLength;
    // The cursor's halves advance here in locals (WindowCursor.push inlined) and are handed to the cursor
    // only where it is read (a thread's first calls, unseen windows), to the thread's state at the end.
    const { lowMask, highMask } = cursor;
    let { low, high, position } = state;
    let frameNovelty = state.frameNovelty;
    let windows = state.windows;
    let rareWindows = state.rareWindows;
    let open = state.openAnomaly;
    for (let i = 0; i < syscalls.length; i++) {
      const nr = syscalls[i]!;
      const symbol = nr >= 0 && nr < flatSymbols.length ? flatSymbols[nr]! : vocabulary.symbolOf(nr);
      if (symbol === UNSEEN_SYMBOL) unseenCalls++;
      if (batchCounts[symbol]!++ === 0) batchSymbols[touched++] = symbol;
      high = ((high << 8) | (low >>> 16)) & highMask;
      low = ((low << 8) | symbol) & lowMask;
      position++;
      if (position < full) {
        // Before the thread's first full window: surprise and context score only.
        cursor.moveTo(low, high, position);
        const surprise = likelihood.surprise(cursor);
        surpriseSum += surprise;
        contextSum += clampContext(surprise - likelihood.shortContextSurprise(cursor));
        continue;
      }
      // The trained window's surprise, negative when the window is rare; 0 when training never saw it.
      const slot = trained.slotOfHalves(high, low);
      const known = trained.at(slot);
      let novelty = 0;
      if (known !== 0) {
        surpriseSum += known < 0 ? -known : known;
        contextSum += trainedContext[slot]!;
      } else {
        cursor.moveTo(low, high, position);
        const surprise = likelihood.surprise(cursor);
        novelty = windowNovelty(this.windows, cursor);
        surpriseSum += surprise;
        contextSum += clampContext(surprise - likelihood.shortContextSurprise(cursor));
      }
      frameNovelty += novelty - frame[frameSlot]!;
      frame[frameSlot] = novelty;
      if (++frameSlot === frameLength) frameSlot = 0;
      windows++;
      if (frameNovelty === 0) zeroFrames++;
      else {
        if (histogram === undefined || frameNovelty >= histogram.length) state.histogram = histogram = grownHistogram(histogram, frameNovelty);
        histogram[frameNovelty]!++;
      }
      if (novelty > 0) {
        state.frameNovelty = frameNovelty;
        this.recordMismatch(state, position - 1, syscalls, batchStart);
        open = state.openAnomaly;
      } else if (known < 0) rareWindows++;
      if (open !== undefined && frameNovelty > open.maxFrameNovelty) open.maxFrameNovelty = frameNovelty;
    }
    state.low = low;
    state.high = high;
    state.position = position;
    state.symbolCounts.addAndClear(batchCounts, batchSymbols, touched);
    if (state.recent.length < full && state.recent.length < position) state.recent = resized(state.recent, Math.min(full, position));
    const recent = state.recent;
    for (let p = Math.max(batchStart, position - full); p < position; p++) recent[p % full] = syscalls[p - batchStart]!;
    state.frameNovelty = frameNovelty;
    state.zeroFrames = zeroFrames;
    state.windows = windows;
    state.rareWindows = rareWindows;
    state.surpriseSum = surpriseSum;
    state.contextSum = contextSum;
    return unseenCalls;
  }

  /** Calls of `thread` scored so far (the position of its next call). */
  position(thread: ThreadKey): number {
    return this.threads.get(thread)?.position ?? 0;
  }

  /** The thread's runs of unseen windows as they stand (not copies: the last one may still grow). */
  liveAnomalies(thread: ThreadKey): readonly WindowAnomaly[] {
    return this.threads.get(thread)?.anomalies ?? [];
  }

  /** Threads being scored, in order of their first call. */
  activeThreads(): ThreadKey[] {
    return [...this.threads.keys()];
  }

  /** The thread's score so far; it keeps being scored. */
  peek(thread: ThreadKey): SequenceScore {
    const state = this.threads.get(thread);
    if (state === undefined) return emptyScore(this.options.frameLength * this.windows.windowLength);
    const calls = state.position;
    const meanSurprise = calls === 0 ? 0 : state.surpriseSum / calls;
    // H = ln N - (1/N) sum c ln c, summed in symbol order.
    let countLogCountSum = 0;
    state.symbolCounts.forEach((_, count) => {
      if (count > 1) countLogCountSum += count * Math.log(count);
    });
    const selfEntropy = calls === 0 ? 0 : Math.max(0, Math.log(calls) - countLogCountSum / calls);
    const surpriseScore = meanSurprise - selfEntropy;
    const contextScore = calls === 0 ? 0 : state.contextSum / calls;
    return {
      calls,
      windows: state.windows,
      mismatches: state.mismatches,
      rareWindows: state.rareWindows,
      mismatchRate: state.windows === 0 ? 0 : state.mismatches / state.windows,
      frameNoveltyHistogram: frameNoveltyHistogram(state, this.options.frameLength * this.windows.windowLength),
      maxFrameNovelty: state.histogram === undefined ? 0 : lastNonZeroIndex(state.histogram),
      meanSurprise,
      selfEntropy,
      surpriseScore,
      contextScore,
      score: calls === 0 ? 0 : combinedScore(surpriseScore, contextScore, this.scales),
      anomalies: state.anomalies.map((anomaly) => ({ ...anomaly, window: [...anomaly.window] })),
    };
  }

  /**
   * A detector with no threads that shares this one's trained tables: building them walks every trained
   * window (seconds for a large baseline), so scoring many traces against one baseline builds them once.
   */
  withoutThreads(): SequenceDetector {
    return Object.assign(Object.create(SequenceDetector.prototype) as SequenceDetector, this, {
      threads: new Map<ThreadKey, ThreadState>(),
      cursor: new WindowCursor(this.windows.windowLength),
      batchCounts: new Float64Array(SYMBOL_BASE),
      batchSymbols: new Uint8Array(SYMBOL_BASE),
    });
  }

  /** The thread's final score; forgets the thread. */
  finish(thread: ThreadKey): SequenceScore {
    const score = this.peek(thread);
    this.threads.delete(thread);
    return score;
  }

  /** Scores one whole sequence. */
  score(syscalls: ArrayLike<number>): SequenceScore {
    const thread = Symbol('whole sequence');
    this.observe(thread, syscalls);
    return this.finish(thread);
  }

  /**
   * Unseen window ending at call `last`: extends the open run when it overlaps or touches it. `syscalls`:
   * the batch being observed, its first call at position `batchStart`.
   */
  private recordMismatch(state: ThreadState, last: number, syscalls: ArrayLike<number>, batchStart: number): void {
    state.mismatches++;
    const first = last - this.windows.windowLength + 1;
    const open = state.openAnomaly;
    if (open !== undefined && first <= open.last + 1) {
      open.last = last;
      open.unseenWindows++;
      return;
    }
    state.openAnomaly = undefined;
    if (state.anomalies.length === this.options.maxAnomalies) return;
    const anomaly: WindowAnomaly = {
      first,
      last,
      window: Array.from({ length: this.windows.windowLength }, (_, i) =>
        first + i >= batchStart ? syscalls[first + i - batchStart]! : (state.recent[(first + i) % this.windows.windowLength] ?? 0),
      ),
      unseenWindows: 1,
      maxFrameNovelty: state.frameNovelty,
    };
    state.anomalies.push(anomaly);
    state.openAnomaly = anomaly;
  }
}

/**
 * Novelty of the full window ending at the cursor's latest call, which training never saw: how many of
 * its suffixes (the windows of the last 1, 2, .., windowLength calls) training never saw, i.e.
 * windowLength minus the length of the longest trained suffix. 1 when only the full window is new (a new
 * combination of known shorter windows), windowLength when the latest call itself is a syscall never
 * trained on. A frame of 20 unseen windows made of known 5-grams sums to 20; one whose every call is a
 * new pair of syscalls, to 100.
 */
function windowNovelty(windows: SyscallWindowModel, cursor: WindowCursor): number {
  const keys = cursor.keys;
  const full = windows.windowLength;
  for (let n = full - 1; n >= 1; n--) if (windows.count(n, keys[n - 1]!) > 0) return full - n;
  return full;
}

function clampContext(difference: number): number {
  return difference > CONTEXT_CLIP ? CONTEXT_CLIP : difference < -CONTEXT_CLIP ? -CONTEXT_CLIP : difference;
}

/** The thread's full histogram of frame novelty, 0 .. maxFrameNovelty. */
function frameNoveltyHistogram(state: ThreadState, maxFrameNovelty: number): number[] {
  const histogram = new Array<number>(maxFrameNovelty + 1).fill(0);
  histogram[0] = state.zeroFrames;
  for (let v = 1; v < (state.histogram?.length ?? 0); v++) histogram[v] = state.histogram![v]!;
  return histogram;
}

function lastNonZeroIndex(values: readonly number[]): number {
  for (let i = values.length - 1; i > 0; i--) if (values[i] !== 0) return i;
  return 0;
}

function emptyScore(maxFrameNovelty: number): SequenceScore {
  return {
    calls: 0,
    windows: 0,
    mismatches: 0,
    rareWindows: 0,
    mismatchRate: 0,
    frameNoveltyHistogram: new Array<number>(maxFrameNovelty + 1).fill(0),
    maxFrameNovelty: 0,
    meanSurprise: 0,
    selfEntropy: 0,
    surpriseScore: 0,
    contextScore: 0,
    score: 0,
    anomalies: [],
  };
}
