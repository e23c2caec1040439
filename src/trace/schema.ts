// The trace schema: one row per event, sparse typed columns. Core columns (ts_ns, pid, tid, comm, kind,
// nr, ret) are a contract other tools rely on; bump TRACE_SCHEMA_VERSION when any column changes meaning.
import { Field, Int16, Int32, Int64, List, Schema, Utf8 } from 'apache-arrow';

export { BATCH_ROWS } from './batch-rows.js';

export const TRACE_SCHEMA_VERSION = 1;

/** Values of the `kind` column written by the recorder. */
/** Lifecycle of the target's processes and threads. */
export const LIFECYCLE_KINDS = ['fork', 'thread', 'exec', 'exit', 'rename'] as const;
/**
 * Acts of other processes toward the target, then system-wide acts while recording; pid/tid/comm are the
 * actor's.
 */
export const ACT_KINDS = ['ptrace', 'vm_read', 'vm_write', 'proc_open', 'signal', 'pidfd', 'perf_open', 'module_load', 'bpf_load', 'device_open'] as const;
/** Code loading and injection signs inside the target (loader_env: a loader variable at an exec). */
export const IN_TARGET_KINDS = ['mmap_exec', 'exec_memory', 'memfd_create', 'io_uring_setup', 'libcall', 'loader_env'] as const;
/** Every row kind, in the order of the C enum (bpf/gpo.h; test/record-layout.test.ts holds them together). */
export const ROW_KINDS = ['syscall', ...LIFECYCLE_KINDS, ...ACT_KINDS, ...IN_TARGET_KINDS] as const;
export type RowKind = (typeof ROW_KINDS)[number];

export const COLUMNS = {
  ts_ns: 'kernel monotonic time in ns (CLOCK_MONOTONIC); wall time = ts_ns + metadata clock.wall_offset_ns',
  pid: 'thread group id (the process) of the thread the row is about',
  tid: 'thread id',
  comm: 'thread name at the time of the row',
  kind: 'row kind: ' + ROW_KINDS.join(', '),
  nr: 'x86_64 syscall number; set on syscall rows only',
  ret: 'return value of the syscall (syscall rows) or of the act (act rows); negative errno on failure',
  duration_ns: 'time from syscall entry to exit (only when recorded with --durations)',
  child_pid: 'fork/thread: the new process (tgid) / the thread group of the new thread',
  child_tid: 'fork/thread: the new thread id',
  exit_code: 'exit: the wait status code the thread exited with (exit status << 8 | signal)',
  group_dead: 'exit: 1 when this was the last thread of its process',
  path: "exec: the executed file; proc_open/device_open/mmap_exec: the file; memfd_create: its name; libcall: the argument; loader_env: the variable's value",
  argv: 'exec: the argument vector',
  truncated:
    'exec: 1 when path or argv was cut to fit the record; act rows: 1 when path was; loader_env: 1 when the value was, or (no variable) when the environment was not read to its end',
  uid: 'actor rows: the real uid of the acting process',
  exe: 'actor rows: the executable of the acting process (" (deleted)" after one with no name left); loader_env: the program exec\'d',
  target_pid: 'actor rows: the process (tgid) of the target thread named (global pid)',
  target_tid: 'actor rows: the target thread named (global tid)',
  request: 'ptrace request, signal number, open flags, bpf program type, mmap/mprotect prot',
  addr: "ptrace address, start of a mapping or protection change; signal: the kernel's delivery result (0 delivered, 1 ignored, 2 already pending, 3 queue full, 4 info lost)",
  size: 'bytes asked (process_vm_*), length of a mapping',
  dev: 'mmap_exec: device of the mapped file',
  inode: 'mmap_exec: inode of the mapped file',
  offset: 'mmap_exec: offset of the mapping in the file',
  func: 'libcall: library and function, "libc.so.6:dlopen"; loader_env: the variable (LD_PRELOAD, LD_AUDIT, LD_LIBRARY_PATH; null: the environment was not read to its end)',
} as const;
export type ColumnName = keyof typeof COLUMNS;

/** Columns every row has a value for (duration_ns only with --durations). */
export const CORE_COLUMNS = ['ts_ns', 'pid', 'tid', 'comm', 'kind', 'nr', 'ret', 'duration_ns'] as const;

export const traceSchema = new Schema([
  new Field('ts_ns', new Int64(), false),
  new Field('pid', new Int32(), false),
  new Field('tid', new Int32(), false),
  new Field('comm', new Utf8(), false),
  new Field('kind', new Utf8(), false),
  new Field('nr', new Int16(), true),
  new Field('ret', new Int64(), true),
  new Field('duration_ns', new Int64(), true),
  new Field('child_pid', new Int32(), true),
  new Field('child_tid', new Int32(), true),
  new Field('exit_code', new Int32(), true),
  new Field('group_dead', new Int16(), true),
  new Field('path', new Utf8(), true),
  new Field('argv', new List(new Field('item', new Utf8(), true)), true),
  new Field('truncated', new Int16(), true),
  new Field('uid', new Int32(), true),
  new Field('exe', new Utf8(), true),
  new Field('target_pid', new Int32(), true),
  new Field('target_tid', new Int32(), true),
  new Field('request', new Int64(), true),
  new Field('addr', new Int64(), true),
  new Field('size', new Int64(), true),
  new Field('dev', new Int64(), true),
  new Field('inode', new Int64(), true),
  new Field('offset', new Int64(), true),
  new Field('func', new Utf8(), true),
]);

/** The column of a recording's Arrow IPC stream that carries the other columns of its rare rows. */
export const EXTRA_COLUMN = 'extra';

/**
 * The Arrow IPC stream written while recording: the core columns, and `extra`, the other columns of the
 * rare rows (lifecycle, acts) as one JSON object each, null on syscall rows. Fifteen mostly-null columns
 * cost 90 bytes a row in IPC (Arrow sizes every buffer for every row); this keeps a syscall row near 50.
 * Readers expand it to traceSchema (src/trace/expand.ts); the Parquet file has traceSchema.
 */
export const recordingSchema = new Schema([
  ...traceSchema.fields.filter((f) => (CORE_COLUMNS as readonly string[]).includes(f.name)),
  new Field(EXTRA_COLUMN, new Utf8(), true),
]);
