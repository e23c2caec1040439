// The baseline document `gpo train` writes and `gpo score` reads: versioned JSON, deterministic (sorted
// keys, no clock), saying what it was trained on. Format: docs/baseline.md. Each section is written and
// checked by the detector that owns it (src/detectors/); src/detectors/load-baseline.ts reads a file.
import type { AnomalyModel, AnomalyModelJson } from '../model/anomaly-model.js';
import type { RateStatsJson } from '../model/rates.js';
import type { ProgramIdentity } from '../trace/metadata.js';

/**
 * 2: the sequence score adds two calibrated components (model version 2, thresholds.scales).
 * 3: window thresholds are on frame novelty (model version 3, novel_sequence_high_frame_novelty).
 */
export const BASELINE_VERSION = 3;
export const BASELINE_KIND = 'gpo.baseline';

export interface TrainedTrace {
  /** As given on the command line. */
  path: string;
  sha256: string;
  rows: number;
  syscalls: number;
  threads: number;
  program: ProgramIdentity;
  mode: string;
}

export interface SequenceHeldOut {
  frame_novelty: number[];
  scores: [number, number][];
}

export interface RateThreshold {
  /** A window whose worst key lies at least this many robust SDs above its median is a deviation. */
  z: number;
  /** 'leave-one-out' (calibrated on held-out windows) or 'default' (no held-out windows to learn from). */
  method: string;
  held_out_windows: number;
  /** The largest held-out z-scores, ascending: what the quantile reads, kept so baselines can be merged. */
  held_out_tail?: number[];
}

export interface BaselineDocument {
  baseline_version: typeof BASELINE_VERSION;
  kind: typeof BASELINE_KIND;
  gpo_version: string;
  trained_on: { program: ProgramIdentity; traces: TrainedTrace[] };
  /**
   * The syscall sequence model: stide windows with counts (t-stide rarity from the counts), the n-gram
   * likelihood's options, per-process syscall rates (frequency) and the calibrated sequence thresholds.
   */
  model: AnomalyModelJson;
  calibration: {
    /** What was held out: 'recording' (>= 2 traces), 'thread' (one trace: threads in folds), or 'none'. */
    unit: 'recording' | 'thread' | 'none';
    units: number;
    method: string;
    /** Share of held-out windows allowed to reach the frame threshold; of held-out threads the score threshold. */
    window_false_alarm_rate: number;
    sequence_false_alarm_rate: number;
    /** A run of unseen windows whose frame novelty reaches this is high severity. */
    novel_sequence_high_frame_novelty: number;
    /**
     * The held-out scoring the sequence thresholds came from: windows per frame novelty (summed) and each
     * held-out thread's [surprise, context] score components; kept so baselines trained apart can pool them.
     */
    sequence_held_out?: SequenceHeldOut;
    rate_deviation: RateThreshold;
    libcall_rate_deviation: RateThreshold;
  };
  libraries: {
    /** Executable file mappings seen: path with its device and inode. */
    mappings: { path: string; dev: number | null; inode: number | null }[];
    /** Library functions called (uprobes) -> the arguments seen (e.g. dlopen's path), sorted. */
    libcalls: Record<string, string[]>;
    /** Library calls per process per rate window. */
    libcall_rates: { window_ns: number; windows: number; stats: RateStatsJson; histograms?: Record<string, Record<string, number>> };
  };
  process: {
    /** Programs executed by the target's children (and by the target after its start). */
    children: string[];
    thread_names: string[];
    threads: { min: number; max: number };
    /** Values of LD_PRELOAD / LD_AUDIT / LD_LIBRARY_PATH seen in the training recordings' metadata. */
    loader_env: Record<string, string[]>;
  };
  /** Tampering and injection signatures seen in training (allowed when scoring) -> rows seen. */
  allowed: Record<string, number>;
  /** Entries by kind (allowed, mappings, libcalls, children, loader_env, syscalls) -> recordings they were seen in. */
  seen_in?: Record<string, Record<string, number>>;
  /**
   * Per training recording, in order, how many entries of each kind it was the first to have; `windows`:
   * syscall windows new to its calibration group (null for a group's first recording). src/baseline/learning.ts.
   */
  learning?: Record<string, (number | null)[]>;
}

/** JSON with object keys sorted at every level, two-space indented, one trailing newline. */
export function canonicalJson(value: unknown): string {
  return `${write(value, '')}\n`;
}

function write(value: unknown, indent: string): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('non-finite number in baseline');
    return JSON.stringify(value);
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((item) => item === null || typeof item !== 'object')) return `[${value.map((item) => write(item, inner)).join(', ')}]`;
    return `[\n${value.map((item) => inner + write(item, inner)).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(value as object)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort();
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((key) => `${inner}${JSON.stringify(key)}: ${write((value as Record<string, unknown>)[key], inner)}`).join(',\n')}\n${indent}}`;
}

export interface LoadedBaseline {
  document: BaselineDocument;
  model: AnomalyModel;
}
