// strace -f -ttt -o FILE output: one sequence per pid, syscall names mapped to x86_64 numbers,
// each call timed at its entry (the `<unfinished ...>` line when strace split it).
import { GpoError } from '../errors.js';
import { syscallNumber } from '../trace/syscalls.js';
import type { ImportedSequence } from './sequence.js';

interface PidCalls {
  syscalls: number[];
  timestamps: bigint[];
  /** Name of the call this pid left `<unfinished ...>`, so its `<... resumed>` line is not counted twice. */
  unfinished: string | undefined;
}

// [pid N] prefix (strace to a terminal) or bare pid (-f -o FILE), then an optional -ttt timestamp.
const LINE_PREFIX = /^(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?(?:(\d+)\.(\d+)\s+)?/;
const CALL = /^([A-Za-z_][A-Za-z0-9_]*)\(/;
const RESUMED = /^<\.\.\. ([A-Za-z_][A-Za-z0-9_]*) resumed>/;

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
    if (calls === undefined) byPid.set(pid, (calls = { syscalls: [], timestamps: [], unfinished: undefined }));

    const resumed = RESUMED.exec(rest);
    let name: string;
    if (resumed !== null) {
      name = resumed[1]!;
      const wasPending = calls.unfinished === name;
      calls.unfinished = undefined;
      if (wasPending) continue;
      // A call already in progress when strace attached: its resumption is all we see of it.
    } else {
      const call = CALL.exec(rest);
      if (call === null) throw new GpoError(`${source}:${lineNo + 1}: not an strace line: '${line}'`);
      name = call[1]!;
      if (rest.endsWith('<unfinished ...>')) calls.unfinished = name;
    }
    if (timed === undefined) timed = hasTime;
    if (timed !== hasTime) throw new GpoError(`${source}:${lineNo + 1}: some lines have -ttt timestamps and some do not`);
    calls.syscalls.push(numberOf(name, source, lineNo));
    if (hasTime) calls.timestamps.push(BigInt(prefix[3]!) * 1_000_000_000n + BigInt(prefix[4]!.padEnd(9, '0').slice(0, 9)));
  }
  const sequences: ImportedSequence[] = [];
  for (const [pid, calls] of byPid) {
    if (calls.syscalls.length === 0) continue;
    const sequence: ImportedSequence = { id: `${source}:${pid}`, source, syscalls: Int32Array.from(calls.syscalls) };
    if (timed) sequence.ts_ns = BigInt64Array.from(calls.timestamps);
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
