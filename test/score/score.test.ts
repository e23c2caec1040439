import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BaselineDocument } from '../../src/baseline/document.js';
import { parseBaseline } from '../../src/detectors/load-baseline.js';
import { baselineText, trainBaseline } from '../../src/train/train.js';
import { reportJson, scoreTrace, type ScoreReport } from '../../src/score/score-trace.js';
import { openTrace } from '../../src/trace/reader.js';
import { syscallName } from '../../src/trace/syscalls.js';
import { cycle, EXE, normalTrace, syscallRows, tempDir, writeTrace } from './trace-helpers.js';

async function train(paths: string[]): Promise<BaselineDocument> {
  return (await trainBaseline(paths)).baseline;
}

async function score(path: string, baseline: BaselineDocument): Promise<ScoreReport> {
  return scoreTrace(await openTrace(path), parseBaseline(JSON.parse(baselineText(baseline)), 'baseline.json'), { baselinePath: 'baseline.json' });
}

const dir = tempDir();
const training = [await normalTrace(join(dir, 'normal-1.parquet')), await normalTrace(join(dir, 'normal-2.parquet'))];
const baseline = await train(training);

describe('gpo score on syscall sequences', () => {
  it('finds nothing in a recording like the training ones', async () => {
    const report = await score(await normalTrace(join(dir, 'normal-3.parquet')), baseline);
    expect(report.anomalies).toEqual([]);
    expect(report.verdict).toBe('clean');
    expect(report.exit_code).toBe(0);
    expect(report.program_mismatch).toBeNull();
  });

  it('reports one unseen window as exactly one novel_sequence, at its thread and time, with its syscall names', async () => {
    // The cycle, then 3 where 4 was due: only the last window (7 0 1 2 3 3) is new.
    const nrs = [...cycle(10), 0, 1, 2, 3, 3];
    const start = 5_000_000_000n;
    const path = await writeTrace(join(dir, 'one-window.parquet'), syscallRows(4002, nrs, start));
    const report = await score(path, baseline);
    expect(report.anomalies).toHaveLength(1);
    const [anomaly] = report.anomalies;
    const last = nrs.length - 1;
    expect(anomaly).toMatchObject({ kind: 'novel_sequence', tid: 4002, pid: 4000, count: 1 });
    expect(anomaly!.evidence.window).toEqual(nrs.slice(last - 5).map(syscallName));
    expect(anomaly!.evidence.window).toEqual(['poll', 'read', 'write', 'open', 'close', 'close']);
    expect(anomaly!.first_ts_ns).toBe(start + BigInt(last - 5) * 1_000_000n);
    expect(anomaly!.last_ts_ns).toBe(start + BigInt(last) * 1_000_000n);
  });

  it('reports a syscall never seen in training as novel_syscall', async () => {
    const path = await writeTrace(join(dir, 'novel.parquet'), syscallRows(4000, [...cycle(5), 101, ...cycle(5)], 1_000_000_000n));
    const kinds = (await score(path, baseline)).anomalies.map((a) => [a.kind, a.severity]);
    expect(kinds).toContainEqual(['novel_syscall', 'high']); // ptrace (101) is one of the dangerous ones
    expect(kinds.filter(([kind]) => kind === 'novel_sequence')).toHaveLength(1);
  });

  it('keeps a run of unseen windows together across batch boundaries', async () => {
    const nrs = [...cycle(3), 5, 5, 5, 5, ...cycle(3)];
    const path = await writeTrace(join(dir, 'run.parquet'), syscallRows(4000, nrs, 1_000_000_000n));
    const whole = await score(path, baseline);
    const trace = await openTrace(path);
    const small = { ...trace, batches: () => trace.batches({ columns: undefined, batchRows: 7 }) };
    const parts = await scoreTrace(small as never, parseBaseline(JSON.parse(baselineText(baseline)), 'b'), { baselinePath: 'baseline.json' });
    expect(reportJson(parts)).toBe(reportJson(whole));
    expect(whole.anomalies.filter((a) => a.kind === 'novel_sequence')).toHaveLength(1);
  });
});

describe('gpo score on tampering and library rows', () => {
  const ptrace = (ts: bigint, request: number) => ({
    ts_ns: ts,
    pid: 6000,
    tid: 6000,
    comm: 'cheat',
    kind: 'ptrace',
    exe: '/tmp/cheat',
    uid: 1000,
    target_pid: 4000,
    target_tid: 4001,
    request,
  });

  it('reports a ptrace attach with its actor as a high ptrace anomaly', async () => {
    const path = await normalTrace(join(dir, 'ptrace.parquet'), [ptrace(1_010_000_000n, 16), ptrace(1_020_000_000n, 16)]);
    const report = await score(path, baseline);
    expect(report.anomalies).toHaveLength(1);
    expect(report.anomalies[0]).toMatchObject({
      kind: 'ptrace',
      severity: 'high',
      pid: 6000,
      comm: 'cheat',
      count: 2,
      first_ts_ns: 1_010_000_000n,
      last_ts_ns: 1_020_000_000n,
    });
    expect(report.anomalies[0]!.evidence).toMatchObject({ request: 'PTRACE_ATTACH', actor: { pid: 6000, exe: '/tmp/cheat' }, target_tid: 4001 });
    expect(report.exit_code).toBe(1);
  });

  it('allows what the baseline saw: the same act by the same program', async () => {
    const crash = { ...ptrace(1_010_000_000n, 0x4206), comm: 'crashpad', exe: '/usr/lib/crashpad' };
    const allowing = await train([await normalTrace(join(dir, 'crash-1.parquet'), [crash]), await normalTrace(join(dir, 'crash-2.parquet'))]);
    expect(allowing.allowed).toEqual({ 'ptrace /usr/lib/crashpad PTRACE_SEIZE': 1 });
    const report = await score(await normalTrace(join(dir, 'crash-3.parquet'), [{ ...crash, pid: 7000, tid: 7000 }]), allowing);
    expect(report.anomalies).toEqual([]);
    // Another program doing the same is not allowed.
    const other = await score(await normalTrace(join(dir, 'crash-4.parquet'), [ptrace(1_010_000_000n, 0x4206)]), allowing);
    expect(other.anomalies.map((a) => a.kind)).toEqual(['ptrace']);
  });

  it('maps each tampering row kind to its anomaly kind', async () => {
    const actor = { pid: 6000, tid: 6000, comm: 'cheat', exe: '/tmp/cheat', target_pid: 4000, target_tid: 4000 };
    const rows = [
      { ...actor, ts_ns: 1_001_000_000n, kind: 'vm_read', size: 4096 },
      { ...actor, ts_ns: 1_002_000_000n, kind: 'vm_write', size: 8 },
      { ...actor, ts_ns: 1_003_000_000n, kind: 'proc_open', path: '/proc/4000/mem', request: 2 },
      { ...actor, ts_ns: 1_004_000_000n, kind: 'signal', request: 19 },
      { ...actor, ts_ns: 1_005_000_000n, kind: 'module_load', path: 'evil' },
      { ...actor, ts_ns: 1_006_000_000n, kind: 'bpf_load', request: 2 },
      { ...actor, ts_ns: 1_007_000_000n, kind: 'device_open', path: '/dev/uinput' },
      { ts_ns: 1_008_000_000n, pid: 4000, tid: 4000, comm: 'game', kind: 'exec_memory', request: 7, addr: 4096, size: 4096 },
      { ts_ns: 1_009_000_000n, pid: 4000, tid: 4000, comm: 'game', kind: 'mmap_exec', path: '/tmp/libhack.so', dev: 1, inode: 2 },
      { ts_ns: 1_010_000_000n, pid: 4100, tid: 4100, comm: 'sh', kind: 'exec', path: '/memfd:payload (deleted)' },
      { ts_ns: 1_011_000_000n, pid: 4101, tid: 4101, comm: 'sh', kind: 'exec', path: '/usr/bin/curl' },
      { ts_ns: 1_012_000_000n, pid: 4000, tid: 4000, comm: 'game', kind: 'libcall', func: 'libc.so.6:dlopen', path: '/tmp/libhack.so' },
    ];
    const report = await score(await normalTrace(join(dir, 'kinds.parquet'), rows), baseline);
    expect(report.anomalies.map((a) => `${a.kind}:${a.severity}`)).toEqual([
      'vm_read:high',
      'vm_write:high',
      'proc_mem:high',
      'signal:high',
      'module_load:high',
      'bpf_load:medium',
      'uinput:high',
      'exec_memory:high',
      'new_library:high',
      'fileless_exec:high',
      'child_exec:medium',
      'unexpected_libcall:high',
    ]);
  });

  it('reports a library not in the baseline, and not one that is', async () => {
    const lib = (path: string, inode: number) => ({ ts_ns: 1_000_100_000n, pid: 4000, tid: 4000, comm: 'game', kind: 'mmap_exec', path, dev: 2049, inode });
    const withLibs = await train([
      await normalTrace(join(dir, 'lib-1.parquet'), [lib('/usr/lib/libc.so.6', 11)]),
      await normalTrace(join(dir, 'lib-2.parquet'), [lib('/usr/lib/libc.so.6', 11)]),
    ]);
    expect(withLibs.libraries.mappings).toEqual([{ path: '/usr/lib/libc.so.6', dev: 2049, inode: 11 }]);
    const report = await score(await normalTrace(join(dir, 'lib-3.parquet'), [lib('/usr/lib/libc.so.6', 11), lib('/usr/lib/libhack.so', 12)]), withLibs);
    expect(report.anomalies.map((a) => [a.kind, a.severity, a.evidence.path])).toEqual([['new_library', 'medium', '/usr/lib/libhack.so']]);
  });

  it('reports LD_PRELOAD the baseline never saw, and warns about another program', async () => {
    const report = await score(
      await normalTrace(join(dir, 'preload.parquet'), [], { loader_env: { LD_PRELOAD: '/tmp/hook.so' }, exe: '/usr/bin/other', build_id: 'ffff' }),
      baseline,
    );
    expect(report.anomalies.map((a) => [a.kind, a.severity, a.evidence.value])).toEqual([['preload', 'high', '/tmp/hook.so']]);
    expect(report.program_mismatch).toContain(`exe /usr/bin/other vs ${EXE}`);
  });
});

describe('determinism', () => {
  it('gives byte-identical reports and baselines for the same inputs', async () => {
    const path = await normalTrace(join(dir, 'det.parquet'), [{ ts_ns: 1_001_000_000n, pid: 6000, tid: 6000, comm: 'x', kind: 'vm_read', target_pid: 4000 }]);
    expect(reportJson(await score(path, baseline))).toBe(reportJson(await score(path, baseline)));
    expect(baselineText(await train(training))).toBe(baselineText(await train(training)));
  });
});

describe('baseline document', () => {
  it('says what it was trained on and how its thresholds were calibrated', () => {
    expect(baseline.baseline_version).toBe(3);
    expect(baseline.trained_on.program).toEqual({ exe: EXE, build_id: 'abc123', exe_sha256: 'f'.repeat(64) });
    expect(baseline.trained_on.traces.map((t) => [t.path, t.sha256.length, t.syscalls, t.threads])).toEqual([
      [training[0], 64, 640, 2],
      [training[1], 64, 640, 2],
    ]);
    expect(baseline.calibration.unit).toBe('recording');
    expect(baseline.calibration.units).toBe(2);
    const text = baselineText(baseline);
    writeFileSync(join(dir, 'b.json'), text);
    expect(readFileSync(join(dir, 'b.json'), 'utf8')).toBe(text);
  });
});
