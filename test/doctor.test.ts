// gpo doctor: the verdict logic on made-up probe results, then the real probe on this kernel (needs root).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildReport, HOOK_TYPES, type DoctorReport, type RecorderCheck } from '../src/doctor/index.js';
import { isMounted, parseLockdown, type SystemFacts } from '../src/doctor/system.js';
import { missingCapabilities, parseCapEff } from '../src/preflight/index.js';
import type { HookProbeResult } from '../src/native/addon.js';

const root = fileURLToPath(new URL('..', import.meta.url));

const facts: SystemFacts = {
  kernelRelease: '6.18.0-test',
  btf: true,
  kprobePmu: false,
  privileges: { euid: 0, root: true, missingCapabilities: [] },
  tracefs: { path: '/sys/kernel/tracing', mounted: true, mountedByDoctor: true, mountError: null },
  securityfs: { path: '/sys/kernel/security', mounted: true, lsms: ['lockdown', 'capability', 'bpf'], lockdown: 'integrity' },
};

function probe(program: string, section: string, loaded: boolean, attached: boolean, errno?: string): HookProbeResult {
  return { program, section, loaded, attached, error: errno ? `${errno} text` : null, errno: errno ?? null, detail: null };
}

/** What this project's machines report: fentry and lsm refused at load, kprobe loads but cannot attach. */
const thisKernel: HookProbeResult[] = [
  probe('probe_tracepoint', 'tracepoint/syscalls/sys_enter_getppid', true, true),
  probe('probe_raw_tp', 'raw_tp/sys_enter', true, true),
  probe('probe_tp_btf', 'tp_btf/sys_exit', true, true),
  probe('probe_uprobe', 'uprobe', true, true),
  probe('probe_fentry', 'fentry/do_sys_openat2', false, false, 'EPERM'),
  probe('probe_lsm', 'lsm/file_open', false, false, 'EPERM'),
  probe('probe_kprobe', 'kprobe/do_sys_openat2', true, false, 'ENOENT'),
  probe('probe_sched_process_fork', 'tp_btf/sched_process_fork', true, true),
  probe('probe_sched_process_exec', 'tp_btf/sched_process_exec', true, true),
  probe('probe_sched_process_exit', 'tp_btf/sched_process_exit', true, true),
  probe('probe_task_rename', 'tp_btf/task_rename', true, true),
  probe('probe_sched_switch', 'tp_btf/sched_switch', true, true),
  probe('probe_io_uring_complete', 'tp_btf/io_uring_complete', true, true),
];

/** The recorder as it loads here: every signal served, io_uring opens through the cqe-pointer variant. */
const recorderHere: RecorderCheck = {
  loaded: true,
  attached: true,
  error: null,
  hooks: [
    { signal: 'syscalls', hook: 'tp_btf/sys_exit', unavailable: null },
    { signal: 'exit', hook: 'tp_btf/sched_process_exit', unavailable: null },
    { signal: 'io_uring_open', hook: 'tp_btf/io_uring_complete', unavailable: null },
  ],
};

describe('doctor system facts', () => {
  it('parses the effective capabilities and names the missing BPF ones', () => {
    expect(missingCapabilities(parseCapEff('Name:\tnode\nCapEff:\t000001fffeffffff\n'))).toEqual([]);
    expect(missingCapabilities(parseCapEff('CapEff:\t0000000000000000\n'))).toEqual(['CAP_BPF', 'CAP_PERFMON', 'CAP_SYS_ADMIN']);
    // CAP_BPF (39) and CAP_PERFMON (38) granted, CAP_SYS_ADMIN (21) not.
    expect(missingCapabilities((1n << 39n) | (1n << 38n))).toEqual(['CAP_SYS_ADMIN']);
  });

  it('finds mounts by path and type, and reads the lockdown mode', () => {
    const mounts = 'sysfs /sys sysfs rw 0 0\nnodev /sys/kernel/tracing tracefs rw,relatime 0 0\n';
    expect(isMounted(mounts, '/sys/kernel/tracing', 'tracefs')).toBe(true);
    expect(isMounted(mounts, '/sys/kernel/security', 'securityfs')).toBe(false);
    expect(parseLockdown('none [integrity] confidentiality\n')).toBe('integrity');
  });
});

describe('doctor verdict', () => {
  it('reports each hook type and each signal, and names the refused hooks', () => {
    const report = buildReport(facts, thisKernel, recorderHere);
    expect(report.hookTypes.fentry).toMatchObject({ loaded: false, attached: false, usable: false, errno: 'EPERM' });
    expect(report.hookTypes.kprobe).toMatchObject({ loaded: true, attached: false, usable: false });
    expect(report.verdict.canRecord).toBe(true);
    expect(report.verdict.cannotObserve).toEqual([]);
    expect(report.verdict.unusableHooks).toEqual(['fentry: refused at load (EPERM)', 'lsm: refused at load (EPERM)', 'kprobe: loads, attach fails (ENOENT)']);
    expect(report.securityfs.bpfLsmListed).toBe(true);
    expect(report.verdict.notes.join('\n')).toMatch(/mounted it at \/sys\/kernel\/tracing/);
  });

  it("says gpo cannot record when its recorder does not load, with libbpf's reason, and which capabilities are missing", () => {
    const refused = thisKernel.map((p) => ({ ...p, loaded: false, attached: false, error: 'x', errno: 'EPERM' }));
    const unprivileged: SystemFacts = {
      ...facts,
      privileges: { euid: 1000, root: false, missingCapabilities: ['CAP_BPF', 'CAP_PERFMON'] },
    };
    const failed: RecorderCheck = {
      ...recorderHere,
      loaded: false,
      attached: false,
      error: "Operation not permitted: prog 'on_sys_exit': BPF program load failed",
    };
    const report = buildReport(unprivileged, refused, failed);
    expect(report.verdict.canRecord).toBe(false);
    expect(report.verdict.summary).toMatch(/cannot record.*does not load \(Operation not permitted: prog 'on_sys_exit'/);
    expect(report.signals.every((s) => !s.observable && s.why === failed.error)).toBe(true);
    expect(report.verdict.notes[0]).toMatch(/missing CAP_BPF, CAP_PERFMON/);
  });

  it('marks a signal unobservable, with why, when no hook can serve it on this kernel', () => {
    const noUring: RecorderCheck = {
      ...recorderHere,
      hooks: recorderHere.hooks.map((h) =>
        h.signal === 'io_uring_open' ? { ...h, hook: null, unavailable: 'the kernel has no io_uring_complete tracepoint' } : h,
      ),
    };
    const report = buildReport(facts, thisKernel, noUring);
    expect(report.verdict.cannotObserve).toEqual(['io_uring_open']);
    expect(report.signals.find((s) => s.name === 'io_uring_open')?.why).toMatch(/no io_uring_complete/);
    expect(report.verdict.canRecord).toBe(true);
  });
});

function runCli(args: string[]): string {
  const built = existsSync(`${root}/dist/src/cli.js`) && existsSync(`${root}/build/Release/gpo_native.node`);
  expect(built, 'gpo is not built: run bash scripts/build.sh first').toBe(true);
  // execFileSync throws on a non-zero exit, so returning means exit status 0.
  return execFileSync('node', [`${root}/bin/gpo.js`, ...args], { encoding: 'utf8' });
}

describe('gpo doctor on this kernel (needs root)', () => {
  it('loads and attaches tp_btf and uprobe and reports every hook type', () => {
    expect(process.geteuid?.(), 'these tests load BPF programs and need root: run vitest as root').toBe(0);
    const report = JSON.parse(runCli(['doctor', '--json'])) as DoctorReport;
    for (const type of HOOK_TYPES) {
      expect(typeof report.hookTypes[type].loaded, `hookTypes.${type}.loaded`).toBe('boolean');
      expect(typeof report.hookTypes[type].attached, `hookTypes.${type}.attached`).toBe('boolean');
    }
    expect(report.hookTypes.tp_btf).toMatchObject({ loaded: true, attached: true, error: null });
    expect(report.hookTypes.uprobe).toMatchObject({ loaded: true, attached: true, error: null });
    expect(report.privileges.missingCapabilities).toEqual([]);
    expect(report.tracefs.mounted).toBe(true);
    expect(report.signals.find((s) => s.name === 'syscalls')?.observable).toBe(true);
    expect(report.recorder).toMatchObject({ loaded: true, attached: true, error: null });
    expect(report.verdict.canRecord).toBe(true);
  });

  it('prints a human report with a verdict and exits 0', () => {
    expect(process.geteuid?.(), 'these tests load BPF programs and need root: run vitest as root').toBe(0);
    const text = runCli(['doctor']);
    expect(text).toMatch(/^kernel {6}\S+/m);
    expect(text).toMatch(/^ {2}tp_btf +yes +yes/m);
    expect(text).toMatch(/^verdict: gpo can record/m);
  });
});
