// Libraries and library calls: executable file mappings (new_library), library functions watched with
// uprobes and their arguments (unexpected_libcall), and library calls per process per window
// (libcall_rate_deviation). Baseline: `libraries` (mappings with device and inode, functions with the
// arguments seen, call-rate statistics) and `calibration.libcall_rate_deviation`.
import type { BaselineDocument, LoadedBaseline } from '../baseline/document.js';
import type { RateStats, WindowCounter } from '../model/rates.js';
import { timeOffset, type BatchView } from '../trace/batch-view.js';
import { compareText, type Anomaly, type Severity } from './anomaly.js';
import { defineDetector, type BaselineFragment } from './detector.js';
import { absolutePath, insertSorted, sameInEvery, unionLists } from './merge-parts.js';
import { isSuspiciousLocation } from './paths.js';
import { mergeRateThresholds, RateDeviations, RateLearner, statsOfHistograms, sumHistograms } from './rate-deviation.js';
import { mergeTallies, RecordingTally, tallySections } from './recording-tally.js';
import { FindingScorer, type Finding } from './row-findings.js';
import { StringIds } from './string-ids.js';

interface Mapping {
  path: string;
  dev: number | null;
  inode: number | null;
}

class LibraryLearner extends RateLearner {
  private readonly mappings = new Map<string, Mapping>();
  private readonly libcalls = new Map<string, Set<string>>();
  private readonly funcs = new StringIds();
  private readonly mappingTally = new RecordingTally('mappings');
  private readonly libcallTally = new RecordingTally('libcalls');

  protected count(view: BatchView, counter: WindowCounter, base: bigint): void {
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
        counter.add(view.pid[row]!, this.funcs.id(func), timeOffset(view.ts, row, base));
      }
    }
  }

  override endTrace(): void {
    super.endTrace();
    this.mappingTally.endRecording();
    this.libcallTally.endRecording();
  }

  finish() {
    const histograms = this.histograms((id) => this.funcs.names[id]!);
    const windows = this.windowCount();
    return {
      libraries: {
        mappings: sortedMappings([...this.mappings.values()]),
        libcalls: Object.fromEntries([...this.libcalls].map(([func, args]) => [func, [...args].sort(compareText)])),
        libcall_rates: { window_ns: this.plan.windowNs, windows, stats: statsOfHistograms(histograms, windows), histograms },
      },
      calibration: { libcall_rate_deviation: this.threshold() },
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
  const windowNs = sameInEvery(
    rates.map((r) => r.window_ns),
    'rate windows',
  );
  if (rates.some((r) => r.histograms === undefined))
    throw new Error('a baseline has no library-call rate histograms (trained by an older gpo): retrain it to merge');
  const windows = rates.reduce((sum, r) => sum + r.windows, 0);
  const histograms = sumHistograms(rates.map((r) => r.histograms!));
  const mappings = new Map<string, Mapping>();
  for (const part of parts) for (const m of part.libraries.mappings) mappings.set(`${m.path}\u0000${m.dev}\u0000${m.inode}`, m);
  const falseAlarmRate = sameInEvery(
    parts.map((part) => part.calibration.window_false_alarm_rate),
    'false-alarm rates',
  );
  return {
    libraries: {
      mappings: sortedMappings([...mappings.values()]),
      libcalls: unionLists(parts.map((part) => part.libraries.libcalls)),
      libcall_rates: { window_ns: windowNs, windows, stats: statsOfHistograms(histograms, windows), histograms },
    },
    calibration: {
      libcall_rate_deviation: mergeRateThresholds(
        parts.map((part) => part.calibration.libcall_rate_deviation),
        falseAlarmRate,
      ),
    },
    ...mergeTallies(parts, ['mappings', 'libcalls']),
  };
}

class LibraryScorer extends FindingScorer {
  private readonly libraries = new Map<string, { dev: number | null; inode: number | null }[]>();
  private readonly libcalls: ReadonlyMap<string, ReadonlySet<string>>;
  private readonly deviations: RateDeviations;
  private readonly funcs = new StringIds();

  constructor({ document }: LoadedBaseline) {
    super();
    const { mappings, libcalls, libcall_rates } = document.libraries;
    const threshold = document.calibration.libcall_rate_deviation.z;
    for (const m of mappings) this.libraries.set(m.path, [...(this.libraries.get(m.path) ?? []), { dev: m.dev, inode: m.inode }]);
    this.libcalls = new Map(Object.entries(libcalls).map(([func, args]) => [func, new Set(args)]));
    const stats = new Map<number, RateStats>();
    for (const [func, s] of Object.entries(libcall_rates.stats)) stats.set(this.funcs.id(func), s);
    this.deviations = new RateDeviations('libcall_rate_deviation', threshold, stats, (id) => this.funcs.names[id]!, libcall_rates.window_ns);
  }

  protected finding(view: BatchView, row: number, kind: string): Finding | null {
    return kind === 'mmap_exec' ? this.mapping(view, row) : kind === 'libcall' ? this.libcall(view, row) : null;
  }

  override observe(view: BatchView): void {
    if (view.rows === 0) return;
    this.deviations.counting(view);
    super.observe(view);
  }

  override flush(): Anomaly[] {
    return [...super.flush(), ...this.deviations.flush()];
  }

  override finish(): Anomaly[] {
    const runs = this.deviations.finish();
    return [...super.finish(), ...runs];
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
      return {
        kind: 'new_library',
        severity,
        key: `new_library ${path}`,
        summary: `executable mapping of ${path}, not in the baseline`,
        evidence: { path, dev, inode },
        gather: { processes: pid },
      };
    }
    // No device and inode (an allow file's library): any file at that path.
    if (known.some((k) => (k.dev === dev && k.inode === inode) || (k.dev === null && k.inode === null))) return null;
    return {
      kind: 'new_library',
      severity: 'low',
      key: `new_library ${path} ${dev} ${inode}`,
      summary: `${path} is a different file than in the baseline (device ${dev}, inode ${inode})`,
      evidence: { path, dev, inode, baseline: known },
      gather: { processes: pid },
    };
  }

  private libcall(view: BatchView, row: number): Finding | null {
    const path = view.str('path', row);
    const pid = view.pid[row]!;
    const func = view.str('func', row) ?? '?';
    this.deviations.firstCall(pid, view, row);
    const { counter, base } = this.deviations.counting(view);
    counter.add(pid, this.funcs.id(func), timeOffset(view.ts, row, base));
    const args = this.libcalls.get(func);
    if (args === undefined)
      return {
        kind: 'unexpected_libcall',
        severity: path !== null && isSuspiciousLocation(path) ? 'high' : 'medium',
        key: `libcall ${pid} ${func}`,
        summary: `${func} called, never in the baseline${path !== null ? ` (${path})` : ''}`,
        evidence: { func, argument: path },
      };
    if (path === null || args.has(path)) return null;
    return {
      kind: 'unexpected_libcall',
      severity: isSuspiciousLocation(path) ? 'high' : 'medium',
      key: `libcall ${pid} ${func} ${path}`,
      summary: `${func}(${path}): argument never seen in the baseline`,
      evidence: { func, argument: path },
    };
  }
}

export const libraries = defineDetector(['libraries', 'calibration'], LibraryLearner, LibraryScorer, {
  merge: mergeLibraries,
  allows: {
    library(document, path) {
      const mappings = document.libraries.mappings;
      if (!mappings.some((m) => m.path === path && m.dev === null && m.inode === null))
        document.libraries.mappings = sortedMappings([...mappings, { path: absolutePath(path), dev: null, inode: null }]);
    },
    // FUNC ARGUMENT allows that call (an entry a line for each argument); FUNC alone, calls without one.
    libcall(document, entry) {
      const space = entry.indexOf(' ');
      const func = space < 0 ? entry : entry.slice(0, space);
      if (!/^[^:\s]+:[^:\s]+$/.test(func))
        throw new Error(`expected a library function as LIBRARY:FUNCTION (e.g. libc.so.6:dlopen), got ${JSON.stringify(func)}`);
      const args = (document.libraries.libcalls[func] ??= []);
      if (space >= 0) insertSorted(args, entry.slice(space + 1));
    },
  },
});
