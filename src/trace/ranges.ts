// Range checks for the documents gpo reads from files (trace metadata, baselines): what a crafted file
// could use to mislead gpo (negative drops, a threshold of 1e308 that switches a detector off, a window of
// one nanosecond that makes scoring run for hours) is refused with the path of the value and what was
// expected, instead of being taken as it is.

/** What a value must be: a number in [min, max] (an integer if asked), or a string of a decimal integer. */
export interface Range {
  min?: number;
  max?: number;
  integer?: boolean;
  /** Also allowed: null (a value not known). */
  nullable?: boolean;
  /** Also allowed: absent (a field only some documents have). */
  optional?: boolean;
  /** A decimal integer written as a string (int64 values). */
  decimalString?: boolean;
  /** Said in the error: "a count", "a process id". */
  what?: string;
}

/** One rule: a dotted path into the document ('*' matches every key of an object), and its range. */
export type RangeRule = [path: string, range: Range];

const show = (v: unknown) => (typeof v === 'number' ? String(v) : v === undefined ? 'missing' : JSON.stringify(v));

function problem(value: unknown, r: Range): string | null {
  if (value === null && r.nullable) return null;
  if (value === undefined && r.optional) return null;
  if (r.decimalString) return typeof value === 'string' && /^-?[0-9]{1,20}$/.test(value) ? null : 'expected an integer (as a string)';
  const what = r.what ?? (r.integer ? 'an integer' : 'a number');
  if (typeof value !== 'number' || !Number.isFinite(value)) return `expected ${what}`;
  if (r.integer && !Number.isInteger(value)) return `expected ${what}`;
  if ((r.min !== undefined && value < r.min) || (r.max !== undefined && value > r.max)) return `expected ${what} in [${r.min ?? '-inf'}, ${r.max ?? 'inf'}]`;
  return null;
}

function visit(node: unknown, keys: string[], at: string, r: Range, out: string[]): void {
  if (keys.length === 0) {
    const p = problem(node, r);
    if (p) out.push(`${at} is ${show(node)}, ${p}`);
    return;
  }
  const [key, ...rest] = keys as [string, ...string[]];
  const object = typeof node === 'object' && node !== null && !Array.isArray(node) ? (node as Record<string, unknown>) : undefined;
  if (key === '*') {
    if (object) for (const k of Object.keys(object)) visit(object[k], rest, at ? `${at}.${k}` : k, r, out);
    else if (node !== undefined) out.push(`${at} is ${show(node)}, expected an object`);
    return;
  }
  visit(object?.[key], rest, at ? `${at}.${key}` : key, r, out);
}

/** The first value of doc outside its rule's range, as "path is value, expected ...", or null. */
export function firstRangeProblem(doc: unknown, rules: readonly RangeRule[]): string | null {
  const out: string[] = [];
  for (const [path, range] of rules) {
    visit(doc, path.split('.'), '', range, out);
    if (out.length > 0) return out[0]!;
  }
  return null;
}

/** Every number anywhere in doc must be finite (JSON's 1e999 parses as Infinity). */
export function firstNonFinite(doc: unknown, at = ''): string | null {
  if (typeof doc === 'number') return Number.isFinite(doc) ? null : `${at} is ${doc}, expected a finite number`;
  if (typeof doc !== 'object' || doc === null) return null;
  for (const [k, v] of Object.entries(doc)) {
    const p = firstNonFinite(v, at ? `${at}.${k}` : k);
    if (p) return p;
  }
  return null;
}

const COUNT: Range = { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true, what: 'a count' };
/** Linux pids are below 2^22 (PID_MAX_LIMIT); 0: not known (imports). */
const PROCESS_ID: Range = { min: 0, max: 1 << 22, integer: true, what: 'a process id' };

/** Trace metadata (src/trace/metadata.ts) as readers use it. */
export const TRACE_METADATA_RANGES: readonly RangeRule[] = [
  ['schema_version', { min: 1, integer: true }],
  ['target.pid', PROCESS_ID],
  ['counts.*.rows', COUNT],
  ['counts.*.dropped', COUNT],
  ['syscalls_dropped_by_nr.*', COUNT],
  ['truncated.*', COUNT],
  ['clock.wall_offset_ns', { decimalString: true }],
  ['clock.start_ns', { decimalString: true }],
  ['clock.end_ns', { decimalString: true, nullable: true }],
  ['segment.index', { ...COUNT, optional: true }],
  ['segment.first_row', { ...COUNT, optional: true }],
  ['segment.dropped.*', COUNT],
];

const RATE_WINDOW_NS: Range = { min: 1e8, max: 3.6e12, integer: true, what: 'a window of 0.1 s to 1 h' };
// A robust z is (count - median) / max(1.4826 MAD, 1): at most a window's count, which cannot exceed one
// call a nanosecond of the longest window (1 h). Training a busy program gives thresholds in the thousands.
const Z: Range = { min: 0, max: 3.6e12, what: 'robust standard deviations' };

/**
 * Baseline documents (src/baseline/document.ts): thresholds within what their detector can reach (a frame
 * novelty beyond one past frame length x window length, or a z of 1e308, switches a detector off), rates and scales
 * as statistics can be, windows whose count a trace's time span cannot blow up.
 */
export function baselineRangeProblem(doc: { model?: { options?: { frameLength?: unknown; windowLength?: unknown } } }): string | null {
  return firstNonFinite(doc) ?? firstRangeProblem(doc, baselineRanges(doc));
}

function baselineRanges(doc: { model?: { options?: { frameLength?: unknown; windowLength?: unknown } } }): RangeRule[] {
  const frame = doc.model?.options?.frameLength;
  const window = doc.model?.options?.windowLength;
  // One past the most novel frame: what calibration gives when no window may be flagged (a storm's windows).
  const maxNovelty = typeof frame === 'number' && typeof window === 'number' ? frame * window + 1 : 0;
  return [
    ['model.options.windowLength', { min: 1, max: 16, integer: true }],
    ['model.options.frameLength', { min: 1, max: 1000, integer: true }],
    ['model.options.maxAnomalies', { min: 1, max: 1e6, integer: true }],
    ['model.options.rareFraction', { min: 0, max: 1 }],
    ['model.options.frequencyWindows.windowNs', RATE_WINDOW_NS],
    ['model.frequency.options.windowNs', RATE_WINDOW_NS],
    ['model.frequency.rates.*.*', { min: 0 }],
    ['model.thresholds.frameNovelty', { min: 0, max: maxNovelty }],
    ['model.thresholds.score', { min: -1000, max: 1000 }],
    ['model.thresholds.scales.*.center', { min: -1000, max: 1000 }],
    ['model.thresholds.scales.*.scale', { min: 1e-9, max: 1000 }],
    ['calibration.window_false_alarm_rate', { min: 0, max: 1 }],
    ['calibration.sequence_false_alarm_rate', { min: 0, max: 1 }],
    ['calibration.novel_sequence_high_frame_novelty', { min: 0, max: maxNovelty }],
    ['calibration.rate_deviation.z', Z],
    ['calibration.libcall_rate_deviation.z', Z],
    ['libraries.libcall_rates.window_ns', RATE_WINDOW_NS],
  ];
}
