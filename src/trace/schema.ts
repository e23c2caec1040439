// The trace schema: one row per event, sparse typed columns. Core columns (ts_ns, pid, tid, comm, kind,
// nr, ret) are a contract other tools rely on; bump TRACE_SCHEMA_VERSION when any column changes meaning.
import { Field, Int16, Int32, Int64, List, Schema, Utf8 } from 'apache-arrow';

export const TRACE_SCHEMA_VERSION = 1;

/** Values of the `kind` column written by the recorder. */
export const ROW_KINDS = ['syscall', 'fork', 'thread', 'exec', 'exit', 'rename'] as const;
export type RowKind = (typeof ROW_KINDS)[number];

export const COLUMNS = {
  ts_ns: 'kernel monotonic time in ns (CLOCK_MONOTONIC); wall time = ts_ns + metadata clock.wall_offset_ns',
  pid: 'thread group id (the process) of the thread the row is about',
  tid: 'thread id',
  comm: 'thread name at the time of the row',
  kind: 'row kind: ' + ROW_KINDS.join(', '),
  nr: 'x86_64 syscall number (syscall rows)',
  ret: 'syscall return value (syscall rows; negative errno on failure)',
  duration_ns: 'time from syscall entry to exit (only when recorded with --durations)',
  child_pid: 'fork/thread: the new process (tgid) / the thread group of the new thread',
  child_tid: 'fork/thread: the new thread id',
  exit_code: 'exit: the wait status code the thread exited with (exit status << 8 | signal)',
  group_dead: 'exit: 1 when this was the last thread of its process',
  path: 'exec: the executed file name as the kernel saw it',
  argv: 'exec: the argument vector',
  truncated: 'exec: 1 when path or argv was cut to fit the record',
} as const;
export type ColumnName = keyof typeof COLUMNS;

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
]);
