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

  /** Copies, in order of first appearance: the merged anomalies go on growing. */
  anomalies(): Anomaly[] {
    return [...this.merged.values()].map((a) => ({ ...a }));
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
