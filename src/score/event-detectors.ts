// Detectors on the rows that are not syscalls: tampering and injection (allowed when the baseline saw the
// same act), libraries and library calls against the baseline's library profile, and children exec'd.
import type { RecordBatch } from 'apache-arrow';
import type { BaselineDocument } from '../baseline/document.js';
import type { Anomaly, AnomalyKind, Detector, Severity } from './anomaly.js';
import { maxSeverity } from './anomaly.js';
import { timeOffset, viewOf, type BatchView } from './batch-view.js';
import { classifyEvent, isFilelessPath, isSuspiciousLocation } from './events.js';
import { RateRuns } from './syscall-detectors.js';
import { WindowCounter, type RateStats } from './rates.js';
import { StringIds } from './string-ids.js';

interface Finding {
  kind: AnomalyKind;
  severity: Severity;
  /** Rows with the same key merge into one anomaly. */
  key: string;
  summary: string;
  evidence: Record<string, unknown>;
}

export class EventAnomalies implements Detector {
  private readonly merged = new Map<string, Anomaly>();
  private readonly allowed: ReadonlySet<string>;
  /** The baseline saw the program make executable anonymous memory (a JIT). */
  private readonly jitInBaseline: boolean;
  private readonly libraries: ReadonlyMap<string, { dev: number | null; inode: number | null }[]>;
  private readonly libcalls: ReadonlyMap<string, ReadonlySet<string>>;
  private readonly children: ReadonlySet<string>;
  /** memfd names created per process, so an exec of one is recognised as fileless. */
  private readonly memfds = new Map<number, Set<string>>();
  private readonly libcallRates: WindowCounter;
  private readonly libcallRuns: RateRuns;
  private readonly funcs = new StringIds();
  private readonly firstThread = new Map<number, { tid: number; comm: string }>();
  private base: bigint | undefined;

  constructor(
    baseline: BaselineDocument,
    private readonly target: { pid: number; exe: string },
  ) {
    this.allowed = new Set(Object.keys(baseline.allowed));
    this.jitInBaseline = [...this.allowed].some((signature) => signature.startsWith('exec_memory '));
    const libraries = new Map<string, { dev: number | null; inode: number | null }[]>();
    for (const m of baseline.libraries.mappings) libraries.set(m.path, [...(libraries.get(m.path) ?? []), { dev: m.dev, inode: m.inode }]);
    this.libraries = libraries;
    this.libcalls = new Map(Object.entries(baseline.libraries.libcalls).map(([func, args]) => [func, new Set(args)]));
    this.children = new Set(baseline.process.children);
    const stats = new Map<number, RateStats>();
    for (const [func, s] of Object.entries(baseline.libraries.libcall_rates.stats)) stats.set(this.funcs.id(func), s);
    this.libcallRuns = new RateRuns('libcall_rate_deviation', baseline.calibration.libcall_rate_deviation.z, stats, (id) => this.funcs.names[id]!, () => this.base!, (pid) => this.firstThread.get(pid) ?? { tid: pid, comm: '' });
    this.libcallRates = new WindowCounter(baseline.libraries.libcall_rates.window_ns, (window) => this.libcallRuns.window(window));
  }

  observe(batch: RecordBatch): void {
    const view = viewOf(batch);
    if (view.rows === 0) return;
    this.base ??= view.ts[0]!;
    if (view.eventRows.length === 0) return;
    for (const row of view.eventRows) {
      const finding = this.findingOf(view, row, timeOffset(view.ts, row, this.base));
      if (finding !== null) this.merge(view, row, finding);
    }
  }

  finish(): Anomaly[] {
    this.libcallRates.finish(true);
    return [...this.merged.values(), ...this.libcallRuns.anomalies];
  }

  private findingOf(view: BatchView, row: number, t: number): Finding | null {
    const kind = view.kind(row);
    const pid = view.pid[row]!;
    const path = view.str('path', row);
    switch (kind) {
      case 'mmap_exec': {
        if (path === null) return null;
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
      case 'libcall': {
        const func = view.str('func', row) ?? '?';
        if (!this.firstThread.has(pid)) this.firstThread.set(pid, { tid: view.tid[row]!, comm: view.comm(row) });
        this.libcallRates.add(pid, this.funcs.id(func), t);
        const args = this.libcalls.get(func);
        if (args === undefined)
          return { kind: 'unexpected_libcall', severity: path !== null && isSuspiciousLocation(path) ? 'high' : 'medium', key: `libcall ${pid} ${func}`, summary: `${func} called, never in the baseline${path !== null ? ` (${path})` : ''}`, evidence: { func, argument: path } };
        if (path === null || args.has(path)) return null;
        return { kind: 'unexpected_libcall', severity: isSuspiciousLocation(path) ? 'high' : 'medium', key: `libcall ${pid} ${func} ${path}`, summary: `${func}(${path}): argument never seen in the baseline`, evidence: { func, argument: path } };
      }
      case 'memfd_create': {
        let names = this.memfds.get(pid);
        if (names === undefined) this.memfds.set(pid, (names = new Set()));
        names.add(path ?? '');
        return null;
      }
      case 'exec': {
        if (path === null) return null;
        const memfd = this.memfds.get(pid);
        // request: the executed file's link count; 0 is a memfd or a deleted file, no name on disk.
        const links = view.int('request', row);
        if (isFilelessPath(path) || links === 0 || (memfd !== undefined && [...memfd].some((name) => path.includes(`memfd:${name}`))))
          return { kind: 'fileless_exec', severity: 'high', key: `fileless_exec ${pid} ${path}`, summary: `program executed from memory: ${path}${links === 0 ? ' (no link on disk)' : ''}`, evidence: { path, links, memfd_names: memfd ? [...memfd].sort() : [] } };
        if (pid === this.target.pid && path === this.target.exe) return null;
        if (this.children.has(path)) return null;
        return { kind: 'child_exec', severity: isSuspiciousLocation(path) ? 'high' : 'medium', key: `child_exec ${pid} ${path}`, summary: `${pid === this.target.pid ? 'the target' : `process ${pid}`} executed ${path}, not in the baseline`, evidence: { path } };
      }
      default: {
        const finding = classifyEvent(view, row, kind, { targetPid: this.target.pid });
        if (finding === null) return null;
        if (finding.kind === 'fileless_exec' || this.allowed.has(finding.signature)) return null;
        // A program that never made executable anonymous memory in training (no JIT) starting to is code
        // injection, even when the pages are not writable any more (write, then mprotect to RX).
        if (finding.kind === 'exec_memory' && !this.jitInBaseline)
          return { kind: finding.kind, severity: 'high', key: `${pid} ${finding.signature}`, summary: `${finding.summary}; the baseline never had any`, evidence: { ...finding.evidence, signature: finding.signature } };
        return { kind: finding.kind, severity: finding.severity, key: `${pid} ${finding.signature}`, summary: finding.summary, evidence: { ...finding.evidence, signature: finding.signature } };
      }
    }
  }

  private merge(view: BatchView, row: number, finding: Finding): void {
    const ts = view.ts[row]!;
    const existing = this.merged.get(finding.key);
    if (existing !== undefined) {
      existing.count++;
      existing.last_ts_ns = ts;
      existing.severity = maxSeverity(existing.severity, finding.severity);
      return;
    }
    this.merged.set(finding.key, {
      kind: finding.kind,
      severity: finding.severity,
      first_ts_ns: ts,
      last_ts_ns: ts,
      pid: view.pid[row]!,
      tid: view.tid[row]!,
      comm: view.comm(row),
      count: 1,
      summary: finding.summary,
      evidence: finding.evidence,
    });
  }
}
