import { describe, expect, it } from 'vitest';
import { GpoError } from '../../src/errors.js';
import { parseAdfaLdTrace } from '../../src/import/adfa-ld.js';
import { importSequences } from '../../src/import/load.js';
import { parseStraceLog } from '../../src/import/strace.js';
import { parseUnmTrace } from '../../src/import/unm.js';

const fixtures = 'test/fixtures/datasets';

describe('adfa-ld', () => {
  it('reads one sequence of numbers per file, across lines', () => {
    const [sequence, ...rest] = importSequences('adfa-ld', [`${fixtures}/adfa-ld/UTD-0001.txt`]);
    expect(rest).toEqual([]);
    expect(sequence!.id).toBe(`${fixtures}/adfa-ld/UTD-0001.txt`);
    expect(Array.from(sequence!.syscalls)).toEqual([6, 6, 63, 6, 42, 120, 6, 195, 120, 6]);
    expect(sequence!.ts_ns).toBeUndefined();
  });

  it('rejects anything but numbers', () => {
    expect(() => parseAdfaLdTrace('6 x 7', 'bad.txt')).toThrow(GpoError);
  });
});

describe('unm', () => {
  it('splits interleaved processes into one sequence each, in order of first appearance', () => {
    const sequences = importSequences('unm', [`${fixtures}/unm/trace.int`]);
    expect(sequences.map((s) => [s.id, Array.from(s.syscalls)])).toEqual([
      [`${fixtures}/unm/trace.int:601`, [2, 66, 5]],
      [`${fixtures}/unm/trace.int:602`, [5, 3]],
    ]);
  });

  it('rejects lines that are not pid syscall', () => {
    expect(() => parseUnmTrace('1 2\n3\n', 'bad.int')).toThrow(/bad.int:2/);
  });
});

describe('strace', () => {
  const sequences = importSequences('strace', [`${fixtures}/strace/ls.strace`]);

  it('maps names to x86_64 numbers per pid, counting an unfinished call once at its entry', () => {
    expect(sequences.map((s) => [s.id.split(':').pop(), Array.from(s.syscalls)])).toEqual([
      ['4242', [59, 257, 3, 0x1c7, 1]],
      ['4243', [0, 231]],
    ]);
  });

  it('keeps entry timestamps in ns', () => {
    expect(Array.from(sequences[0]!.ts_ns!)).toEqual([
      1_700_000_000_000_001_000n,
      1_700_000_000_000_100_000n,
      1_700_000_000_000_200_000n,
      1_700_000_000_500_000_000n,
      1_700_000_001_000_000_000n,
    ]);
    expect(Array.from(sequences[1]!.ts_ns!)).toEqual([1_700_000_000_000_150_000n, 1_700_000_000_000_500_000n]);
  });

  it('counts a call resumed without its start (strace attached mid-call)', () => {
    const [sequence] = parseStraceLog('7 1.000000 <... wait4 resumed>0x0, 0, NULL) = 8\n7 1.5 getpid() = 7\n', 'attached');
    expect(Array.from(sequence!.syscalls)).toEqual([61, 39]);
  });

  it('reads logs without -f and without timestamps', () => {
    const [sequence] = parseStraceLog('getpid() = 7\nclose(3) = 0\n', 'plain');
    expect(Array.from(sequence!.syscalls)).toEqual([39, 3]);
    expect(sequence!.ts_ns).toBeUndefined();
  });

  it('keeps return values (-errno for failures, hex results, null for ?) and -T durations', () => {
    const [s] = parseStraceLog(
      [
        '5 1.0 write(1, "a) = 3", 6) = 6 <0.000010>',
        '5 1.1 mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, 3, 0) = 0x7f0000001000',
        '5 1.2 openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory) <0.000002>',
        '5 1.3 read(3</etc/passwd>, "x", 1) = 1</etc/passwd> <0.000001>',
        '5 1.4 nanosleep({tv_sec=1, tv_nsec=0},  <unfinished ...>',
        '5 1.9 <... nanosleep resumed>NULL) = ? ERESTART_RESTARTBLOCK (Interrupted by signal) <0.500000>',
        '5 2.0 exit_group(0) = ?',
      ].join('\n'),
      'p',
    );
    expect(s!.pid).toBe(5);
    expect(s!.rets).toEqual([6n, 0x7f0000001000n, -2n, 1n, -516n, null]);
    expect(s!.durations_ns).toEqual([10_000n, null, 2_000n, 1_000n, 500_000_000n, null]);
  });

  it('rejects unknown syscall names', () => {
    expect(() => parseStraceLog('1 1.0 frobnicate(1) = 0\n', 'odd')).toThrow(/unknown x86_64 syscall 'frobnicate'/);
  });
});

describe('importSequences', () => {
  it('walks directories in sorted order', () => {
    const ids = importSequences('adfa-ld', [`${fixtures}/adfa-ld`]).map((s) => s.id);
    expect(ids).toEqual([`${fixtures}/adfa-ld/UTD-0001.txt`, `${fixtures}/adfa-ld/UTD-0002.txt`]);
  });

  it('fails with a GpoError on unknown formats and missing paths', () => {
    expect(() => importSequences('csv', [fixtures])).toThrow(/unknown format 'csv'/);
    expect(() => importSequences('unm', [`${fixtures}/nope`])).toThrow(GpoError);
  });
});
