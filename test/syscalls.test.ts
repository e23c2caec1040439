import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SYSCALL_NAMES, syscallName, syscallNumber } from '../src/trace/syscalls.js';

const KNOWN: ReadonlyArray<readonly [number, string]> = [
  [0, 'read'],
  [1, 'write'],
  [39, 'getpid'],
  [110, 'getppid'],
  [257, 'openat'],
  [59, 'execve'],
  [56, 'clone'],
  [435, 'clone3'],
  [101, 'ptrace'],
  [310, 'process_vm_readv'],
  [311, 'process_vm_writev'],
  [319, 'memfd_create'],
  [321, 'bpf'],
  [425, 'io_uring_setup'],
  [434, 'pidfd_open'],
  [438, 'pidfd_getfd'],
  [462, 'mseal'],
];

describe('x86_64 syscall table', () => {
  it.each(KNOWN)('%i is %s', (nr, name) => {
    expect(syscallName(nr)).toBe(name);
    expect(syscallNumber(name)).toBe(nr);
    expect(SYSCALL_NAMES[nr]).toBe(name);
  });

  it('names numbers it does not know as sys_<nr>', () => {
    expect(syscallName(400)).toBe('sys_400'); // the hole between 334 and 424 is unassigned on x86_64
    expect(syscallName(100_000)).toBe('sys_100000');
    expect(syscallName(-1)).toBe('sys_-1');
    expect(syscallName(SYSCALL_NAMES.length)).toBe(`sys_${SYSCALL_NAMES.length}`);
  });

  it('has no number for names it does not know', () => {
    expect(syscallNumber('no_such_syscall')).toBeUndefined();
    expect(syscallNumber('')).toBeUndefined();
    expect(syscallNumber('GETPID')).toBeUndefined();
    // sys_<nr> is only the spelling of unnamed numbers: getpid has a name, and "sys_0400" is not canonical.
    expect(syscallNumber('sys_39')).toBeUndefined();
    expect(syscallNumber('sys_0400')).toBeUndefined();
  });

  it('round-trips every number from -1 to past the end of the table', () => {
    for (let nr = -1; nr <= SYSCALL_NAMES.length + 10; nr++) {
      expect(syscallNumber(syscallName(nr))).toBe(nr);
    }
  });

  it('round-trips every name, and no name appears twice', () => {
    const named = SYSCALL_NAMES.filter((name) => name !== '');
    expect(new Set(named).size).toBe(named.length);
    for (const name of named) expect(syscallName(syscallNumber(name)!)).toBe(name);
    expect(named.length).toBeGreaterThan(370);
  });

  it.skipIf(!existsSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h'))('matches what scripts/gen-syscalls.mjs generates from this machine', () => {
    expect(() => execFileSync('node', ['scripts/gen-syscalls.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
