// Rows of the same act (same process, same signature) merged into one anomaly with a count and the first
// and last time: a cheat reading memory a thousand times is one anomaly, not a thousand.
import type { BatchView } from '../trace/batch-view.js';
import { maxSeverity, type Anomaly, type AnomalyKind, type Severity } from './anomaly.js';
import type { Scorer } from './detector.js';

/** What one row means, before merging. */
export interface Finding {
  kind: AnomalyKind;
  severity: Severity;
  /** Rows with the same key merge into one anomaly. */
  key: string;
  summary: string;
  evidence: Record<string, unknown>;
  /** Values gathered over the merged rows as evidence lists (distinct, in trace order): one anomaly with a
   * count for one act repeated (a library in 20 processes, 31 descriptors taken), not one per row. */
  gather?: Record<string, number | null>;
}

class RowFindings {
  private readonly merged = new Map<string, Anomaly>();

  add(view: BatchView, row: number, finding: Finding): void {
    const ts = view.ts[row]!;
    const existing = this.merged.get(finding.key);
    if (existing !== undefined) {
      existing.count++;
      existing.last_ts_ns = ts;
      existing.severity = maxSeverity(existing.severity, finding.severity);
      for (const [name, value] of Object.entries(finding.gather ?? {})) {
        const seen = existing.evidence[name] as (number | null)[];
        if (!seen.includes(value)) seen.push(value);
      }
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
      evidence: { ...finding.evidence, ...Object.fromEntries(Object.entries(finding.gather ?? {}).map(([name, value]) => [name, [value]])) },
    });
  }

  /** Copies, in order of first appearance: the merged anomalies go on growing. */
  anomalies(): Anomaly[] {
    return [...this.merged.values()].map((a) => ({ ...a, evidence: copyLists(a.evidence) }));
  }
}

/** A scorer of the rows that are not syscalls: each row means one finding or none, merged by act. */
export abstract class FindingScorer implements Scorer {
  private readonly findings = new RowFindings();

  /** What row `row` (of kind `kind`) means, or null. */
  protected abstract finding(view: BatchView, row: number, kind: string): Finding | null;

  observe(view: BatchView): void {
    for (const row of view.eventRows) {
      const finding = this.finding(view, row, view.kind(row));
      if (finding !== null) this.findings.add(view, row, finding);
    }
  }

  flush(): Anomaly[] {
    return this.findings.anomalies();
  }

  finish(): Anomaly[] {
    return this.findings.anomalies();
  }
}

/** The evidence with its gathered lists copied, so a flushed anomaly does not change as rows merge later. */
function copyLists(evidence: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(evidence).map(([name, value]) => [name, Array.isArray(value) ? [...value] : value]));
}
