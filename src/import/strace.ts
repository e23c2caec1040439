// strace -f -ttt [-T] -o FILE output: one sequence per pid (strace's pid, kept), syscall names mapped to
// x86_64 numbers, each call timed at its entry (the `<unfinished ...>` line when strace split it), with
// its return value (a failed call: -errno, as the kernel returns it) and, with -T, its duration.
import { constants } from 'node:os';
import { GpoError } from '../errors.js';
import { syscallNumber } from '../trace/syscalls.js';
import type { ImportedSequence } from './sequence.js';

interface PidCalls {
  syscalls: number[];
  timestamps: bigint[];
  /** Return value of each call; null when strace shows none (`= ?`, a call still running at the end). */
  rets: (bigint | null)[];
  /** -T time spent in each call, ns; null without -T. */
  durations: (bigint | null)[];
  /** The call this pid left `<unfinished ...>`: its `<... resumed>` line completes it instead of counting again. */
  unfinished: { name: string; index: number } | undefined;
}

// [pid N] prefix (strace to a terminal) or bare pid (-f -o FILE), then an optional -ttt timestamp.
const LINE_PREFIX = /^(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?(?:(\d+)\.(\d+)\s+)?/;
const CALL = /^([A-Za-z_][A-Za-z0-9_]*)\(/;
const RESUMED = /^<\.\.\. ([A-Za-z_][A-Za-z0-9_]*) resumed>/;
// The result after the last ') = ': a number (decimal or hex) or '?', an errno name when it failed, then
// anything strace adds (-y paths, flag decoding), then the -T duration.
const RESULT = /^.*\)\s+=\s+(0x[0-9a-fA-F]+|-?\d+|\?)(?:\s+(E[A-Z0-9_]+))?(?:[^<]|<(?!\d+\.\d+>$))*(?:<(\d+)\.(\d+)>)?$/;

/** Kernel-internal codes strace shows for interrupted calls; not in userspace's errno list. */
const KERNEL_ERRNOS: Record<string, number> = { ERESTARTSYS: 512, ERESTARTNOINTR: 513, ERESTARTNOHAND: 514, ERESTART_RESTARTBLOCK: 516, ENOTSUPP: 524 };

function errnoNumber(name: string): number | undefined {
  return (constants.errno as Record<string, number>)[name] ?? KERNEL_ERRNOS[name];
}

const ns = (seconds: string, fraction: string) => BigInt(seconds) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0').slice(0, 9));

/** The return value as gpo records it: -errno for a failure strace names, the value otherwise. */
function returnValue(result: RegExpExecArray | null): bigint | null {
  if (result === null || result[1] === '?') {
    const errno = result?.[2] === undefined ? undefined : errnoNumber(result[2]);
    return errno === undefined ? null : BigInt(-errno); // `= ? ERESTARTSYS`: interrupted
  }
  if (result[2] !== undefined) {
    const errno = errnoNumber(result[2]);
    return errno === undefined ? null : BigInt(-errno);
  }
  return BigInt.asIntN(64, BigInt(result[1]!));
}

export function parseStraceLog(text: string, source: string): ImportedSequence[] {
  const byPid = new Map<string, PidCalls>();
  let timed: boolean | undefined;
  const lines = text.split('\n');
  for (let lineNo = 0; lineNo < lines.length; lineNo++) {
    const line = lines[lineNo]!.trimEnd();
    if (line === '') continue;
    const prefix = LINE_PREFIX.exec(line)!;
    const pid = prefix[1] ?? prefix[2] ?? '0';
    const hasTime = prefix[3] !== undefined;
    const rest = line.slice(prefix[0].length);
    // Signals, exits and strace's own notes carry no syscall.
    if (rest.startsWith('---') || rest.startsWith('+++') || rest.startsWith('[ ') || rest.startsWith('strace:')) continue;
    let calls = byPid.get(pid);
    if (calls === undefined) byPid.set(pid, (calls = { syscalls: [], timestamps: [], rets: [], durations: [], unfinished: undefined }));

    const result = RESULT.exec(rest);
    const resumed = RESUMED.exec(rest);
    let name: string;
    if (resumed !== null) {
      name = resumed[1]!;
      const pending = calls.unfinished?.name === name ? calls.unfinished : undefined;
      calls.unfinished = undefined;
      if (pending) {
        calls.rets[pending.index] = returnValue(result);
        calls.durations[pending.index] = result?.[3] === undefined ? null : ns(result[3], result[4]!);
        continue;
      }
      // A call already in progress when strace attached: its resumption is all we see of it.
    } else {
      const call = CALL.exec(rest);
      if (call === null) throw new GpoError(`${source}:${lineNo + 1}: not an strace line: '${line}'`);
      name = call[1]!;
      if (rest.endsWith('<unfinished ...>')) calls.unfinished = { name, index: calls.syscalls.length };
    }
    if (timed === undefined) timed = hasTime;
    if (timed !== hasTime) throw new GpoError(`${source}:${lineNo + 1}: some lines have -ttt timestamps and some do not`);
    calls.syscalls.push(numberOf(name, source, lineNo));
    const finished = calls.unfinished?.index !== calls.syscalls.length - 1;
    calls.rets.push(finished ? returnValue(result) : null);
    calls.durations.push(finished && result?.[3] !== undefined ? ns(result[3], result[4]!) : null);
    if (hasTime) calls.timestamps.push(ns(prefix[3]!, prefix[4]!));
  }
  const sequences: ImportedSequence[] = [];
  for (const [pid, calls] of byPid) {
    if (calls.syscalls.length === 0) continue;
    const sequence: ImportedSequence = { id: `${source}:${pid}`, source, syscalls: Int32Array.from(calls.syscalls), rets: calls.rets };
    if (pid !== '0') sequence.pid = Number(pid);
    if (timed) sequence.ts_ns = BigInt64Array.from(calls.timestamps);
    if (calls.durations.some((d) => d !== null)) sequence.durations_ns = calls.durations;
    sequences.push(sequence);
  }
  return sequences;
}

function numberOf(name: string, source: string, lineNo: number): number {
  const nr = syscallNumber(name);
  if (nr !== undefined) return nr;
  // strace spells syscalls it has no name for as syscall_0x1c7 (or syscall_455 in older versions).
  const unnamed = /^syscall_(0x[0-9a-f]+|\d+)$/.exec(name);
  if (unnamed !== null) return Number(unnamed[1]);
  throw new GpoError(`${source}:${lineNo + 1}: unknown x86_64 syscall '${name}'`);
}
