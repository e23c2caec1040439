// gpo import: turns dataset sequences (adfa-ld, unm, strace) into a gpo trace, so train and score run on
// traces nobody here recorded. Each source sequence becomes its own process with one thread; calls keep
// their strace timestamps, or get synthetic ones 1 ms apart (so 1 s rate windows hold 1000 calls).
import { basename } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { GPO_VERSION } from '../version.js';
import { BATCH_ROWS, TRACE_SCHEMA_VERSION } from '../trace/schema.js';
import type { TraceMetadata } from '../trace/metadata.js';
import { writeParquet } from '../trace/writer.js';
import { importSequences, listSequenceFiles } from './load.js';
import type { ImportedSequence } from './sequence.js';
import { syscallBatch } from './trace-batches.js';

/** Process and thread id of the first imported sequence; sequence i gets FIRST_PID + i. */
export const FIRST_PID = 1000;
const SYNTHETIC_START_NS = 1_000_000_000n;
const SYNTHETIC_STEP_NS = 1_000_000n;

/** Metadata of a trace that was not recorded: no host, no clock, nothing that changes between runs. */
export function importMetadata(format: string, inputs: string[], facts: { pid: number; comm: string; rows: number; firstNs?: bigint; lastNs?: bigint }): TraceMetadata {
  const wall = (ns: bigint | undefined) => (ns === undefined ? null : new Date(Number(ns / 1_000_000n)).toISOString());
  return {
    gpo_version: GPO_VERSION,
    schema_version: TRACE_SCHEMA_VERSION,
    target: { pid: facts.pid, comm: facts.comm, exe: '', cmdline: [], exe_sha256: null, build_id: null, mode: 'import', loader_env: {} },
    host: { hostname: '', kernel_release: '', boot_id: '' },
    clock: {
      wall_offset_ns: '0',
      start_wall: wall(facts.firstNs) ?? '',
      end_wall: wall(facts.lastNs),
      start_ns: (facts.firstNs ?? 0n).toString(),
      end_ns: facts.lastNs === undefined ? null : facts.lastNs.toString(),
    },
    hooks: {},
    options: { follow_children: false, durations: false, ring_buffer_bytes: 0 },
    counts: { syscall: { rows: facts.rows, dropped: 0 } },
    syscalls_dropped_by_nr: {},
    truncated: { exec_path: 0, exec_argv: 0 },
    status: 'complete',
    stop_reason: 'import',
    source: { format, inputs },
  };
}

/** Thread name of a sequence: its file's name, cut to the kernel's 15 characters. */
function commOf(sequence: ImportedSequence): string {
  return basename(sequence.source).slice(0, 15) || '?';
}

/** Rows of all sequences: by timestamp when the source has them (ties by sequence), else one after another. */
function* importBatches(sequences: readonly ImportedSequence[]): Generator<RecordBatch> {
  const comms = sequences.map((s) => new TextEncoder().encode(commOf(s)));
  const total = sequences.reduce((sum, s) => sum + s.syscalls.length, 0);
  const seqOf = new Int32Array(total);
  const callOf = new Int32Array(total);
  let row = 0;
  sequences.forEach((s, index) => {
    for (let call = 0; call < s.syscalls.length; call++, row++) {
      seqOf[row] = index;
      callOf[row] = call;
    }
  });
  const timed = sequences.length > 0 && sequences.every((s) => s.ts_ns !== undefined);
  let order = Int32Array.from({ length: total }, (_, i) => i);
  if (timed) {
    const tsOf = (i: number) => sequences[seqOf[i]!]!.ts_ns![callOf[i]!]!;
    order = order.sort((a, b) => {
      const ta = tsOf(a);
      const tb = tsOf(b);
      return ta < tb ? -1 : ta > tb ? 1 : a - b;
    });
  }
  for (let start = 0; start < total; start += BATCH_ROWS) {
    const n = Math.min(BATCH_ROWS, total - start);
    const ts = new BigInt64Array(n);
    const ids = new Int32Array(n);
    const nrs = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const r = order[start + i]!;
      const sequence = sequences[seqOf[r]!]!;
      ts[i] = timed ? sequence.ts_ns![callOf[r]!]! : SYNTHETIC_START_NS + BigInt(start + i) * SYNTHETIC_STEP_NS;
      ids[i] = FIRST_PID + seqOf[r]!;
      nrs[i] = sequence.syscalls[callOf[r]!]!;
    }
    yield syscallBatch({ ts_ns: ts, pid: ids, tid: ids, nr: nrs, comm: (i) => comms[ids[i]! - FIRST_PID]! });
  }
}

export interface ImportResult {
  sequences: number;
  rows: number;
  output: string;
}

/** Imports every sequence of the given files and directories into one Parquet trace. */
export async function importToTrace(format: string, inputs: readonly string[], output: string): Promise<ImportResult> {
  const files = inputs.flatMap(listSequenceFiles);
  const sequences = importSequences(format, files).filter((s) => s.syscalls.length > 0);
  const rows = sequences.reduce((sum, s) => sum + s.syscalls.length, 0);
  let firstNs: bigint | undefined;
  let lastNs: bigint | undefined;
  for (const s of sequences) {
    if (s.ts_ns === undefined || s.ts_ns.length === 0) continue;
    const a = s.ts_ns[0]!;
    const b = s.ts_ns[s.ts_ns.length - 1]!;
    if (firstNs === undefined || a < firstNs) firstNs = a;
    if (lastNs === undefined || b > lastNs) lastNs = b;
  }
  if (firstNs === undefined && rows > 0) {
    firstNs = SYNTHETIC_START_NS;
    lastNs = SYNTHETIC_START_NS + BigInt(rows - 1) * SYNTHETIC_STEP_NS;
  }
  const metadata = importMetadata(format, files, { pid: sequences.length > 0 ? FIRST_PID : 0, comm: sequences.length > 0 ? commOf(sequences[0]!) : '?', rows, firstNs, lastNs });
  await writeParquet(importBatches(sequences), output, metadata);
  return { sequences: sequences.length, rows, output };
}
