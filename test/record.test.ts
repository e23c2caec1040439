// End-to-end tests of `gpo record` on the real kernel (root): exact syscall rows per thread, lifecycle rows,
// attach, forced overflow, signals, a killed recorder, an independent Parquet reader, and error paths.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { syscallNumber } from '../src/trace/syscalls.js';
import { openTrace } from '../src/trace/reader.js';
import { countBy, fixture, GPO, readRows, requireRoot, runGpo, start, startGpo } from './helpers/gpo.js';

const GETPPID = syscallNumber('getppid')!;
const OPENAT = syscallNumber('openat')!;
let dir: string;

beforeAll(() => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'gpo-record-'));
});

describe('gpo record -- CMD', () => {
  it("records exactly the fixture's syscalls per thread, its fork, exec and exits, with no drops", async () => {
    const out = join(dir, 'workload.parquet');
    const r = runGpo(['record', '-q', '-o', out, '--', fixture('workload'), '4', '25000', '/etc/hostname', '/bin/true']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const rows = await readRows(out);
    const syscalls = rows.filter((x) => x.kind === 'syscall');

    // Each worker made exactly 25,000 getppid calls; nobody else made any.
    const getppidByTid = countBy(
      syscalls.filter((x) => x.nr === GETPPID),
      (x) => x.tid,
    );
    expect(Object.fromEntries(getppidByTid)).toEqual(Object.fromEntries(report.tids.map((t: number) => [t, 25000])));
    expect(new Set(syscalls.map((x) => x.pid))).toEqual(new Set([report.pid, report.child]));
    // Workers name themselves before their getppid calls.
    expect(syscalls.filter((x) => x.nr === GETPPID).every((x) => x.comm.startsWith('worker-'))).toBe(true);

    // The known openat: on the main thread after the workers' last call and before the fork, with its fd.
    const lastWorkerCall = syscalls.filter((x) => report.tids.includes(x.tid)).reduce((a, b) => (a > b.ts_ns ? a : b.ts_ns), 0n);
    const forkRow = rows.find((x) => x.kind === 'fork')!;
    const known = syscalls.filter((x) => x.tid === report.pid && x.nr === OPENAT && x.ts_ns > lastWorkerCall && x.ts_ns < forkRow.ts_ns);
    expect(known.map((x) => x.ret)).toEqual([BigInt(report.openat)]);

    // Lifecycle: 4 threads, 1 child process, its exec of /bin/true, exits of everything.
    const threads = rows.filter((x) => x.kind === 'thread');
    expect(threads.map((x) => x.child_tid).sort()).toEqual([...report.tids].sort());
    const forks = rows.filter((x) => x.kind === 'fork');
    expect(forks.map((x) => [x.pid, x.child_pid])).toEqual([[report.pid, report.child]]);
    const execs = rows.filter((x) => x.kind === 'exec');
    const childExec = execs.find((x) => x.pid === report.child)!;
    expect(childExec.path).toBe('/bin/true');
    expect(childExec.argv).toEqual(['/bin/true']);
    expect(execs.find((x) => x.pid === report.pid)?.path).toBe(fixture('workload'));
    const groupExits = rows.filter((x) => x.kind === 'exit' && x.group_dead === 1);
    expect(groupExits.map((x) => x.pid).sort()).toEqual([report.pid, report.child].sort());
    expect(groupExits.every((x) => x.exit_code === 0)).toBe(true);

    // The launcher's own syscalls before exec are not the target's.
    const firstSyscall = syscalls.reduce((a, b) => (a.ts_ns < b.ts_ns ? a : b));
    expect(firstSyscall.ts_ns >= execs.find((x) => x.pid === report.pid)!.ts_ns).toBe(true);

    const trace = await openTrace(out);
    expect(trace.metadata.status).toBe('complete');
    expect(trace.metadata.counts.syscall).toEqual({ rows: syscalls.length, dropped: 0 });
    expect(trace.metadata.counts.lifecycle?.dropped).toBe(0);
    expect(trace.metadata.target.pid).toBe(report.pid);
    expect(trace.metadata.stop_reason).toBe('target-exited');
  });

  it('follows every child, whatever bit its pid has in the tracked-process bitmap', async () => {
    const out = join(dir, 'children.parquet');
    // 70 children in a row get consecutive pids, so every bit position of a 64-bit bitmap word is used.
    expect(runGpo(['record', '-q', '-o', out, '--', '/bin/sh', '-c', 'for i in $(seq 70); do /bin/true; done']).code).toBe(0);
    const rows = await readRows(out);
    const forked = rows.filter((x) => x.kind === 'fork').map((x) => x.child_pid);
    const execd = new Set(rows.filter((x) => x.kind === 'exec' && x.path === '/bin/true').map((x) => x.pid));
    expect(forked.length).toBeGreaterThanOrEqual(70);
    for (const child of forked) expect(rows.some((x) => x.pid === child && x.kind === 'syscall')).toBe(true);
    expect(execd.size).toBe(70);
  });

  it("keeps each thread's rows in time order", async () => {
    const out = join(dir, 'order.parquet');
    expect(runGpo(['record', '-q', '-o', out, '--', fixture('workload'), '2', '20000', '/etc/hostname', '/bin/true']).code).toBe(0);
    const last = new Map<number, bigint>();
    for (const row of await readRows(out)) {
      expect(row.ts_ns >= (last.get(row.tid) ?? 0n)).toBe(true);
      last.set(row.tid, row.ts_ns);
    }
  });

  it('gives the same rows to an independent Parquet reader (hyparquet)', async () => {
    const out = join(dir, 'hyparquet.parquet');
    expect(runGpo(['record', '-q', '-o', out, '--', fixture('workload'), '2', '1000', '/etc/hostname', '/bin/true']).code).toBe(0);
    const ours = await readRows(out);
    const file = await asyncBufferFromFile(out);
    const meta = await parquetMetadataAsync(file);
    const theirs = await parquetReadObjects({ file, compressors, columns: ['ts_ns', 'tid', 'kind', 'nr', 'ret', 'comm', 'path'] });
    expect(theirs.length).toBe(ours.length);
    theirs.forEach((row, i) => {
      const o = ours[i];
      expect([
        BigInt(row.ts_ns),
        row.tid,
        row.kind,
        row.nr ?? null,
        row.ret === null || row.ret === undefined ? null : BigInt(row.ret),
        row.comm,
        row.path ?? null,
      ]).toEqual([o.ts_ns, o.tid, o.kind, o.nr, o.ret, o.comm, o.path]);
    });
    const kv = Object.fromEntries((meta.key_value_metadata ?? []).map((e) => [e.key, e.value]));
    expect(JSON.parse(kv.gpo!).schema_version).toBe(1);
  });

  it('counts every lost record when the ring buffer overflows: rows + drops = calls made', async () => {
    const out = join(dir, 'overflow.parquet');
    const calls = 2_000_000;
    const r = runGpo(['record', '-q', '--ring-buffer-size', '8192', '-o', out, '--', fixture('storm'), String(calls)]);
    expect(r.code, r.stderr).toBe(0);
    const trace = await openTrace(out);
    const dropped = trace.metadata.syscalls_dropped_by_nr[String(GETPPID)] ?? 0;
    const rows = (await readRows(out)).filter((x) => x.kind === 'syscall' && x.nr === GETPPID).length;
    expect(dropped).toBeGreaterThan(0);
    expect(rows + dropped).toBe(calls);
    expect(trace.metadata.counts.syscall?.dropped).toBeGreaterThanOrEqual(dropped);
  });

  it('ends with a complete trace when the target is killed with SIGKILL', async () => {
    const out = join(dir, 'killed-target.parquet');
    const gpo = startGpo(['record', '-o', out, '--', fixture('sleeper'), '10']);
    const target = Number((await gpo.waitFor(/"pid":(\d+)/))[1]);
    process.kill(target, 'SIGKILL');
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    const rows = await readRows(out);
    const exit = rows.find((x) => x.kind === 'exit' && x.pid === target && x.group_dead === 1)!;
    expect(exit.exit_code! & 0x7f).toBe(9);
    expect((await openTrace(out)).metadata.status).toBe('complete');
  });

  it('stops after --duration, asking a target it started to exit', async () => {
    const out = join(dir, 'duration.parquet');
    const started = Date.now();
    const r = runGpo(['record', '-q', '--duration', '1', '-o', out, '--', fixture('sleeper'), '10']);
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const trace = await openTrace(out);
    expect(trace.metadata.stop_reason).toBe('duration');
    const rows = await readRows(out);
    // The sleeper exits 0 on the SIGTERM gpo sends it, and that exit is in the trace.
    const exit = rows.find((x) => x.kind === 'exit' && x.group_dead === 1 && x.pid === trace.metadata.target.pid)!;
    expect(exit.exit_code).toBe(0);
  });

  it('stops on SIGINT and still writes a complete trace', async () => {
    const out = join(dir, 'sigint.parquet');
    const target = start(fixture('sleeper'), ['10']);
    const pid = Number((await target.waitFor(/"pid":(\d+)/))[1]);
    const gpo = startGpo(['record', '--pid', String(pid), '-o', out]);
    await gpo.waitFor(/recording/, 'stderr');
    gpo.child.kill('SIGINT');
    const done = await gpo.exited;
    target.child.kill('SIGTERM');
    expect(done.code, done.stderr).toBe(0);
    const trace = await openTrace(out);
    expect(trace.metadata.status).toBe('complete');
    expect(trace.metadata.stop_reason).toBe('SIGINT');
    expect(existsSync(`${out}.arrows`)).toBe(false);
  });

  it('writes the Parquet file while recording: whole row groups are on disk before the target exits', async () => {
    const out = join(dir, 'while.parquet');
    const gpo = startGpo(['record', '-o', out, '--', fixture('storm'), '400000000']);
    await gpo.waitFor(/recording/, 'stderr');
    // 262,144 rows make a row group; a few of them encoded means the file grows as the storm goes on.
    for (let waited = 0; !(existsSync(`${out}.tmp`) && statSync(`${out}.tmp`).size > 200_000); waited += 100) {
      if (waited > 60_000) throw new Error(`${out}.tmp did not grow while recording`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(existsSync(out)).toBe(false);
    gpo.child.kill('SIGINT');
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(existsSync(`${out}.tmp`)).toBe(false);
    expect(existsSync(`${out}.arrows`)).toBe(false);
    const trace = await openTrace(out);
    expect(trace.metadata.status).toBe('complete');
    const counted = trace.metadata.counts.syscall!.rows + trace.metadata.counts.lifecycle!.rows;
    expect(trace.numRows).toBe(counted);
    expect(trace.numRows).toBeGreaterThan(262_144);
  });

  it('leaves a readable Arrow IPC stream when gpo itself is killed with SIGKILL', async () => {
    const out = join(dir, 'killed-gpo.parquet');
    const gpo = startGpo(['record', '-o', out, '--', fixture('storm'), '400000000']);
    await gpo.waitFor(/recording/, 'stderr');
    await new Promise((r) => setTimeout(r, 1500));
    gpo.child.kill('SIGKILL');
    spawnKill('storm');
    await gpo.exited;
    expect(existsSync(out)).toBe(false);
    const info = runGpo(['info', '--json', `${out}.arrows`]);
    expect(info.code, info.stderr).toBe(0);
    const summary = JSON.parse(info.stdout);
    expect(summary.format).toBe('arrow-ipc');
    expect(summary.incomplete).toBe(true);
    expect(summary.rows).toBeGreaterThan(10000);
    expect(summary.top_syscalls[0].name).toBe('getppid');
  });
});

/** Kills the target a killed gpo left behind. */
function spawnKill(comm: string): void {
  for (const pid of readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

describe('gpo record --pid', () => {
  it('attaches to a running process and follows a thread created after attach', async () => {
    const out = join(dir, 'attach.parquet');
    const target = start(fixture('sleeper'), ['7777']);
    const pid = Number((await target.waitFor(/"pid":(\d+)/))[1]);
    const gpo = startGpo(['record', '--pid', String(pid), '-o', out]);
    await gpo.waitFor(/recording/, 'stderr');
    target.child.kill('SIGUSR1');
    const tid = Number((await target.waitFor(/"tid":(\d+)/))[1]);
    target.child.kill('SIGTERM');
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    const rows = await readRows(out);
    expect(rows.filter((x) => x.kind === 'syscall' && x.tid === tid && x.nr === GETPPID).length).toBe(7777);
    expect(rows.some((x) => x.kind === 'thread' && x.child_tid === tid && x.pid === pid)).toBe(true);
    expect(rows.filter((x) => x.tid === tid && x.nr === GETPPID).every((x) => x.comm === 'late-thread')).toBe(true);
    // Everything is the target's, but for the signals this test sent it, recorded with the test as actor, and
    // system-wide acts (other tests' gpo loading its BPF programs meanwhile are bpf_load rows of their pids).
    const systemWide = new Set(['module_load', 'bpf_load', 'device_open']);
    const others = rows
      .filter((x) => x.kind !== 'signal' && !systemWide.has(x.kind) && x.pid !== pid)
      .map((x) => `${x.kind} pid ${x.pid} tid ${x.tid} ${x.comm} nr ${x.nr} ${x.path ?? ''}`);
    expect(others, 'rows of other processes').toEqual([]);
    const signals = rows.filter((x) => x.kind === 'signal');
    expect(signals.map((x) => [x.pid, x.target_pid, Number(x.request)])).toEqual([
      [process.pid, pid, 10],
      [process.pid, pid, 15],
    ]);
    const trace = await openTrace(out);
    expect(trace.metadata.target.mode).toBe('attach');
    expect(trace.metadata.stop_reason).toBe('target-exited');
  });
});

describe('gpo record errors', () => {
  const oneLine = (r: { code: number | null; stderr: string }, pattern: RegExp) => {
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  };
  it('names a pid that does not exist', () => oneLine(runGpo(['record', '--pid', '999999999', '-o', join(dir, 'x.parquet')]), /no process with pid/));
  it('names a command that does not exist', () =>
    oneLine(runGpo(['record', '-o', join(dir, 'x.parquet'), '--', 'no-such-cmd-gpo']), /command not found: no-such-cmd-gpo/));
  it('refuses an output path it cannot write before attaching', () =>
    oneLine(runGpo(['record', '-o', '/nonexistent-dir/x.parquet', '--', '/bin/true']), /does not exist/));
  it('stops with a one-line error when the disk fills up, keeping what was written', async () => {
    const small = mkdtempSync(join(tmpdir(), 'gpo-full-'));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', small]).status).toBe(0);
    try {
      const out = join(small, 'full.parquet');
      const r = runGpo(['record', '-q', '-o', out, '--', fixture('storm'), '2000000']);
      oneLine(r, /cannot write .*full\.parquet\.arrows: No space left on device/);
      let rows = 0;
      for await (const b of (await openTrace(`${out}.arrows`)).batches()) rows += b.numRows;
      expect(rows).toBeGreaterThan(0);
    } finally {
      spawnSync('umount', [small]);
    }
  });
  it('says what privileges are missing when not root', () => {
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, GPO, 'record', '-o', '/tmp/x.parquet', '--', '/bin/true'],
      { encoding: 'utf8' },
    );
    oneLine({ code: r.status, stderr: r.stderr }, /needs root, or CAP_BPF and CAP_PERFMON \(missing: CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN\)/);
  });
});
