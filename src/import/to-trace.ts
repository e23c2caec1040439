// gpo import: turns dataset sequences (adfa-ld, unm, strace) into a gpo trace, so train and score run on
// traces nobody here recorded. Each source sequence becomes its own process with one thread; calls keep
// their strace timestamps, or get synthetic ones 1 ms apart (so 1 s rate windows hold 1000 calls).
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { GPO_VERSION } from '../version.js';
import { BATCH_ROWS, TRACE_SCHEMA_VERSION } from '../trace/schema.js';
import type { TraceMetadata } from '../trace/metadata.js';
import { writeParquet } from '../trace/writer.js';
import { prepareOutput, utcDate } from '../trace/output-path.js';
import { uuidFromSha256 } from '../trace/recording.js';
import { listSequenceFiles, parseSequences, readInput, STDIN } from './load.js';
import type { ImportedSequence } from './sequence.js';
import { syscallBatch } from './trace-batches.js';

/** Process and thread id of the first imported sequence when the source has no pids; sequence i gets FIRST_PID + i. */
export const FIRST_PID = 1000;
const SYNTHETIC_START_NS = 1_000_000_000n;
const SYNTHETIC_STEP_NS = 1_000_000n;

/** Where imported rows came from, as the user says (the files do not tell). */
export interface ImportLabels {
  /** The machine the sequences were recorded on. */
  host?: string;
  /** The build id of the program they are of. */
  buildId?: string;
}

/** Metadata of a trace that was not recorded: no clock, nothing that changes between runs (the recording
 * id, when given, is derived from the inputs). */
export function importMetadata(
  format: string,
  inputs: string[],
  facts: { pid: number; comm: string; rows: number; firstNs?: bigint; lastNs?: bigint; recordingId?: string; durations?: boolean } & ImportLabels,
): TraceMetadata {
  const wall = (ns: bigint | undefined) => (ns === undefined ? null : new Date(Number(ns / 1_000_000n)).toISOString());
  return {
    gpo_version: GPO_VERSION,
    schema_version: TRACE_SCHEMA_VERSION,
    ...(facts.recordingId === undefined ? {} : { recording_id: facts.recordingId }),
    target: { pid: facts.pid, comm: facts.comm, exe: '', cmdline: [], exe_sha256: null, build_id: facts.buildId ?? null, mode: 'import', loader_env: {} },
    host: { hostname: facts.host ?? '', kernel_release: '', boot_id: '' },
    clock: {
      wall_offset_ns: '0',
      start_wall: wall(facts.firstNs) ?? '',
      end_wall: wall(facts.lastNs),
      start_ns: (facts.firstNs ?? 0n).toString(),
      end_ns: facts.lastNs === undefined ? null : facts.lastNs.toString(),
    },
    hooks: {},
    options: { follow_children: false, durations: facts.durations ?? false, ring_buffer_bytes: 0 },
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

/** Rows of all sequences: by timestamp when the source has them (ties by sequence), else one after another.
 * `pids[i]` is sequence i's process and thread id. */
function* importBatches(sequences: readonly ImportedSequence[], pids: readonly number[]): Generator<RecordBatch> {
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
  const withRets = sequences.some((s) => s.rets !== undefined);
  const withDurations = sequences.some((s) => s.durations_ns !== undefined);
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
    const seqs = new Int32Array(n);
    const ret = new BigInt64Array(n);
    const retKnown = new Uint8Array(n).fill(withRets ? 0 : 1);
    const duration = new BigInt64Array(n);
    const durationKnown = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const r = order[start + i]!;
      const sequence = sequences[seqOf[r]!]!;
      const call = callOf[r]!;
      ts[i] = timed ? sequence.ts_ns![call]! : SYNTHETIC_START_NS + BigInt(start + i) * SYNTHETIC_STEP_NS;
      seqs[i] = seqOf[r]!;
      ids[i] = pids[seqOf[r]!]!;
      nrs[i] = sequence.syscalls[call]!;
      const value = withRets ? (sequence.rets?.[call] ?? null) : 0n;
      if (value !== null) [ret[i], retKnown[i]] = [value, 1];
      const took = sequence.durations_ns?.[call] ?? null;
      if (took !== null) [duration[i], durationKnown[i]] = [took, 1];
    }
    yield syscallBatch({
      ts_ns: ts,
      pid: ids,
      tid: ids,
      nr: nrs,
      comm: (i) => comms[seqs[i]!]!,
      ret,
      retKnown,
      ...(withDurations ? { duration_ns: duration, durationKnown } : {}),
    });
  }
}

/** The source's own pids when it has them and they are unique in this import; otherwise FIRST_PID + i for
 * every sequence (two files of one import may both hold a pid 4242), which the result reports. */
function assignPids(sequences: readonly ImportedSequence[]): { pids: number[]; renumbered: boolean } {
  const own = sequences.map((s) => s.pid);
  const unique = own.every((p) => p !== undefined) && new Set(own).size === own.length;
  return unique ? { pids: own as number[], renumbered: false } : { pids: sequences.map((_, i) => FIRST_PID + i), renumbered: own.some((p) => p !== undefined) };
}

export interface ImportResult {
  sequences: number;
  rows: number;
  output: string;
  recording_id: string;
  /** One line each: what the user should know (pids renumbered). */
  warnings: string[];
}

/** The same inputs (names and contents) and labels always give the same id; different ones (almost surely) a different id. */
function importRecordingId(format: string, files: readonly string[], texts: readonly string[], labels: ImportLabels): string {
  // The input names count too: two dataset files with the same calls are still two recordings.
  const hash = createHash('sha256').update(JSON.stringify([format, labels.host ?? '', labels.buildId ?? '', files]));
  for (const text of texts) hash.update(text).update('\0');
  return uuidFromSha256(hash.digest('hex'));
}

/** Imports every sequence of the given files and directories into one Parquet trace; `output` may be an
 * -o template ({host}, {date}: the first call's UTC date, or today's when the source has no times, ...). */
export async function importToTrace(format: string, inputs: readonly string[], output: string, labels: ImportLabels = {}): Promise<ImportResult> {
  const files = inputs.flatMap(listSequenceFiles);
  const texts = files.map(readInput);
  const sequences = files.flatMap((file, i) => parseSequences(format, texts[i]!, file === STDIN ? 'stdin' : file)).filter((s) => s.syscalls.length > 0);
  const { pids, renumbered } = assignPids(sequences);
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
  const sourceStart = firstNs;
  if (firstNs === undefined && rows > 0) {
    firstNs = SYNTHETIC_START_NS;
    lastNs = SYNTHETIC_START_NS + BigInt(rows - 1) * SYNTHETIC_STEP_NS;
  }
  const recordingId = importRecordingId(format, files, texts, labels);
  const pid = pids[0] ?? 0;
  const comm = sequences.length > 0 ? commOf(sequences[0]!) : '?';
  const durations = sequences.some((s) => s.durations_ns !== undefined);
  const metadata = importMetadata(format, files, { pid, comm, rows, firstNs, lastNs, recordingId, durations, ...labels });
  output = prepareOutput(output, {
    host: labels.host ?? '',
    date: utcDate(sourceStart === undefined ? new Date() : new Date(Number(sourceStart / 1_000_000n))),
    recording_id: recordingId,
    comm,
    pid,
  });
  await writeParquet(importBatches(sequences, pids), output, metadata);
  const warnings = renumbered ? ['process ids repeat across the inputs: every sequence was renumbered from 1000'] : [];
  return { sequences: sequences.length, rows, output, recording_id: recordingId, warnings };
}
