// What the HTML report draws, gathered in one streaming pass over the trace: syscall counts per thread in
// fixed time bins (so any trace size gives charts of the same size), the share of syscall windows the
// baseline never saw per bin, and the library and tampering rows as binned lanes with a few labels each.
import { basename } from 'node:path';
import type { BaselineDocument } from '../../baseline/document.js';
import { numericColumn, rowColumns } from '../../trace/columns.js';
import type { TraceFile } from '../../trace/reader.js';
import { ACT_KINDS, type RowKind } from '../../trace/schema.js';
import { describeRow, readRow, type TraceRow } from '../../trace/describe-row.js';
import type { ProgressListener } from '../../trace/progress.js';

/** Time bins of the timeline charts: at most this many (so any trace gives charts of the same size)... */
const MAX_BINS = 400;
/** ...at least this many, and otherwise bins of BIN_NS (shorter bins make a 60 fps game loop look like noise). */
const MIN_BINS = 60;
const BIN_NS = 50_000_000;
/** Labels kept per lane and bin (for tooltips); the count says how many rows there were. */
const LABELS_PER_BIN = 3;
/** Rows listed in the report's tables per kind of list. */
const LIST_LIMIT = 200;

const TAMPER_KINDS = new Set<string>(ACT_KINDS);
/** The library lanes: code loading inside the target and execs, in the order the report shows them. */
const LIBRARY_KINDS = new Set<string>(['mmap_exec', 'libcall', 'exec_memory', 'memfd_create', 'exec', 'io_uring_setup', 'loader_env'] satisfies RowKind[]);

export interface ThreadSeries {
  pid: number;
  tid: number;
  comm: string;
  total: number;
  /** Syscalls per bin. */
  bins: Float64Array;
}

export interface LaneBin {
  count: number;
  labels: string[];
  /** Distinct kinds in the bin (for the marker's colour). */
  kinds: string[];
}

export interface Lane {
  /** Lane title: the library kind, or the actor. */
  label: string;
  rows: number;
  bins: Map<number, LaneBin>;
}

export interface Actor {
  pid: number;
  comm: string;
  exe: string;
  uid: number | null;
  first_ns: bigint;
  last_ns: bigint;
  /** act ("ptrace PTRACE_POKEDATA", "proc_open /proc/1/mem") -> rows */
  acts: Map<string, number>;
}

export interface LibraryRow {
  ts_ns: bigint;
  kind: string;
  text: string;
  pid: number;
  tid: number;
  comm: string;
}

export interface ReportData {
  startNs: bigint;
  endNs: bigint;
  /** Number of time bins and their length. */
  bins: number;
  binNs: number;
  rows: number;
  syscalls: number;
  threads: ThreadSeries[];
  syscallCounts: Map<number, number>;
  /** Syscalls of the target process only, for the comparison with the baseline's per-process rates. */
  targetSyscallCounts: Map<number, number>;
  /** Windows per bin and how many of them the baseline (or, without one, the trace so far) had not seen. */
  novelty: { windows: Float64Array; unseen: Float64Array; reference: 'baseline' | 'trace'; windowLength: number };
  libraryLanes: Lane[];
  tamperLanes: Lane[];
  actors: Actor[];
  libraries: LibraryRow[];
  rowsByKind: Map<string, number>;
}

function laneAdd(lanes: Map<string, Lane>, key: string, bin: number, kind: string, label: string): void {
  let lane = lanes.get(key);
  if (!lane) lanes.set(key, (lane = { label: key, rows: 0, bins: new Map() }));
  lane.rows++;
  let cell = lane.bins.get(bin);
  if (!cell) lane.bins.set(bin, (cell = { count: 0, labels: [], kinds: [] }));
  cell.count++;
  if (cell.labels.length < LABELS_PER_BIN) cell.labels.push(label);
  if (!cell.kinds.includes(kind)) cell.kinds.push(kind);
}

function actKey(row: TraceRow, text: string): string {
  const call = text.split('(')[0];
  if (row.kind === 'ptrace' || row.kind === 'signal') return `${call} ${text.slice(call!.length + 1).split(',')[0]}`;
  if (row.kind === 'proc_open' || row.kind === 'device_open' || row.kind === 'module_load') return `${call} ${row.path ?? '?'}`;
  return call!;
}

/** Time span of the trace: the recording's clock when it has one, else its rows (one quick pass). */
async function span(trace: TraceFile): Promise<[bigint, bigint]> {
  const clock = trace.metadata.clock;
  if (clock?.start_ns && clock.end_ns && BigInt(clock.end_ns) > BigInt(clock.start_ns)) return [BigInt(clock.start_ns), BigInt(clock.end_ns)];
  let first: bigint | null = null;
  let last: bigint | null = null;
  for await (const batch of trace.batches({ columns: ['ts_ns'] })) {
    const ts = numericColumn<BigInt64Array>(batch, 'ts_ns');
    for (let i = 0; i < ts.length; i++) {
      if (first === null || ts[i]! < first) first = ts[i]!;
      if (last === null || ts[i]! > last) last = ts[i]!;
    }
  }
  const start = clock?.start_ns && BigInt(clock.start_ns) > 0n && first !== null && BigInt(clock.start_ns) <= first ? BigInt(clock.start_ns) : (first ?? 0n);
  return [start, last !== null && last > start ? last : start + 1n];
}

export async function collectReportData(trace: TraceFile, baseline: BaselineDocument | null, progress?: ProgressListener): Promise<ReportData> {
  const [startNs, endNs] = await span(trace);
  const BINS = Math.max(MIN_BINS, Math.min(MAX_BINS, Math.round(Number(endNs - startNs) / BIN_NS)));
  const binNs = Number(endNs - startNs) / BINS;
  const binOf = (ts: bigint): number => Math.min(BINS - 1, Math.max(0, Math.floor(Number(ts - startNs) / binNs)));
  const targetPid = trace.metadata.target.pid;

  const threads = new Map<number, ThreadSeries>();
  const syscallCounts = new Map<number, number>();
  const targetSyscallCounts = new Map<number, number>();
  const rowsByKind = new Map<string, number>();
  const libraryLanes = new Map<string, Lane>();
  const tamperLanes = new Map<string, Lane>();
  const actors = new Map<string, Actor>();
  const libraries: LibraryRow[] = [];

  const windowLength = baseline?.model.windows.windowLength ?? 6;
  const known = new Set(baseline ? Object.keys(baseline.model.windows.windows) : []);
  const recent = new Map<number, number[]>();
  const windows = new Float64Array(BINS);
  const unseen = new Float64Array(BINS);

  let rows = 0;
  let syscalls = 0;
  for await (const batch of trace.batches()) {
    const { ts, pid, tid, nr, isSyscall, comm, kind } = rowColumns(batch);
    for (let i = 0; i < batch.numRows; i++) {
      const bin = binOf(ts[i]!);
      const t = tid[i]!;
      let thread = threads.get(t);
      if (!thread) threads.set(t, (thread = { pid: pid[i]!, tid: t, comm: comm(i) ?? '', total: 0, bins: new Float64Array(BINS) }));
      if (isSyscall(i)) {
        const n = nr[i]!;
        thread.total++;
        thread.bins[bin]!++;
        syscalls++;
        syscallCounts.set(n, (syscallCounts.get(n) ?? 0) + 1);
        if (pid[i] === targetPid) targetSyscallCounts.set(n, (targetSyscallCounts.get(n) ?? 0) + 1);
        let last = recent.get(t);
        if (!last) recent.set(t, (last = []));
        last.push(n);
        if (last.length > windowLength) last.shift();
        if (last.length === windowLength) {
          const key = last.join(',');
          windows[bin]!++;
          if (!known.has(key)) {
            unseen[bin]!++;
            if (!baseline) known.add(key);
          }
        }
        continue;
      }
      const k = kind(i) ?? '';
      rowsByKind.set(k, (rowsByKind.get(k) ?? 0) + 1);
      if (k === 'rename' || k === 'exec') thread.comm = comm(i) ?? thread.comm;
      if (!TAMPER_KINDS.has(k) && !LIBRARY_KINDS.has(k)) continue;
      const row = readRow(batch, i);
      const text = describeRow(row);
      if (LIBRARY_KINDS.has(k)) {
        laneAdd(libraryLanes, k, bin, k, text);
        if (libraries.length < LIST_LIMIT) libraries.push({ ts_ns: row.ts_ns, kind: k, text, pid: row.pid, tid: row.tid, comm: row.comm });
      } else {
        const who = `${basename(row.exe ?? row.comm)} (pid ${row.pid})`;
        laneAdd(tamperLanes, who, bin, k, text);
        let actor = actors.get(who);
        if (!actor)
          actors.set(
            who,
            (actor = {
              pid: row.pid,
              comm: row.comm,
              exe: row.exe ?? row.comm,
              uid: row.uid ?? null,
              first_ns: row.ts_ns,
              last_ns: row.ts_ns,
              acts: new Map(),
            }),
          );
        if (row.ts_ns < actor.first_ns) actor.first_ns = row.ts_ns;
        if (row.ts_ns > actor.last_ns) actor.last_ns = row.ts_ns;
        const act = actKey(row, text);
        actor.acts.set(act, (actor.acts.get(act) ?? 0) + 1);
      }
    }
    rows += batch.numRows;
    progress?.update(rows);
  }
  if (syscalls > 0) rowsByKind.set('syscall', syscalls);
  const byTime = (a: Lane, b: Lane) => Math.min(...a.bins.keys()) - Math.min(...b.bins.keys()) || (a.label < b.label ? -1 : 1);
  const kindOrder = [...LIBRARY_KINDS];
  return {
    startNs,
    endNs,
    bins: BINS,
    binNs,
    rows,
    syscalls,
    threads: [...threads.values()].filter((t) => t.total > 0).sort((a, b) => b.total - a.total || a.tid - b.tid),
    syscallCounts,
    targetSyscallCounts,
    novelty: { windows, unseen, reference: baseline ? 'baseline' : 'trace', windowLength },
    libraryLanes: [...libraryLanes.values()].sort((a, b) => kindOrder.indexOf(a.label) - kindOrder.indexOf(b.label)),
    tamperLanes: [...tamperLanes.values()].sort(byTime),
    actors: [...actors.values()].sort((a, b) => (a.first_ns < b.first_ns ? -1 : a.first_ns > b.first_ns ? 1 : a.pid - b.pid)),
    libraries,
    rowsByKind,
  };
}
