// Libraries and library calls: executable file mappings (new_library), library functions watched with
// uprobes and their arguments (unexpected_libcall), and library calls per process per window
// (libcall_rate_deviation). Baseline: `libraries` (mappings with device and inode, functions with the
// arguments seen, call-rate statistics) and `calibration.libcall_rate_deviation`.
import type { RateStats, WindowCounter } from '../model/rates.js';
import { timeOffset, type BatchView } from '../trace/batch-view.js';
import { compareText, type Anomaly, type Severity } from './anomaly.js';
import type { LoadedBaseline } from '../baseline/document.js';
import { defineDetector } from './detector.js';
import { isSuspiciousLocation } from './paths.js';
import { RateDeviations, RateLearner } from './rate-deviation.js';
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

  protected count(view: BatchView, counter: WindowCounter, base: bigint): void {
    for (const row of view.eventRows) {
      const kind = view.kind(row);
      if (kind === 'mmap_exec') {
        const path = view.str('path', row);
        if (path === null) continue;
        const dev = view.int('dev', row);
        const inode = view.int('inode', row);
        this.mappings.set(`${path}\u0000${dev}\u0000${inode}`, { path, dev, inode });
      } else if (kind === 'libcall') {
        const path = view.str('path', row);
        const func = view.str('func', row) ?? '?';
        let args = this.libcalls.get(func);
        if (args === undefined) this.libcalls.set(func, (args = new Set()));
        if (path !== null) args.add(path);
        counter.add(view.pid[row]!, this.funcs.id(func), timeOffset(view.ts, row, base));
      }
    }
  }

  finish() {
    const stats: Record<string, RateStats> = {};
    for (const [id, s] of this.stats()) stats[this.funcs.names[id]!] = s;
    return {
      libraries: {
        mappings: [...this.mappings.values()].sort((a, b) => compareText(a.path, b.path) || (a.dev ?? -1) - (b.dev ?? -1) || (a.inode ?? -1) - (b.inode ?? -1)),
        libcalls: Object.fromEntries([...this.libcalls].map(([func, args]) => [func, [...args].sort(compareText)])),
        libcall_rates: { window_ns: this.plan.windowNs, windows: this.windows.length, stats },
      },
      calibration: { libcall_rate_deviation: this.threshold() },
    };
  }
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
      return { kind: 'new_library', severity, key: `new_library ${pid} ${path}`, summary: `executable mapping of ${path}, not in the baseline`, evidence: { path, dev, inode } };
    }
    if (known.some((k) => k.dev === dev && k.inode === inode)) return null;
    return { kind: 'new_library', severity: 'low', key: `new_library ${pid} ${path}`, summary: `${path} is a different file than in the baseline (device ${dev}, inode ${inode})`, evidence: { path, dev, inode, baseline: known } };
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
      return { kind: 'unexpected_libcall', severity: path !== null && isSuspiciousLocation(path) ? 'high' : 'medium', key: `libcall ${pid} ${func}`, summary: `${func} called, never in the baseline${path !== null ? ` (${path})` : ''}`, evidence: { func, argument: path } };
    if (path === null || args.has(path)) return null;
    return { kind: 'unexpected_libcall', severity: isSuspiciousLocation(path) ? 'high' : 'medium', key: `libcall ${pid} ${func} ${path}`, summary: `${func}(${path}): argument never seen in the baseline`, evidence: { func, argument: path } };
  }
}

export const libraries = defineDetector(['libraries', 'calibration'], LibraryLearner, LibraryScorer);
