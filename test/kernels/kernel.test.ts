// The kernel suite's own checks (scripts/kernel-matrix.sh runs them on this machine's kernel and inside
// each Debian kernel, with the fixture and act tests of record.test.ts and observe.test.ts): what
// `gpo doctor` says against what `gpo record` does, and the hook each signal was served by.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/doctor/index.js';
import { openTrace } from '../../src/trace/reader.js';
import { fixture, readRows, requireRoot, ROOT, Running, runGpo, start, startGpo } from '../helpers/gpo.js';

const GETPPID = 110;

describe('kernel suite', () => {
  // One doctor run for the file: each node start costs 5-20 s under emulation.
  let report: DoctorReport;
  beforeAll(() => {
    requireRoot();
    const doctor = runGpo(['doctor', '--json']);
    expect(doctor.code, doctor.stderr).toBe(0);
    report = JSON.parse(doctor.stdout) as DoctorReport;
  });

  it("gpo doctor's verdict is what gpo record does: same hook per signal, same unavailable signals", async () => {
    expect(report.verdict.canRecord, report.verdict.summary).toBe(true);

    const out = join(mkdtempSync(join(tmpdir(), 'gpo-kernel-')), 'k.parquet');
    const r = runGpo(['record', '-q', '-o', out, '--', fixture('workload'), '1', '10', '/etc/hostname', '/bin/true']);
    expect(r.code, r.stderr).toBe(0);
    const { metadata } = await openTrace(out);
    const served = Object.fromEntries(report.signals.filter((s) => s.hook !== null).map((s) => [s.name, s.hook]));
    const unavailable = Object.fromEntries(report.signals.filter((s) => s.hook === null).map((s) => [s.name, s.why]));
    expect(metadata.hooks).toEqual(served);
    expect(metadata.hooks_unavailable).toEqual(unavailable);
    // Every signal the recorder knows is either served or said to be unavailable, never silently absent.
    for (const signal of ['syscalls', 'fork', 'exec', 'exit', 'ptrace', 'proc_open', 'signal', 'io_uring_open', 'libcall'])
      expect(signal in served || signal in unavailable, signal).toBe(true);
    // Where fentry loads, exit rows never take group_dead from the racy live-thread count.
    if (report.hookTypes.fentry.usable) expect(served.exit).not.toMatch(/signal->live/);
  });

  it('records a read of /proc/PID/mem through a descriptor opened before recording started, where BPF LSM serves it', async () => {
    const access = report.signals.find((s) => s.name === 'proc_access')!;
    const target = start(fixture('sleeper'), ['30']);
    const pid = Number((await target.waitFor(/"pid":(\d+)/))[1]);
    const data = readFileSync(`/proc/${pid}/maps`, 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[1] === 'rw-p')!
      .split('-')[0];
    const holder = new Running(spawn(fixture('tamper'), ['proc-read-later', String(pid), data], { stdio: ['pipe', 'pipe', 'pipe'] }));
    await holder.waitFor(/"opened":(\d+)/);
    const out = join(mkdtempSync(join(tmpdir(), 'gpo-kernel-')), 'pre.parquet');
    const gpo = startGpo(['record', '--pid', String(pid), '-o', out]);
    await gpo.waitFor(/recording/, 'stderr');
    holder.child.stdin!.write('go\n');
    const read = JSON.parse((await holder.waitFor(/\{"action".*\}/))[0]) as { ret: number };
    expect(read.ret).toBe(8);
    await holder.exited;
    gpo.child.kill('SIGINT');
    expect((await gpo.exited).code).toBe(0);
    target.child.kill('SIGTERM');
    const rows = (await readRows(out)).filter((r) => r.kind === 'proc_open' && r.comm === 'tamper');
    const { metadata } = await openTrace(out);
    if (access.hook === null) {
      // Unavailable here, and said so: doctor and the trace agree, and nothing pretends otherwise.
      expect(metadata.hooks_unavailable?.proc_access).toBe(access.why);
      expect(rows).toEqual([]);
    } else {
      expect(metadata.hooks.proc_access).toMatch(/^lsm\/file_permission/);
      expect(rows).toHaveLength(1);
      // addr holds the access mask: MAY_READ (4).
      expect(rows[0]).toMatchObject({ target_pid: pid, path: `/proc/${pid}/mem`, addr: 4n });
    }
  });

  it('reads the loader variables of every exec (bpf_loop over the environment), the end of a long one, and counts one too long to read', async () => {
    // One recording (node starts are dear under emulation): a wrapper sets LD_AUDIT behind 2000 variables
    // for one exec, then execs the workload behind 9000 more than the recorder reads, with LD_PRELOAD last.
    const tmp = mkdtempSync(join(tmpdir(), 'gpo-kernel-'));
    const lib = join(ROOT, 'out', 'lib', 'libfixture.so');
    const pad = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}=`).join(' ');
    const script = join(tmp, 'launch.sh');
    writeFileSync(
      script,
      `env ${pad(2000, 'Q')} LD_AUDIT=${lib} /bin/true\nexec env ${pad(9000, 'P')} LD_PRELOAD=${lib} ${fixture('workload')} 1 10 /etc/hostname /bin/true\n`,
    );
    const out = join(tmp, 'env.parquet');
    const r = runGpo(['record', '-q', '-o', out, '--', 'sh', script]);
    expect(r.code, r.stderr).toBe(0);
    // (The launcher's exec of sh carries the test's own environment, whatever it holds.)
    const loaders = (await readRows(out)).filter((x) => x.kind === 'loader_env' && !x.exe!.endsWith('/sh')).map((x) => [x.exe, x.func, x.path, x.truncated]);
    expect(loaders).toEqual([
      ['/bin/true', 'LD_AUDIT', lib, 0],
      [fixture('workload'), null, null, 1],
      ['/bin/true', null, null, 1],
    ]);
    const { metadata } = await openTrace(out);
    expect(metadata.truncated.exec_env).toBe(2);
    expect(metadata.hooks.loader_env).toMatch(/^tp_btf\/sched_process_exec/);
  });

  it('counts every lost record under a tiny ring buffer: rows + drops = calls made', async () => {
    // test/record.test.ts does this with 2 M calls; 200 K overflow an 8 KiB ring buffer as surely, and take
    // minutes rather than ten under emulation.
    const calls = 200_000;
    const out = join(mkdtempSync(join(tmpdir(), 'gpo-kernel-')), 'drops.parquet');
    const r = runGpo(['record', '-q', '--ring-buffer-size', '8192', '-o', out, '--', fixture('storm'), String(calls)]);
    expect(r.code, r.stderr).toBe(0);
    const { metadata } = await openTrace(out);
    const dropped = metadata.syscalls_dropped_by_nr[String(GETPPID)] ?? 0;
    const rows = (await readRows(out)).filter((x) => x.kind === 'syscall' && x.nr === GETPPID).length;
    expect(dropped).toBeGreaterThan(0);
    expect(rows + dropped).toBe(calls);
    expect(metadata.counts.syscall!.dropped).toBeGreaterThanOrEqual(dropped);
  });
});
