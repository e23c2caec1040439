// ADFA-LD: one process trace per file, whitespace-separated syscall numbers (32-bit x86 numbering).
import { GpoError } from '../errors.js';
import type { ImportedSequence } from './sequence.js';

export function parseAdfaLdTrace(text: string, source: string): ImportedSequence[] {
  const tokens = text.split(/\s+/).filter((token) => token !== '');
  const syscalls = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const nr = Number(tokens[i]);
    if (!Number.isInteger(nr) || nr < 0) throw new GpoError(`${source}: not a syscall number: '${tokens[i]}'`);
    syscalls[i] = nr;
  }
  return [{ id: source, source, syscalls }];
}
