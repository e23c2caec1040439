// What scoring reports: anomalies with a stable kind name, a severity, when and where, and evidence.

export const SEVERITIES = ['low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Stable names; documented in docs/baseline.md. Never rename one: reports and scripts key on them. */
export const ANOMALY_KINDS = [
  // Syscalls of the target.
  'novel_syscall',
  'novel_sequence',
  'rate_deviation',
  // Libraries and library calls.
  'new_library',
  'unexpected_libcall',
  'libcall_rate_deviation',
  // Other processes acting on the target.
  'ptrace',
  'vm_read',
  'vm_write',
  'proc_mem',
  'signal',
  'pidfd',
  'perf_open',
  // Injection and code loading inside the target.
  'preload',
  'exec_memory',
  'fileless_exec',
  'child_exec',
  'io_uring',
  // System-wide while the target ran.
  'module_load',
  'bpf_load',
  'uinput',
  'device_open',
] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface Anomaly {
  kind: AnomalyKind;
  severity: Severity;
  /** Trace time (ts_ns) of the first and last row involved. */
  first_ts_ns: bigint;
  last_ts_ns: bigint;
  /** The process and thread the anomaly is about (for acts of other processes: the actor's). */
  pid: number;
  tid: number;
  comm: string;
  /** Rows or windows merged into this anomaly. */
  count: number;
  /** One line, plain text (escape it for a terminal). */
  summary: string;
  /** Kind-specific facts: syscall names of the unseen window, library path, ptrace request, actor, ... */
  evidence: Record<string, unknown>;
}

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

/** Code-unit order of strings (not locale order): the same on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Total order: first time, kind, thread, then summary, so equal inputs always print in the same order. */
export function compareAnomalies(a: Anomaly, b: Anomaly): number {
  if (a.first_ts_ns !== b.first_ts_ns) return a.first_ts_ns < b.first_ts_ns ? -1 : 1;
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  if (a.tid !== b.tid) return a.tid - b.tid;
  if (a.pid !== b.pid) return a.pid - b.pid;
  return a.summary < b.summary ? -1 : a.summary > b.summary ? 1 : 0;
}

/** Fixed float formatting for evidence: 6 decimals, so equal inputs print equal bytes on every machine. */
export function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 1e6) / 1e6 : value;
}
