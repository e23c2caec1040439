// gpo replay against the committed fixture traces (test/fixtures/make-traces.ts): exact lines for each
// filter, JSON lines, hostile strings inert, `| head` returning at once.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GPO, ROOT } from './helpers/gpo.js';
import { writeFixtureTraces, FIXTURES } from './fixtures/make-traces.js';

const TRACES = join(ROOT, 'test', 'fixtures', 'traces');
const CHEAT = join(TRACES, 'cheat.parquet');

function replay(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [GPO, 'replay', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('fixture traces', () => {
  it('are what test/fixtures/make-traces.ts writes (UPDATE_FIXTURES=1 rewrites them)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpo-fixtures-'));
    const fresh = await writeFixtureTraces(dir);
    for (const name of Object.keys(FIXTURES)) {
      if (process.env.UPDATE_FIXTURES) copyFileSync(fresh[name]!, join(TRACES, name));
      const committed = replay([join(TRACES, name), '--json']);
      expect(committed.code, committed.stderr).toBe(0);
      expect(committed.stdout).toBe(replay([fresh[name]!, '--json']).stdout);
    }
  });
});

describe('gpo replay', () => {
  it('prints act rows decoded, with errno names, filtered by kind and relative time', () => {
    const r = replay([CHEAT, '--kind', 'ptrace', '--since', '1.002', '--until', '1.6']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        '+1.002000 10:00:01.002000 5000/5000     \\x1b[31mtrainer\\x1b]0;pwned\\x07 ptrace(PTRACE_POKEDATA, pid 4242, 0x55d0c0de0008) = 0  actor=/tmp/"><img src=x onerror=alert(1)> uid=0',
        '+1.003000 10:00:01.003000 5000/5000     \\x1b[31mtrainer\\x1b]0;pwned\\x07 ptrace(PTRACE_POKEDATA, pid 4242, 0x55d0c0de000c) = 0  actor=/tmp/"><img src=x onerror=alert(1)> uid=0',
        '+1.010000 10:00:01.010000 5000/5000     \\x1b[31mtrainer\\x1b]0;pwned\\x07 ptrace(PTRACE_DETACH, pid 4242) = 0  actor=/tmp/"><img src=x onerror=alert(1)> uid=0',
        '+1.503000 10:00:01.503000 5001/5001     <script>alert(2)</script> ptrace(PTRACE_SEIZE, pid 4242) = -1 EPERM (Operation not permitted)  actor=/usr/local/bin/reader uid=1000',
        '',
      ].join('\n'),
    );
    expect(r.stdout).not.toContain('\x1b');
  });

  it('keeps only the named syscalls with --syscall', () => {
    const r = replay([CHEAT, '--syscall', 'ptrace,process_vm_readv', '--since', '2.2', '--until', '2.203']);
    expect(r.stdout).toBe(
      [
        '+2.200000 10:00:02.200000 4242/4242     main            process_vm_readv() = 0',
        '+2.200250 10:00:02.200250 4242/4242     main            ptrace() = -1 EPERM (Operation not permitted)',
        '+2.201750 10:00:02.201750 4242/4242     main            process_vm_readv() = 0',
        '+2.202000 10:00:02.202000 4242/4242     main            process_vm_readv() = 0',
        '+2.202250 10:00:02.202250 4242/4242     main            ptrace() = -1 EPERM (Operation not permitted)',
        '',
      ].join('\n'),
    );
  });

  it('filters by thread and shows durations, hex addresses and renames', () => {
    const r = replay([CHEAT, '--tid', '4243', '--since', '2.39', '--until', '2.41']);
    expect(r.stdout).toBe(
      [
        '+2.390500 10:00:02.390500 4242/4243     render          ioctl() = 0 <0.000004>',
        '+2.395500 10:00:02.395500 4242/4243     render          mmap() = 0x7f00001dd000 <0.000004>',
        '+2.400000 10:00:02.400000 4242/4243     "><svg onload=alert(5)> rename: thread name is now "\\"><svg onload=alert(5)>"',
        '+2.400500 10:00:02.400500 4242/4243     render          munmap() = 0 <0.000004>',
        '+2.405500 10:00:02.405500 4242/4243     render          futex() = 0 <0.000004>',
        '',
      ].join('\n'),
    );
  });

  it('filters by process: exec with argv (escaped), errors, exit status', () => {
    const r = replay([CHEAT, '--pid', '4300']);
    expect(r.stdout).toBe(
      [
        `+2.301000 10:00:02.301000 4300/4300     sh              exec("/bin/sh", ["sh", "-c", "echo '\\u2028</script><img src=x onerror=alert(4)>' \\x1b[2J"])`,
        '+2.302000 10:00:02.302000 4300/4300     sh              openat() = -1 EACCES (Permission denied) <0.000004>',
        '+2.303000 10:00:02.303000 4300/4300     sh              exit: killed by SIGKILL, last thread of the process',
        '',
      ].join('\n'),
    );
  });

  it('--pid also shows the acts of other processes toward that process', () => {
    const lines = replay([CHEAT, '--pid', '4242', '--kind', 'proc_open,vm_read,signal']).stdout.trim().split('\n');
    expect(lines.map((l) => l.split('> ').pop())).toEqual([
      'open("/proc/4242/maps", O_RDONLY|O_LARGEFILE) = 3  actor=/usr/local/bin/reader uid=1000',
      'open("/proc/4242/mem", O_RDWR|O_LARGEFILE) = 4  actor=/usr/local/bin/reader uid=1000',
      'process_vm_readv(pid 4242, 0x55d0c0de0000, 32 bytes) = 32  actor=/usr/local/bin/reader uid=1000',
      'signal(pid 4242, SIGSTOP) = 0  actor=/usr/local/bin/reader uid=1000',
      'signal(pid 4242, SIGCONT) = 0  actor=/usr/local/bin/reader uid=1000',
    ]);
  });

  it('accepts absolute ISO times and decodes library rows', () => {
    expect(replay([CHEAT, '--since', '2026-01-01T10:00:01.7Z', '--until', '2026-01-01T10:00:01.7005Z']).stdout).toBe(
      [
        '+1.700000 10:00:01.700000 4242/4242     main            clock_nanosleep() = 0 <0.015692>',
        '+1.700000 10:00:01.700000 5001/5001     <script>alert(2)</script> signal(pid 4242, SIGSTOP) = 0  actor=/usr/local/bin/reader uid=1000',
        '+1.700500 10:00:01.700500 4242/4243     render          ioctl() = 0 <0.000003>',
        '',
      ].join('\n'),
    );
    const libs = replay([CHEAT, '--kind', 'libcall,mmap_exec,exec_memory,memfd_create', '--since', '2']).stdout.trim().split('\n');
    expect(libs.map((l) => l.slice(56))).toEqual([
      'libc.so.6:dlopen("/tmp/evil</script><script>alert(3)</script>.so")  args 0x7ffd00002000, 2',
      'mmap(0x7f1000c00000, 4096, PROT_READ|PROT_EXEC, "/tmp/evil</script><script>alert(3)</script>.so", 0x1000) = 0x7f1000c00000  dev=64 ino=777',
      'libc.so.6:dlsym("wallhack_init")  args 0x55d0c0de1000, 0x7f1000c00100',
      'mmap(0x7f2000000000, 8192, PROT_READ|PROT_WRITE|PROT_EXEC) = 0x7f2000000000  anonymous executable memory',
      'mprotect(0x7f2000000000, 8192, PROT_READ|PROT_EXEC) = 0  anonymous executable memory',
      'memfd_create("payload") = 5',
    ]);
  });

  it('--json prints one inert JSON object per row with the decoded call', () => {
    const r = replay([CHEAT, '--kind', 'signal,exec', '--json', '--since', '1']);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows[0]).toEqual({
      ts_ns: '2700000000',
      pid: 5001,
      tid: 5001,
      comm: '<script>alert(2)</script>',
      kind: 'signal',
      ret: '0',
      uid: 1000,
      exe: '/usr/local/bin/reader',
      target_pid: 4242,
      target_tid: 4242,
      request: '19',
      time: '+1.700000',
      wall: '2026-01-01T10:00:01.700000000Z',
      call: 'signal',
      text: 'signal(pid 4242, SIGSTOP) = 0  actor=/usr/local/bin/reader uid=1000',
    });
    expect(rows[2]!.argv).toEqual(['sh', '-c', "echo '\u2028</script><img src=x onerror=alert(4)>' \x1b[2J"]);
    // Control characters and U+2028 are escaped in the text itself, not only after parsing.
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/u);
  });

  it('rejects unknown syscalls, kinds and times with one line and exit 2', () => {
    for (const args of [
      ['--syscall', 'nosuch'],
      ['--kind', 'bogus'],
      ['--since', 'yesterday'],
    ]) {
      const r = replay([CHEAT, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('stops quietly and at once when the reader goes away (| head)', async () => {
    const started = Date.now();
    const child = spawn('sh', ['-c', `"${process.execPath}" "${GPO}" replay "${CHEAT}" | head -n 3`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(3);
    expect(err).toBe('');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
