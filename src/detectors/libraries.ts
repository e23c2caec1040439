// Libraries and library calls: executable file mappings (new_library), library functions watched with
// uprobes and their arguments (unexpected_libcall), and library calls per process per window
// (libcall_rate_deviation). Baseline: `libraries` (mappings with device and inode, functions with the
// arguments seen, call-rate statistics) and `calibration.libcall_rate_deviation`.
import type { BaselineDocument } from '../baseline/document.js';
import { WindowCounter, type RateStats } from '../model/rates.js';
import { timeOffset, type BatchView } from '../trace/batch-view.js';
import { compareText, type Anomaly, type Severity } from './anomaly.js';
import type { BaselineFragment, Detector, Learner, Scorer, TrainingPlan } from './detector.js';
import { absolutePath, insertSorted, sameInEvery, unionLists } from './merge-parts.js';
import { isSuspiciousLocation } from './paths.js';
import { calibrateRates, labelledCounter, mergeRateThresholds, rateHistograms, RateRuns, statsOfHistograms, sumHistograms, type LabelledWindow } from './rate-deviation.js';
import { mergeTallies, RecordingTally, tallySections } from './recording-tally.js';
import { RowFindings, type Finding } from './row-findings.js';
import { StringIds } from './string-ids.js';

interface Mapping {
  path: string;
  dev: number | null;
  inode: number | null;
}

class LibraryLearner implements Learner {
  private readonly mappings = new Map<string, Mapping>();
  private readonly libcalls = new Map<string, Set<string>>();
  private readonly funcs = new StringIds();
  private readonly windows: LabelledWindow[] = [];
  private readonly mappingTally = new RecordingTally('mappings');
  private readonly libcallTally = new RecordingTally('libcalls');
  private rates: WindowCounter | undefined;
  private base: bigint | undefined;

  constructor(private readonly plan: TrainingPlan) {}

  beginTrace(index: number): void {
    this.rates = labelledCounter(this.plan, index, this.windows);
    this.base = undefined;
  }

  observe(view: BatchView): void {
    if (view.rows === 0) return;
    this.base ??= view.ts[0]!;
    for (const row of view.eventRows) {
      const kind = view.kind(row);
      if (kind === 'mmap_exec') {
        const path = view.str('path', row);
        if (path === null) continue;
        const dev = view.int('dev', row);
        const inode = view.int('inode', row);
        this.mappings.set(`${path}\u0000${dev}\u0000${inode}`, { path, dev, inode });
        this.mappingTally.see(path);
      } else if (kind === 'libcall') {
        const path = view.str('path', row);
        const func = view.str('func', row) ?? '?';
        let args = this.libcalls.get(func);
        if (args === undefined) this.libcalls.set(func, (args = new Set()));
        if (path !== null) args.add(path);
        this.libcallTally.see(func);
        this.rates!.add(view.pid[row]!, this.funcs.id(func), timeOffset(view.ts, row, this.base));
      }
    }
  }

  endTrace(): void {
    this.rates!.finish(false);
    this.mappingTally.endRecording();
    this.libcallTally.endRecording();
  }

  finish() {
    const { windowNs, settings } = this.plan;
    const histograms = rateHistograms(this.windows, (id) => this.funcs.names[id]!);
    return {
      libraries: {
        mappings: sortedMappings([...this.mappings.values()]),
        libcalls: Object.fromEntries([...this.libcalls].map(([func, args]) => [func, [...args].sort(compareText)])),
        libcall_rates: { window_ns: windowNs, windows: this.windows.length, stats: statsOfHistograms(histograms, this.windows.length), histograms },
      },
      calibration: { libcall_rate_deviation: calibrateRates(this.windows, settings.windowFalseAlarmRate) },
      ...tallySections([this.mappingTally, this.libcallTally]),
    };
  }
}

function sortedMappings(mappings: Mapping[]): Mapping[] {
  return mappings.sort((a, b) => compareText(a.path, b.path) || (a.dev ?? -1) - (b.dev ?? -1) || (a.inode ?? -1) - (b.inode ?? -1));
}

/** Mappings and arguments are unions, rate windows add up (exact statistics); the threshold pools held-out windows. */
function mergeLibraries(parts: readonly BaselineDocument[]): BaselineFragment {
  const rates = parts.map((part) => part.libraries.libcall_rates);
  const windowNs = sameInEvery(rates.map((r) => r.window_ns), 'rate windows');
  if (rates.some((r) => r.histograms === undefined)) throw new Error('a baseline has no library-call rate histograms (trained by an older gpo): retrain it to merge');
  const windows = rates.reduce((sum, r) => sum + r.windows, 0);
  const histograms = sumHistograms(rates.map((r) => r.histograms!));
  const mappings = new Map<string, Mapping>();
  for (const part of parts) for (const m of part.libraries.mappings) mappings.set(`${m.path}\u0000${m.dev}\u0000${m.inode}`, m);
  const falseAlarmRate = sameInEvery(parts.map((part) => part.calibration.window_false_alarm_rate), 'false-alarm rates');
  return {
    libraries: {
      mappings: sortedMappings([...mappings.values()]),
      libcalls: unionLists(parts.map((part) => part.libraries.libcalls)),
      libcall_rates: { window_ns: windowNs, windows, stats: statsOfHistograms(histograms, windows), histograms },
    },
    calibration: { libcall_rate_deviation: mergeRateThresholds(parts.map((part) => part.calibration.libcall_rate_deviation), falseAlarmRate) },
    ...mergeTallies(parts, ['mappings', 'libcalls']),
  };
}

class LibraryScorer implements Scorer {
  private readonly findings = new RowFindings();
  private readonly libraries = new Map<string, { dev: number | null; inode: number | null }[]>();
  private readonly libcalls: ReadonlyMap<string, ReadonlySet<string>>;
  private readonly rates: WindowCounter;
  private readonly runs: RateRuns;
  private readonly funcs = new StringIds();
  private readonly firstThread = new Map<number, { tid: number; comm: string }>();
  private base: bigint | undefined;

  constructor(baseline: { libraries: { mappings: Mapping[]; libcalls: Record<string, string[]>; libcall_rates: { window_ns: number; stats: Record<string, RateStats> } } }, threshold: number) {
    const { mappings, libcalls, libcall_rates } = baseline.libraries;
    for (const m of mappings) this.libraries.set(m.path, [...(this.libraries.get(m.path) ?? []), { dev: m.dev, inode: m.inode }]);
    this.libcalls = new Map(Object.entries(libcalls).map(([func, args]) => [func, new Set(args)]));
    const stats = new Map<number, RateStats>();
    for (const [func, s] of Object.entries(libcall_rates.stats)) stats.set(this.funcs.id(func), s);
    this.runs = new RateRuns('libcall_rate_deviation', threshold, stats, (id) => this.funcs.names[id]!, () => this.base!, (pid) => this.firstThread.get(pid) ?? { tid: pid, comm: '' });
    this.rates = new WindowCounter(libcall_rates.window_ns, (window) => this.runs.window(window));
  }

  observe(view: BatchView): void {
    if (view.rows === 0) return;
    this.base ??= view.ts[0]!;
    for (const row of view.eventRows) {
      const kind = view.kind(row);
      const finding = kind === 'mmap_exec' ? this.mapping(view, row) : kind === 'libcall' ? this.libcall(view, row) : null;
      if (finding !== null) this.findings.add(view, row, finding);
    }
  }

  flush(): Anomaly[] {
    return [...this.findings.anomalies(), ...this.runs.snapshot()];
  }

  finish(): Anomaly[] {
    this.rates.finish(true);
    return [...this.findings.anomalies(), ...this.runs.anomalies];
  }

  private mapping(view: BatchView, row: number): Finding | null {
    const path = view.str('path', row);
    if (path === null) return null;
    const pid = view.pid[row]!;
    const dev = view.int('dev', row);
    const inode = view.int('inode', row);
    const known = this.libraries.get(path);
    if (known === undefined) {
      const severity: Severity = isSuspiciousLocation(path) ? 'high' : 'medium';
      return { kind: 'new_library', severity, key: `new_library ${pid} ${path}`, summary: `executable mapping of ${path}, not in the baseline`, evidence: { path, dev, inode } };
    }
    // No device and inode (an allow file's library): any file at that path.
    if (known.some((k) => (k.dev === dev && k.inode === inode) || (k.dev === null && k.inode === null))) return null;
    return { kind: 'new_library', severity: 'low', key: `new_library ${pid} ${path}`, summary: `${path} is a different file than in the baseline (device ${dev}, inode ${inode})`, evidence: { path, dev, inode, baseline: known } };
  }

  private libcall(view: BatchView, row: number): Finding | null {
    const path = view.str('path', row);
    const pid = view.pid[row]!;
    const func = view.str('func', row) ?? '?';
    if (!this.firstThread.has(pid)) this.firstThread.set(pid, { tid: view.tid[row]!, comm: view.comm(row) });
    this.rates.add(pid, this.funcs.id(func), timeOffset(view.ts, row, this.base!));
    const args = this.libcalls.get(func);
    if (args === undefined)
      return { kind: 'unexpected_libcall', severity: path !== null && isSuspiciousLocation(path) ? 'high' : 'medium', key: `libcall ${pid} ${func}`, summary: `${func} called, never in the baseline${path !== null ? ` (${path})` : ''}`, evidence: { func, argument: path } };
    if (path === null || args.has(path)) return null;
    return { kind: 'unexpected_libcall', severity: isSuspiciousLocation(path) ? 'high' : 'medium', key: `libcall ${pid} ${func} ${path}`, summary: `${func}(${path}): argument never seen in the baseline`, evidence: { func, argument: path } };
  }
}

export const libraries: Detector = {
  name: 'libraries and library calls',
  sections: ['libraries', 'calibration'],
  learner: (plan) => new LibraryLearner(plan),
  scorer: (baseline) => new LibraryScorer(baseline.document, baseline.document.calibration.libcall_rate_deviation.z),
  merge: mergeLibraries,
  allows: {
    library(document, path) {
      const mappings = document.libraries.mappings;
      if (!mappings.some((m) => m.path === path && m.dev === null && m.inode === null)) document.libraries.mappings = sortedMappings([...mappings, { path: absolutePath(path), dev: null, inode: null }]);
    },
    // FUNC ARGUMENT allows that call (an entry a line for each argument); FUNC alone, calls without one.
    libcall(document, entry) {
      const space = entry.indexOf(' ');
      const func = space < 0 ? entry : entry.slice(0, space);
      if (!/^[^:\s]+:[^:\s]+$/.test(func)) throw new Error(`expected a library function as LIBRARY:FUNCTION (e.g. libc.so.6:dlopen), got ${JSON.stringify(func)}`);
      const args = (document.libraries.libcalls[func] ??= []);
      if (space >= 0) insertSorted(args, entry.slice(space + 1));
    },
  },
};
