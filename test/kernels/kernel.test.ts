// The kernel suite's own checks (scripts/kernel-matrix.sh runs them on this machine's kernel and inside
// each Debian kernel, with the fixture and act tests of record.test.ts and observe.test.ts): what
// `gpo doctor` says against what `gpo record` does, and the hook each signal was served by.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/doctor/index.js';
import { openTrace } from '../../src/trace/reader.js';
import { fixture, requireRoot, runGpo } from '../helpers/gpo.js';

describe('kernel suite', () => {
  it("gpo doctor's verdict is what gpo record does: same hook per signal, same unavailable signals", async () => {
    requireRoot();
    const doctor = runGpo(['doctor', '--json']);
    expect(doctor.code, doctor.stderr).toBe(0);
    const report = JSON.parse(doctor.stdout) as DoctorReport;
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
});
