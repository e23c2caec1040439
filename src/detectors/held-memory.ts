// Descriptors of the target's memory other processes held when gpo attached (trace metadata
// target.memory_holders): acts of the acts detector that have no row, since they happened before
// recording. Their signatures (`proc_mem_held EXE FILE [write]`) are learned and allowed like any act's;
// an anomaly is dated at the trace's first row, the earliest time gpo could know (0 in a trace without rows).
import type { BatchView } from '../trace/batch-view.js';
import type { TargetInfo } from '../trace/metadata.js';
import type { Anomaly, Severity } from './anomaly.js';

export interface HeldMemoryAct {
  signature: string;
  severity: Severity;
  pid: number;
  comm: string;
  summary: string;
  evidence: Record<string, unknown>;
}

/** The acts target.memory_holders records, one per holder and file (descriptors of one file merge). */
export function heldMemoryActs(target: TargetInfo): HeldMemoryAct[] {
  const acts = new Map<string, HeldMemoryAct>();
  for (const holder of target.memory_holders ?? []) {
    const file = holder.path.split('/').pop()!;
    const signature = `proc_mem_held ${holder.exe || holder.comm} ${file}${holder.write ? ' write' : ''}`;
    const key = `${holder.pid} ${signature}`;
    const act = acts.get(key);
    if (act !== undefined) {
      (act.evidence.fds as number[]).push(holder.fd);
      continue;
    }
    const actor = { pid: holder.pid, comm: holder.comm, exe: holder.exe };
    acts.set(key, {
      signature,
      // mem is the memory itself; pagemap and map_files tell where it lies.
      severity: file === 'mem' ? 'high' : 'medium',
      pid: holder.pid,
      comm: holder.comm,
      summary: `${holder.comm} (pid ${holder.pid}, ${holder.exe || '?'}) held ${holder.path}${holder.write ? ' for writing' : ''} before gpo attached: its reads${holder.write ? ' and writes' : ''} leave no row`,
      evidence: { path: holder.path, write: holder.write, fds: [holder.fd], actor, signature },
    });
  }
  return [...acts.values()];
}

/** The anomalies of the held descriptors a baseline does not allow, once the trace's first row is seen. */
export class HeldMemoryScorer {
  private firstTs: bigint | undefined;
  private readonly acts: HeldMemoryAct[];

  constructor(target: TargetInfo, allowed: ReadonlySet<string>) {
    this.acts = heldMemoryActs(target).filter((act) => !allowed.has(act.signature));
  }

  observe(view: BatchView): void {
    if (view.rows > 0) this.firstTs ??= view.ts[0]!;
  }

  /** Live, they wait for the first row (their date); at the end of a trace without rows they are dated 0. */
  anomalies(final: boolean): Anomaly[] {
    const at = this.firstTs ?? (final ? 0n : undefined);
    if (at === undefined) return [];
    return this.acts.map((act) => ({
      kind: 'proc_mem',
      severity: act.severity,
      first_ts_ns: at,
      last_ts_ns: at,
      pid: act.pid,
      tid: act.pid,
      comm: act.comm,
      count: 1,
      summary: act.summary,
      evidence: { ...act.evidence, fds: [...(act.evidence.fds as number[])] },
    }));
  }
}
