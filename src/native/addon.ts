// The one typed entry point to the C++ addon (build/Release/gpo_native.node, built by scripts/build.sh).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GpoError } from '../errors.js';

/** What loading and attaching one program of bpf/probe.bpf.c did on this kernel. */
export interface HookProbeResult {
  program: string;
  section: string;
  loaded: boolean;
  attached: boolean;
  /** strerror text of the step that failed, null if none did. */
  error: string | null;
  /** errno name of the step that failed ("EPERM"), null if none did. */
  errno: string | null;
  /** libbpf's first warning about the failure; for the uprobe, the file+offset it attached to. */
  detail: string | null;
}

/** A batch the addon has appended to the recording stream (see native/recorder-consumer.cc). */
export interface NativeBatchWritten {
  rows: number;
  bytes: number;
  /** The stream the batch was appended to (start's fd, or the last redirect's). */
  fd: number;
  /** Processes started (fork rows) and ended (exit rows of a whole thread group) in the batch. */
  forked: number[];
  exited: number[];
  /** Why the write failed (nothing more is written after that). */
  error?: string;
}

/** A row for writeRecordingBatch: `kind` is a ROW_KINDS code; rare rows carry fields named as the
 * trace's columns. Strings may be Buffers (bytes that need not be UTF-8). */
export interface NativeTestRow {
  ts: bigint;
  pid: number;
  tid: number;
  comm: string | Buffer;
  kind: number;
  nr: number;
  ret: bigint;
  duration?: bigint;
  fields?: Record<string, number | bigint | string | Buffer | (string | Buffer)[]>;
}

/** A row as the recorder's decoder makes it (decodeRecords): a writeRecordingBatch row whose strings are
 * the bytes the kernel gave and whose int64 values are bigints. */
export type NativeDecodedRow = NativeTestRow & {
  comm: Buffer;
  fields?: {
    child_pid?: number;
    child_tid?: number;
    exit_code?: number;
    group_dead?: number;
    truncated?: number;
    uid?: number;
    target_pid?: number;
    target_tid?: number;
    request?: bigint;
    addr?: bigint;
    size?: bigint;
    dev?: bigint;
    inode?: bigint;
    offset?: bigint;
    path?: Buffer;
    exe?: Buffer;
    func?: Buffer;
    argv?: Buffer[];
  };
};

export interface NativeDecodeOptions {
  /** Syscall records carry their duration (struct gpo_syscall_timed). */
  durations?: boolean;
  /** The recording's base time: records' timestamps are relative to it (default 0). */
  baseNs?: bigint;
  /** Library-call names by uprobe cookie, as attachLibcall would have added them. */
  libcalls?: string[];
  /** The name of a thread no record named (the recorder reads /proc); "?" without it. */
  threadName?: (tgid: number, tid: number) => string | Buffer;
}

export interface NativeDecoded {
  rows: NativeDecodedRow[];
  totals: { rows: number; syscallRows: number; lifecycleRows: number; batchesRead: number; recordsRejected: number };
}

/** A field node of a record batch with its buffers, in the Arrow IPC format's order. */
export interface NativeIpcNode {
  length: number;
  nullCount: number;
  buffers: ArrayBufferView[];
}

/** A column of a Parquet file the addon writes (native/parquet-writer.cc). */
export interface NativeParquetColumn {
  name: string;
  kind: 'int64' | 'int32' | 'int16' | 'utf8' | 'list<utf8>';
  nullable: boolean;
  encoding: 'plain' | 'dictionary' | 'delta';
}

/** One Arrow array's buffers as apache-arrow holds them: the validity bitmap is indexed from bitOffset + row
 * (absent: no nulls), values and offsets from row. */
export interface NativeArrowArray {
  bitOffset: number;
  validity?: Uint8Array;
  values?: ArrayBufferView;
  offsets?: Int32Array;
}

/** Rows [from, from + count) of an array; child: the strings of a list<utf8>. */
export interface NativeArrowSlice extends NativeArrowArray {
  from: number;
  count: number;
  child?: NativeArrowArray;
}

export interface NativeParquetWriter {
  /** Encodes a row group (slices[c]: column c's arrays, adding up to `rows`); returns the file's next bytes. */
  rowGroup(rows: number, slices: NativeArrowSlice[][]): Uint8Array;
  /** The footer: the file's last bytes. */
  finish(keyValueMetadata: [string, string][], createdBy: string): Uint8Array;
}

/** A journal encoded to Parquet by the addon alone (native/journal-parquet.cc). */
export interface NativeJournalParquet {
  /** Reads the journal's messages complete up to byte `upTo` (a chunk at most); returns the file's bytes of
   * the row groups they completed (often none). */
  pump(upTo: number): Uint8Array;
  /** The last row group (if rows wait) and the footer: the file's last bytes. */
  finish(keyValueMetadata: [string, string][], createdBy: string): Uint8Array;
  /** Where the next unread message of the journal starts. */
  readonly offset: number;
  /** Rows read so far. */
  readonly rows: number;
}

export interface NativeCounters {
  syscallsDropped: number;
  eventsDropped: number;
  pathTruncated: number;
  argvTruncated: number;
  batchesWritten: number;
  nameTruncated: number;
  /** Exec environments not read to their end (loader variables). */
  envUnscanned: number;
}

export interface NativeFinalStats extends NativeCounters {
  syscallsDroppedByNr: Record<string, number>;
  rows: number;
  syscallRows: number;
  lifecycleRows: number;
  batchesRead: number;
  /** Records the decoder could not take (too short, unknown type or kind): none from a sound BPF object. */
  recordsRejected: number;
}

export interface NativeRecorderOptions {
  ringBufferBytes: number;
  followChildren: boolean;
  durations: boolean;
  /** Rows for tampering, system-wide events and in-target memory (off: syscalls and lifecycle only). */
  observeActs: boolean;
  batchRows: number;
  /** Longest wait before a partial batch is written and reported (default 200 ms). */
  deliveryMs?: number;
  /** The same for a batch holding a row that is not a syscall (default: deliveryMs). */
  eventDeliveryMs?: number;
  /** Nice value of the consumer thread alone (default 0: unchanged); best effort, needs CAP_SYS_NICE. */
  consumerNice?: number;
  verbose: boolean;
  /** Load on a thread of libuv's pool: the constructor returns at once, ready() settles when loaded. */
  background?: boolean;
}

export interface NativeRecorder {
  /** Resolves once the programs are loaded; rejects with the error the constructor throws when not in the
   * background. Other methods throw while a background load runs. */
  ready(): Promise<void>;
  /** Follow this process from now on (its threads, and its children unless followChildren is off). */
  track(tgid: number): void;
  /** Rows of this process are ignored until it execs (the launcher of `gpo record -- CMD`). */
  setLauncher(tgid: number): void;
  /** Attaches the programs; batches are appended to fd (an Arrow IPC stream with its schema message
   * written) and reported on onBatch, and onDone is called once after stop() drained everything. */
  start(fd: number, onBatch: (batch: NativeBatchWritten) => void, onDone: (stats: NativeFinalStats) => void): void;
  /** Appends the batches after the current one to fd instead (a new stream, its schema message written):
   * how a recording rotates its journal. */
  redirect(fd: number): void;
  stop(): void;
  counters(): NativeCounters;
  /** Frees the ring buffer and the programs (after onDone). */
  close(): void;
  /** A uprobe on one library function (by file offset); returns an error message on failure. */
  attachLibcall(libraryPath: string, offset: number, name: string, stringArg: number): string | undefined;
  /** Per signal, the hook that serves it on this kernel (null when none can, with why). */
  hooks(): RecorderHook[];
  /** Attaches every loaded program and detaches it at once; the error with libbpf's reason, if any. */
  attachCheck(): string | undefined;
}

/** One row of the recorder's hook table (native/recorder-hooks.cc) as chosen for the running kernel. */
export interface RecorderHook {
  signal: string;
  hook: string | null;
  unavailable: string | null;
}

export interface NativeAddon {
  Recorder: new (options: NativeRecorderOptions) => NativeRecorder;
  /** Sizes of the records shared with the BPF programs (bpf/gpo.h), for the layout test. */
  layout: {
    syscallRecord: number;
    syscallTimedRecord: number;
    batchHeader: number;
    eventHeader: number;
    forkEvent: number;
    execEvent: number;
    exitEvent: number;
    renameEvent: number;
    actEvent: number;
    pidLimit: number;
  };
  /** Names of the row kind codes the addon produces, in code order (a prefix of ROW_KINDS). */
  rowKinds: string[];

  /** Encodes one Arrow IPC record batch message into out from byte `at`; returns its end, or the end it
   * would need (beyond out's length) without writing. metadata becomes the message's custom metadata. */
  encodeRecordBatch(out: Uint8Array, at: number, rows: number, nodes: NativeIpcNode[], metadata?: Record<string, string>): number;

  /** A Parquet file writer (zstd pages; statistics unless `statistics` is false). */
  ParquetWriter: new (columns: NativeParquetColumn[], statistics?: boolean) => NativeParquetWriter;
  /** A journal's Parquet file (row groups of `rowGroupRows` rows), read from `journalFd` as it grows. */
  JournalParquet: new (journalFd: number, columns: NativeParquetColumn[], statistics: boolean, rowGroupRows: number) => NativeJournalParquet;

  /** Appends rows to an Arrow IPC stream exactly as the recorder encodes its batches (for unit tests);
   * returns the bytes written. */
  writeRecordingBatch(fd: number, rows: NativeTestRow[], durations: boolean): number;

  /** Decodes ring-buffer records (one Uint8Array per record, laid out as bpf/gpo.h's structs) exactly as the
   * recorder does, into one batch; no BPF, no root. Throws if the batch's columns disagree. */
  decodeRecords(records: Uint8Array[], options?: NativeDecodeOptions): NativeDecoded;
  /** Makes this process the child subreaper of its descendants (PR_SET_CHILD_SUBREAPER): orphans below it
   * are reparented to it, not to init. Returns the kernel's refusal, if any. */
  becomeChildSubreaper(): string | undefined;
  /** Sends signal (a number) to pid through a pidfd if it is still the process that started at startTicks
   * (field 22 of /proc/PID/stat): 'sent', 'gone' (exited, or its pid reused), or the error's text. */
  signalProcess(pid: number, startTicks: string, signal: number): string;
  /** Reaps pid if it is an exited child of this process (waitpid WNOHANG): true when it did. */
  reapChild(pid: number): boolean;

  /** Loads and attaches each probe program alone, then detaches it. libbpf logs go to stderr only if verbose. */
  probeHooks(options?: { verbose?: boolean }): HookProbeResult[];
}

/** The package root: the nearest directory above this module with a package.json (works from src/ and dist/src/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new GpoError('cannot find the gpo package root');
    dir = parent;
  }
  return dir;
}

let addon: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (!addon) {
    const path = join(packageRoot(), 'build', 'Release', 'gpo_native.node');
    if (!existsSync(path)) throw new GpoError(`native addon not built (${path} missing): run npm run build`);
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  }
  return addon;
}
