// UNM (Forrest et al.): lines "pid syscall"; a file can interleave several processes, each its own sequence.
import { GpoError } from '../errors.js';
import type { ImportedSequence } from './sequence.js';

export function parseUnmTrace(text: string, source: string): ImportedSequence[] {
  const callsByPid = new Map<string, number[]>(); // insertion order = order of first appearance
  const lines = text.split('\n');
  for (let lineNo = 0; lineNo < lines.length; lineNo++) {
    const line = lines[lineNo]!.trim();
    if (line === '') continue;
    const match = /^(\d+)\s+(\d+)$/.exec(line);
    if (match === null) throw new GpoError(`${source}:${lineNo + 1}: expected 'pid syscall', got '${line}'`);
    const pid = match[1]!;
    let calls = callsByPid.get(pid);
    if (calls === undefined) callsByPid.set(pid, (calls = []));
    calls.push(Number(match[2]));
  }
  return [...callsByPid].map(([pid, calls]) => ({ id: `${source}:${pid}`, source, syscalls: Int32Array.from(calls) }));
}
