// What `gpo info` shows: metadata, time span, processes and threads, syscalls by count, losses.
import { syscallName } from './syscalls.js';
import { numericColumn, rowColumns, stringColumn } from './columns.js';
import type { TraceFile } from './reader.js';
import { totalDropped, type TraceMetadata } from './metadata.js';
import { recordingOf, type RecordingIdentity } from './recording.js';

export interface ThreadSummary {
  tid: number;
  pid: number;
  comm: string;
  syscalls: number;
}

export interface ProcessSummary {
  pid: number;
  comm: string;
  exe: string | null;
  threads: number;
  syscalls: number;
  exit_code: number | null;
}

export interface TraceSummary {
  path: string;
  recording: RecordingIdentity;
  format: string;
  metadata: TraceMetadata;
  rows: number;
  rows_by_kind: Record<string, number>;
  first_ts_ns: string | null;
  last_ts_ns: string | null;
  duration_s: number;
  processes: ProcessSummary[];
  threads: ThreadSummary[];
  top_syscalls: { nr: number; name: string; count: number }[];
  dropped: number;
  /** True when the file ended mid-recording (an IPC stream left by a killed gpo). */
  incomplete: boolean;
  /** A segmented trace: the parts read (and how many of them are journals of open parts), the limits it was
   * recorded with, and the oldest parts --max-size removed with their rows. */
  segments?: {
    parts: number;
    journals: number;
    rotate: { bytes?: number; seconds?: number };
    max_size_bytes?: number;
    removed: { segments: number; rows: number };
  };
}

export async function summarizeTrace(trace: TraceFile, topN = 15): Promise<TraceSummary> {
  const byKind = new Map<string, number>();
  const byNr = new Map<number, number>();
  const threads = new Map<number, ThreadSummary>();
  const processes = new Map<number, ProcessSummary>();
  let rows = 0;
  let first: bigint | null = null;
  let last: bigint | null = null;
  const columns = ['ts_ns', 'pid', 'tid', 'comm', 'kind', 'nr', 'path', 'exit_code', 'group_dead'];
  for await (const batch of trace.batches({ columns })) {
    const { ts, pid, tid, nr, isSyscall, kind, comm } = rowColumns(batch);
    const path = stringColumn(batch, 'path');
    const exitCode = numericColumn(batch, 'exit_code');
    const groupDead = numericColumn<Int16Array>(batch, 'group_dead');
    for (let i = 0; i < batch.numRows; i++) {
      const t = ts[i];
      if (first === null || t < first) first = t;
      if (last === null || t > last) last = t;
      let thread = threads.get(tid[i]);
      if (!thread) {
        thread = { tid: tid[i], pid: pid[i], comm: comm(i) ?? '', syscalls: 0 };
        threads.set(tid[i], thread);
      }
      let proc = processes.get(pid[i]);
      if (!proc) {
        proc = { pid: pid[i], comm: comm(i) ?? '', exe: null, threads: 0, syscalls: 0, exit_code: null };
        processes.set(pid[i], proc);
      }
      if (isSyscall(i)) {
        byNr.set(nr[i], (byNr.get(nr[i]) ?? 0) + 1);
        thread.syscalls++;
        proc.syscalls++;
        continue;
      }
      const k = kind(i) ?? '';
      byKind.set(k, (byKind.get(k) ?? 0) + 1);
      if (k === 'exec') {
        proc.exe = path(i);
        proc.comm = comm(i) ?? proc.comm;
        thread.comm = proc.comm;
      } else if (k === 'rename') {
        thread.comm = comm(i) ?? thread.comm;
      } else if (k === 'exit' && groupDead[i]) {
        proc.exit_code = exitCode[i];
      }
    }
    rows += batch.numRows;
  }
  const syscallRows = [...byNr.values()].reduce((a, b) => a + b, 0);
  if (syscallRows > 0) byKind.set('syscall', syscallRows);
  for (const t of threads.values()) processes.get(t.pid)!.threads++;
  const meta = trace.metadata;
  return {
    path: trace.path,
    recording: await recordingOf(trace),
    format: trace.format,
    metadata: meta,
    rows,
    rows_by_kind: Object.fromEntries([...byKind].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    first_ts_ns: first?.toString() ?? null,
    last_ts_ns: last?.toString() ?? null,
    duration_s: first !== null && last !== null ? Number(last - first) / 1e9 : 0,
    processes: [...processes.values()].sort((a, b) => a.pid - b.pid),
    threads: [...threads.values()].sort((a, b) => a.pid - b.pid || a.tid - b.tid),
    top_syscalls: [...byNr]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, topN)
      .map(([n, count]) => ({ nr: n, name: syscallName(n), count })),
    dropped: totalDropped(meta),
    incomplete: meta.status !== 'complete',
    ...(trace.parts && {
      segments: {
        parts: trace.parts.parquet + trace.parts.journals,
        journals: trace.parts.journals,
        rotate: meta.segment?.rotate ?? {},
        ...(meta.segment?.max_size_bytes !== undefined && { max_size_bytes: meta.segment.max_size_bytes }),
        removed: meta.segment?.dropped ?? { segments: 0, rows: 0 },
      },
    }),
  };
}
