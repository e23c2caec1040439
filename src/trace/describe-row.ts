// One trace row as strace-like text: `write() = 12`, `ptrace(PTRACE_ATTACH, pid 1234) = 0`, `exec(...)`.
// The text holds strings from the traced world unescaped; printers escape it for their medium.
import type { RecordBatch } from 'apache-arrow';
import { syscallName } from './syscalls.js';
import { ADDRESS_RETURNING, bpfProgType, formatReturn, openFlags, perfType, protFlags, ptraceRequestName, signalName, waitStatus } from './linux-names.js';

/** A row with every non-null column; 64-bit columns as bigint. */
export interface TraceRow {
  ts_ns: bigint;
  pid: number;
  tid: number;
  comm: string;
  kind: string;
  nr?: number;
  ret?: bigint;
  duration_ns?: bigint;
  child_pid?: number;
  child_tid?: number;
  exit_code?: number;
  group_dead?: number;
  path?: string;
  argv?: string[];
  truncated?: number;
  uid?: number;
  exe?: string;
  target_pid?: number;
  target_tid?: number;
  request?: bigint;
  addr?: bigint;
  size?: bigint;
  dev?: bigint;
  inode?: bigint;
  offset?: bigint;
  func?: string;
}

/** Reads row `i` of a batch (only non-null columns are set). */
export function readRow(batch: RecordBatch, i: number): TraceRow {
  const row: Record<string, unknown> = {};
  for (const field of batch.schema.fields) {
    const value = batch.getChild(field.name)!.get(i) as unknown;
    if (value === null || value === undefined) continue;
    row[field.name] = field.name === 'argv' ? Array.from(value as Iterable<string | null>, (s) => s ?? '') : value;
  }
  return row as unknown as TraceRow;
}

/** A string argument as C source would show it: quoted, with quotes and backslashes escaped. */
export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const hex = (n: bigint): string => `0x${BigInt.asUintN(64, n).toString(16)}`;
const num = (n: bigint | undefined): number | undefined => (n === undefined ? undefined : Number(n));

/** Who did an act to the target: the actor's executable and uid. */
function actor(row: TraceRow): string {
  const parts = [`actor=${row.exe ?? row.comm}`];
  if (row.uid !== undefined) parts.push(`uid=${row.uid}`);
  return parts.join(' ');
}

function targetOf(row: TraceRow): string {
  const tid = row.target_tid ?? row.target_pid;
  return tid === undefined ? 'pid ?' : `pid ${tid}`;
}

function ret(row: TraceRow, hexResult = false): string {
  return row.ret === undefined ? '' : ` = ${formatReturn(row.ret, hexResult)}`;
}

/** The name of the call a row stands for: the syscall name, or the act's call (`ptrace`, `dlopen`). */
export function callName(row: TraceRow): string {
  if (row.kind === 'syscall') return row.nr === undefined ? 'syscall' : syscallName(row.nr);
  if (row.kind === 'libcall') return row.func ?? 'libcall';
  return CALL_NAMES[row.kind] ?? row.kind;
}

const CALL_NAMES: Record<string, string> = {
  vm_read: 'process_vm_readv',
  vm_write: 'process_vm_writev',
  proc_open: 'open',
  device_open: 'open',
  perf_open: 'perf_event_open',
  bpf_load: 'bpf',
  mmap_exec: 'mmap',
};

/** The row as one line of text, without time and thread (see formatLine). */
export function describeRow(row: TraceRow): string {
  const request = num(row.request);
  switch (row.kind) {
    case 'syscall': {
      const name = callName(row);
      return `${name}()${ret(row, ADDRESS_RETURNING.has(name))}`;
    }
    case 'fork':
      return `fork: new process ${row.child_pid ?? '?'}`;
    case 'thread':
      return `thread: new thread ${row.child_tid ?? '?'}`;
    case 'exec': {
      const args = row.argv ? `[${row.argv.map(quote).join(', ')}]` : '[?]';
      const notes: string[] = [];
      if (request === 0) notes.push('file has no links: memfd or deleted');
      if (row.truncated) notes.push('truncated');
      return `exec(${quote(row.path ?? '?')}, ${args})${ret(row)}${notes.length ? `  (${notes.join(', ')})` : ''}`;
    }
    case 'exit':
      return `exit: ${row.exit_code === undefined ? '?' : waitStatus(row.exit_code)}${row.group_dead ? ', last thread of the process' : ''}`;
    case 'rename':
      return `rename: thread name is now ${quote(row.comm)}`;
    case 'ptrace': {
      const args = [ptraceRequestName(request ?? null), targetOf(row)];
      if (row.addr !== undefined && row.addr !== 0n) args.push(hex(row.addr));
      return `ptrace(${args.join(', ')})${ret(row)}  ${actor(row)}`;
    }
    case 'vm_read':
    case 'vm_write': {
      const args = [targetOf(row)];
      if (row.addr !== undefined) args.push(hex(row.addr));
      if (row.size !== undefined) args.push(`${row.size} bytes`);
      return `${callName(row)}(${args.join(', ')})${ret(row)}  ${actor(row)}`;
    }
    case 'proc_open':
    case 'device_open':
      return `open(${quote(row.path ?? '?')}, ${request === undefined ? '?' : openFlags(request)})${ret(row)}  ${actor(row)}`;
    case 'signal':
      return `signal(${targetOf(row)}, ${request === undefined ? '?' : signalName(request)})${ret(row)}  ${actor(row)}`;
    case 'pidfd':
      return `pidfd(${targetOf(row)}${request !== undefined && request !== 0 ? `, ${request}` : ''})${ret(row)}  ${actor(row)}`;
    case 'perf_open':
      return `perf_event_open(${targetOf(row)}, ${request === undefined ? '?' : perfType(request)})${ret(row)}  ${actor(row)}`;
    case 'module_load':
      return `module_load(${quote(row.path ?? '?')})${ret(row)}  ${actor(row)}`;
    case 'bpf_load':
      return `bpf(BPF_PROG_LOAD, ${request === undefined ? '?' : bpfProgType(request)}${row.path ? `, name ${quote(row.path)}` : ''})${ret(row)}  ${actor(row)}`;
    case 'mmap_exec': {
      const args = [
        row.addr === undefined ? '?' : hex(row.addr),
        row.size === undefined ? '?' : row.size.toString(),
        request === undefined ? 'PROT_?' : protFlags(request),
        quote(row.path ?? '?'),
      ];
      if (row.offset !== undefined) args.push(hex(row.offset));
      const ident = row.dev !== undefined && row.inode !== undefined ? `  dev=${row.dev} ino=${row.inode}` : '';
      return `mmap(${args.join(', ')})${ret(row, true)}${ident}`;
    }
    case 'exec_memory': {
      // The row does not say which call it was: mprotect (or pkey_mprotect) returns 0, mmap the new
      // mapping's address, shmat too (its memory is a SysV segment's).
      const shm = row.path !== undefined && /^\/SYSV[0-9a-f]{8}/.test(row.path);
      const call = shm ? 'shmat' : row.ret === 0n ? 'mprotect' : row.ret !== undefined && row.ret > 0n ? 'mmap' : 'mmap/mprotect';
      const args = [
        row.addr === undefined ? '?' : hex(row.addr),
        row.size === undefined ? '?' : row.size.toString(),
        request === undefined ? 'PROT_?' : protFlags(request),
      ];
      return `${call}(${args.join(', ')})${ret(row, call === 'mmap' || call === 'shmat')}  ${row.path ? `executable memory of ${quote(row.path)}` : 'anonymous executable memory'}`;
    }
    case 'memfd_create':
      return `memfd_create(${quote(row.path ?? '?')})${ret(row)}`;
    case 'io_uring_setup':
      return `io_uring_setup(${request ?? '?'} entries)${ret(row)}`;
    case 'libcall': {
      // Recorded at the call (uprobe): the first two arguments and, when watched, one string argument.
      const args: string[] = [];
      if (row.path !== undefined) args.push(quote(row.path));
      const raw = [row.addr, row.size].filter((v): v is bigint => v !== undefined).map((v) => (v > 0xffffn ? hex(v) : v.toString()));
      return `${callName(row)}(${args.join(', ')})${raw.length ? `  args ${raw.join(', ')}` : ''}`;
    }
    case 'loader_env':
      // Read from the environment of the exec just before it (exe: the program exec'd).
      if (row.func === undefined) return `loader_env: the environment of ${quote(row.exe ?? '?')} was not read to its end`;
      return `loader_env: ${row.func}=${quote(row.path ?? '')} at the exec of ${quote(row.exe ?? '?')}${row.truncated ? '  (truncated)' : ''}`;
    default:
      return `${row.kind}()${ret(row)}`;
  }
}
