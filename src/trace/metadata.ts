// gpo's metadata document, stored as JSON under one key of the Parquet (and Arrow IPC) key-value metadata.
import { GpoError } from '../errors.js';
import { firstRangeProblem, TRACE_METADATA_RANGES } from './ranges.js';
import { TRACE_SCHEMA_VERSION } from './schema.js';

export const METADATA_KEY = 'gpo';

export interface TargetInfo {
  pid: number;
  comm: string;
  exe: string;
  cmdline: string[];
  /** sha256 of the executable file, hex; the program's identity across recordings. */
  exe_sha256: string | null;
  /** GNU build-id of the executable, hex, when it has one. */
  build_id: string | null;
  /** How recording started: 'launch' (gpo record -- CMD) or 'attach' (--pid). */
  mode: 'launch' | 'attach' | 'import';
  /** LD_PRELOAD, LD_AUDIT, LD_LIBRARY_PATH of the target at start, when known. */
  loader_env: Record<string, string>;
  /** /etc/ld.so.preload at record start (src/capture/preload-file.ts); absent in older and imported traces. */
  preload_file?: PreloadFile;
  /** Attached (--pid) recordings: descriptors of the target's memory other processes held at attach
   * (src/capture/memory-holders.ts); reads and writes through them leave no row. */
  memory_holders?: MemoryHolder[];
}

/** The file the dynamic loader preloads libraries from (besides LD_PRELOAD). */
export const PRELOAD_FILE_PATH = '/etc/ld.so.preload';

/** The loader's preload file as gpo found it (strings: lossless text form). */
export interface PreloadFile {
  path: string;
  exists: boolean;
  /** Where it points when it is a symbolic link (the loader follows it). */
  link: string | null;
  /** The text read (null: nothing read), and the libraries the loader takes from it. */
  contents: string | null;
  entries: string[];
  /** Why it was not (fully) read: 'not a regular file', an error. */
  problem: string | null;
}

/** A descriptor naming /proc/TARGET/{mem,pagemap,map_files} in another process (strings: lossless text form). */
export interface MemoryHolder {
  pid: number;
  comm: string;
  exe: string;
  fd: number;
  path: string;
  /** Opened for writing. */
  write: boolean;
}

/** What makes two recordings recordings of the same program. */
export interface ProgramIdentity {
  exe: string;
  build_id: string | null;
  exe_sha256: string | null;
}

export function programOf(target: TargetInfo): ProgramIdentity {
  return { exe: target.exe, build_id: target.build_id, exe_sha256: target.exe_sha256 };
}

/** How two programs differ: exe path, and build-id and sha256 where both are known; empty for the same program. */
export function programDifferences(a: ProgramIdentity, b: ProgramIdentity): string[] {
  const differences: string[] = [];
  if (a.exe !== b.exe) differences.push(`exe ${a.exe || '(imported)'} vs ${b.exe || '(imported)'}`);
  if (a.build_id && b.build_id && a.build_id !== b.build_id) differences.push(`build-id ${a.build_id} vs ${b.build_id}`);
  if (a.exe_sha256 && b.exe_sha256 && a.exe_sha256 !== b.exe_sha256) differences.push(`sha256 ${a.exe_sha256.slice(0, 12)} vs ${b.exe_sha256.slice(0, 12)}`);
  return differences;
}

export interface HostInfo {
  hostname: string;
  kernel_release: string;
  boot_id: string;
  /** /etc/machine-id when readable: stays the same across boots and hostname changes. */
  machine_id?: string;
}

/** What the metadata counts rows and losses of: syscall records, the other (lifecycle and act) records, rows a
 * failed write lost, and records the recorder could not decode. */
export type CountSource = 'syscall' | 'lifecycle' | 'not_written' | 'rejected';

export interface SourceCounts {
  rows: number;
  dropped: number;
}

export interface TraceMetadata {
  gpo_version: string;
  schema_version: number;
  /** A UUID v4 drawn when recording starts (traces written before it existed have none: see recording.ts). */
  recording_id?: string;
  target: TargetInfo;
  host: HostInfo;
  clock: {
    /** Wall time (ns since the epoch) = ts_ns + wall_offset_ns. */
    wall_offset_ns: string;
    start_wall: string;
    end_wall: string | null;
    start_ns: string;
    end_ns: string | null;
  };
  /** Hook serving each signal, e.g. { syscalls: 'tp_btf/sys_exit' }. */
  hooks: Record<string, string>;
  /** Signals no hook can serve on the recording's kernel, with why (absent in traces from before 0.1). */
  hooks_unavailable?: Record<string, string>;
  options: { follow_children: boolean; durations: boolean; syscalls_only?: boolean; ring_buffer_bytes: number };
  /** Library functions watched with uprobes (path:function), and those that could not be. */
  libcalls?: { attached: string[]; failed: string[] };
  /** Rows written and records lost per source; `not_written`: rows lost to a failed write (disk full);
   * `rejected`: records too short or of an unknown type or kind for the recorder's decoder (only when any). */
  counts: Partial<Record<CountSource, SourceCounts>>;
  /** Lost syscall records by syscall number. */
  syscalls_dropped_by_nr: Record<string, number>;
  /** Strings cut to fit their record (act_path: the path column of act rows, loader values included);
   * exec_env: exec environments not read to their end for loader variables (each is a loader_env row). */
  truncated: { exec_path: number; exec_argv: number; act_path?: number; exec_env?: number };
  /** gpo's own CPU time while recording (its consumer thread, JavaScript, and the Parquet encoding done
   * meanwhile), and rows per CPU second. What is left to encode after the target stopped is not counted. */
  recorder?: { cpu_s: number; rows_per_cpu_s: number | null };
  /** 'complete' once the recording closed normally; 'failed' when it stopped on an error (the stream
   * ends with the final counters); an IPC stream left by a crash says 'recording'. */
  status: 'recording' | 'complete' | 'failed';
  /** The strongest signal gpo sent the target it launched to end it ('SIGKILL': it ignored SIGTERM). */
  target_signal?: 'SIGTERM' | 'SIGKILL';
  /** Every process of the tree gpo launched that gpo ended when recording stopped (src/capture/launched-tree.ts),
   * and those still there after SIGKILL. Never set when attached. */
  ended?: EndedProcess[];
  not_ended?: number[];
  /** Launched: the cgroup whose guardian ends the tree should gpo itself be killed (src/capture/tree-cgroup.ts),
   * or why there is none (then the tree is ended only while gpo lives). Never set when attached. */
  tree_guard?: { cgroup: string | null; problem: string | null };
  /** Why recording stopped: 'target-exited', 'duration', 'SIGINT', 'SIGTERM'. */
  stop_reason: string | null;
  /** A part of a segmented trace (gpo record --rotate/--max-size, src/trace/segment-layout.ts): each part
   * carries the recording's metadata as it was when the part closed, and this. */
  segment?: SegmentInfo;
  /** Where the rows came from when they were imported rather than recorded. */
  source?: { format: string; inputs: string[] };
}

/** A process gpo ended (comm in the trace's lossless text form), with the strongest signal it needed. */
export interface EndedProcess {
  pid: number;
  comm: string;
  signal: 'SIGTERM' | 'SIGKILL';
}

export interface SegmentInfo {
  index: number;
  /** Rows the recording had written before this part (those of dropped parts included). */
  first_row: number;
  /** When a part is closed: its journal reaches `bytes`, or it has been open `seconds`. */
  rotate: { bytes?: number; seconds?: number };
  /** --max-size: the closed parts kept take at most this many bytes. */
  max_size_bytes?: number;
  /** The oldest parts removed to stay under max_size_bytes (when this part closed), and their rows. */
  dropped: { segments: number; rows: number };
}

/** Parses and checks the metadata document of a trace file. */
export function parseMetadata(text: string | undefined, path: string): TraceMetadata {
  if (text === undefined) throw new GpoError(`${path}: not a gpo trace (no gpo metadata)`);
  let doc: TraceMetadata;
  try {
    doc = JSON.parse(text) as TraceMetadata;
  } catch {
    throw new GpoError(`${path}: corrupt gpo metadata`);
  }
  if (typeof doc !== 'object' || doc === null || typeof doc.schema_version !== 'number') throw new GpoError(`${path}: corrupt gpo metadata`);
  if (doc.schema_version > TRACE_SCHEMA_VERSION)
    throw new GpoError(`${path}: trace schema version ${doc.schema_version} is newer than this gpo (${TRACE_SCHEMA_VERSION})`);
  const problem = firstRangeProblem(doc, TRACE_METADATA_RANGES) ?? firstShapeProblem(doc);
  if (problem) throw new GpoError(`${path}: corrupt gpo metadata: ${problem}`);
  return doc;
}

/** The fields readers use as strings, lists and maps, checked before they are used. */
function firstShapeProblem(doc: TraceMetadata): string | null {
  const t = doc.target as unknown as Record<string, unknown> | undefined;
  const isStrings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  const isStringMap = (v: unknown) => typeof v === 'object' && v !== null && Object.values(v).every((s) => typeof s === 'string');
  if (typeof t !== 'object' || t === null) return 'target is missing';
  for (const key of ['comm', 'exe'] as const) if (typeof t[key] !== 'string') return `target.${key} is ${JSON.stringify(t[key] ?? null)}, expected a string`;
  if (!isStrings(t.cmdline)) return 'target.cmdline is not a list of strings';
  if (!isStringMap(t.loader_env)) return 'target.loader_env is not a map of strings';
  const isHolder = (h: Record<string, unknown>) =>
    typeof h === 'object' &&
    h !== null &&
    Number.isInteger(h.pid) &&
    Number.isInteger(h.fd) &&
    typeof h.comm === 'string' &&
    typeof h.exe === 'string' &&
    typeof h.path === 'string' &&
    typeof h.write === 'boolean';
  const p = t.preload_file as Record<string, unknown> | undefined;
  const isText = (v: unknown) => v === null || typeof v === 'string';
  if (
    p !== undefined &&
    !(
      typeof p === 'object' &&
      p !== null &&
      typeof p.path === 'string' &&
      typeof p.exists === 'boolean' &&
      isText(p.link) &&
      isText(p.contents) &&
      isText(p.problem) &&
      isStrings(p.entries)
    )
  )
    return 'target.preload_file is not a preload file';
  if (t.memory_holders !== undefined && !(Array.isArray(t.memory_holders) && t.memory_holders.every(isHolder)))
    return 'target.memory_holders is not a list of holders';
  if (!isStringMap(doc.hooks)) return 'hooks is not a map of strings';
  if (!['recording', 'complete', 'failed'].includes(doc.status)) return `status is ${JSON.stringify(doc.status ?? null)}`;
  if (typeof doc.counts !== 'object' || doc.counts === null) return 'counts is missing';
  if (typeof doc.truncated !== 'object' || doc.truncated === null) return 'truncated is missing';
  return null;
}

/** Strings cut to fit their record. */
export function totalTruncated(meta: TraceMetadata): number {
  const t = meta.truncated;
  return t.exec_path + t.exec_argv + (t.act_path ?? 0) + (t.exec_env ?? 0);
}

/** Total records lost across sources. */
export function totalDropped(meta: TraceMetadata): number {
  return Object.values(meta.counts).reduce((sum, c) => sum + (c?.dropped ?? 0), 0);
}
