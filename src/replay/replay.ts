// gpo replay: a trace read back like `strace -f -tt -T` or `sysdig -r`, one line (or JSON object) per row,
// filtered by process, thread, syscall, kind and time. Streams batch by batch: the first lines come out
// as soon as the first row group is decoded, whatever the trace's size.
import { GpoError } from '../errors.js';
import { escapeTerminal, inertJson } from '../cli/escape.js';
import type { TraceFile } from '../trace/reader.js';
import { ROW_KINDS } from '../trace/schema.js';
import { syscallNumber } from '../trace/syscalls.js';
import { numericColumn, rowColumns, validity } from '../trace/columns.js';
import { callName, describeRow, readRow, type TraceRow } from '../trace/describe-row.js';
import { returnError } from '../trace/linux-names.js';

export interface ReplayFilter {
  /** Rows of these processes, and acts of other processes toward them. */
  pids?: ReadonlySet<number>;
  /** Rows of these threads, and acts toward them. */
  tids?: ReadonlySet<number>;
  /** Syscall rows of these numbers. */
  syscalls?: ReadonlySet<number>;
  /** Rows of these kinds. With `syscalls` too, a row matching either is kept. */
  kinds?: ReadonlySet<string>;
  /** Trace time (ts_ns) bounds, inclusive. */
  sinceNs?: bigint;
  untilNs?: bigint;
}

/** Where relative times count from and how trace time maps to wall time. */
export interface TraceClock {
  startNs: bigint;
  /** wall ns = ts_ns + wallOffsetNs; null for traces without a wall clock (imports). */
  wallOffsetNs: bigint | null;
}

export function traceClock(trace: TraceFile): TraceClock {
  const clock = trace.metadata.clock;
  const offset = BigInt(clock?.wall_offset_ns ?? '0');
  return { startNs: BigInt(clock?.start_ns ?? '0'), wallOffsetNs: offset === 0n ? null : offset };
}

export function parseSyscallNames(list: string): Set<number> {
  const out = new Set<number>();
  for (const name of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const nr = /^\d+$/.test(name) ? Number(name) : syscallNumber(name);
    if (nr === undefined) throw new GpoError(`unknown syscall: ${escapeTerminal(name)}`);
    out.add(nr);
  }
  return out;
}

export function parseKinds(list: string): Set<string> {
  const out = new Set<string>();
  for (const kind of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!(ROW_KINDS as readonly string[]).includes(kind)) throw new GpoError(`unknown row kind: ${escapeTerminal(kind)} (kinds: ${ROW_KINDS.join(', ')})`);
    out.add(kind);
  }
  return out;
}

/**
 * A --since/--until value as trace time: seconds from the trace start (`1.5`), or an absolute time
 * (`2026-11-25T10:01:54.2Z`, ISO 8601) for traces with a wall clock.
 */
export function parseTime(value: string, clock: TraceClock): bigint {
  const trimmed = value.trim();
  if (/^[+]?\d+(\.\d+)?$/.test(trimmed)) {
    const [whole, fraction = ''] = trimmed.replace(/^\+/, '').split('.');
    return clock.startNs + BigInt(whole!) * 1_000_000_000n + BigInt(fraction.slice(0, 9).padEnd(9, '0'));
  }
  const ms = /^\d{4}-\d\d-\d\d/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(ms))
    throw new GpoError(`bad time ${escapeTerminal(value)}: give seconds from the trace start (1.5) or an ISO time (2026-01-02T10:00:00.5Z)`);
  if (clock.wallOffsetNs === null) throw new GpoError('this trace has no wall clock (imported): give --since/--until in seconds from its start');
  // Sub-millisecond digits of the ISO text are kept: Date.parse stops at milliseconds.
  const subMs = /\.\d{3}(\d{1,6})/.exec(trimmed)?.[1] ?? '';
  return BigInt(ms) * 1_000_000n + BigInt(subMs.padEnd(6, '0') || '0') - clock.wallOffsetNs;
}

/** Seconds from the trace start with 6 decimals, signed: `+1.234567`. */
export function relativeTime(ts: bigint, startNs: bigint): string {
  const ns = ts - startNs;
  const abs = ns < 0n ? -ns : ns;
  return `${ns < 0n ? '-' : '+'}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0').slice(0, 6)}`;
}

/** Wall time as ISO 8601 with nanoseconds, UTC. */
export function wallTime(ts: bigint, offsetNs: bigint): string {
  const wall = ts + offsetNs;
  const ms = wall / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // 2026-11-25T10:01:53.188Z
  return `${iso.slice(0, 19)}.${(wall % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

/** One human line: relative time, wall clock (UTC, µs), pid/tid, comm, the call, duration. */
export function formatLine(row: TraceRow, clock: TraceClock): string {
  const parts = [relativeTime(row.ts_ns, clock.startNs)];
  if (clock.wallOffsetNs !== null) parts.push(wallTime(row.ts_ns, clock.wallOffsetNs).slice(11, 26));
  parts.push(`${row.pid}/${row.tid}`.padEnd(13), escapeTerminal(row.comm).padEnd(15), escapeTerminal(describeRow(row)));
  let line = parts.join(' ');
  if (row.duration_ns !== undefined) line += ` <${(Number(row.duration_ns) / 1e9).toFixed(6)}>`;
  return line;
}

/** One JSON line: every recorded column (64-bit values as decimal strings) plus the decoded call. */
export function formatJsonLine(row: TraceRow, clock: TraceClock): string {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = typeof value === 'bigint' ? value.toString() : value;
  out.time = relativeTime(row.ts_ns, clock.startNs);
  if (clock.wallOffsetNs !== null) out.wall = wallTime(row.ts_ns, clock.wallOffsetNs);
  out.call = callName(row);
  const error = returnError(row.ret ?? null);
  if (error) out.error = error;
  out.text = describeRow(row);
  return inertJson(JSON.stringify(out));
}

/** Rows of the trace that pass the filter, in file order, batch by batch. */
export async function* replayRows(trace: TraceFile, filter: ReplayFilter = {}): AsyncGenerator<TraceRow[]> {
  const { pids, tids, syscalls, kinds, sinceNs, untilNs } = filter;
  for await (const batch of trace.batches()) {
    const { ts, pid, tid, nr, isSyscall, kind } = rowColumns(batch);
    const targetPid = numericColumn(batch, 'target_pid');
    const hasTargetPid = validity(batch, 'target_pid');
    const targetTid = numericColumn(batch, 'target_tid');
    const hasTargetTid = validity(batch, 'target_tid');
    const rows: TraceRow[] = [];
    for (let i = 0; i < batch.numRows; i++) {
      const t = ts[i]!;
      if ((sinceNs !== undefined && t < sinceNs) || (untilNs !== undefined && t > untilNs)) continue;
      if (pids && !pids.has(pid[i]!) && !(hasTargetPid(i) && pids.has(targetPid[i]!))) continue;
      if (tids && !tids.has(tid[i]!) && !(hasTargetTid(i) && tids.has(targetTid[i]!))) continue;
      if (syscalls || kinds) {
        const syscall = isSyscall(i);
        const bySyscall = syscalls !== undefined && syscall && syscalls.has(nr[i]!);
        // A syscall filter alone keeps only those syscalls; kinds are matched on the kind column.
        const byKind = kinds !== undefined && kinds.has(syscall ? 'syscall' : (kind(i) ?? ''));
        if (!bySyscall && !byKind) continue;
      }
      rows.push(readRow(batch, i));
    }
    if (rows.length > 0) yield rows;
  }
}
