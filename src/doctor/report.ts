// Turns machine facts and hook probe results into the doctor report and its verdict. Pure: tests feed it
// made-up probe results.
import type { HookProbeResult } from '../native/addon.js';
import { BTF_PATH, type Privileges, type SecurityfsState, type SystemFacts, type TracefsState } from './system.js';

/** The hook types probed, each by one program named probe_<type> in bpf/probe.bpf.c. */
export const HOOK_TYPES = ['tracepoint', 'raw_tp', 'tp_btf', 'uprobe', 'fentry', 'lsm', 'kprobe'] as const;
export type HookType = (typeof HOOK_TYPES)[number];

/** What gpo observes and the hooks its recorder attaches for it (all must attach). */
export const SIGNALS = [
  { name: 'syscalls', hooks: ['tp_btf/sys_exit'] },
  {
    name: 'process lifecycle',
    hooks: ['tp_btf/sched_process_fork', 'tp_btf/sched_process_exec', 'tp_btf/sched_process_exit'],
  },
  { name: 'thread names', hooks: ['tp_btf/task_rename'] },
  { name: 'context switches', hooks: ['tp_btf/sched_switch'] },
  // Acts of other processes, system-wide events and in-target memory: syscall arguments read at exit,
  // files resolved from kernel objects.
  { name: 'tampering (ptrace, process_vm_*, /proc/PID opens, signals, pidfd, perf)', hooks: ['tp_btf/sys_exit'] },
  { name: 'system-wide (module and bpf loads, device opens)', hooks: ['tp_btf/sys_exit'] },
  { name: 'in-target memory (exec mappings, exec memory, memfd, io_uring_setup)', hooks: ['tp_btf/sys_exit'] },
  { name: 'opens through io_uring', hooks: ['tp_btf/io_uring_complete'] },
  { name: 'library calls', hooks: ['uprobe'] },
] as const;

export interface HookStatus {
  section: string;
  loaded: boolean;
  attached: boolean;
  /** Loaded and attached: gpo can use it here. */
  usable: boolean;
  error: string | null;
  errno: string | null;
  detail: string | null;
}

export interface SignalStatus {
  name: string;
  /** Every hook gpo attaches for this signal, as probed here. */
  hooks: HookStatus[];
  /** All its hooks load and attach. */
  observable: boolean;
}

export interface Verdict {
  /** gpo can record at all: its syscall hook attaches. */
  canRecord: boolean;
  canObserve: string[];
  cannotObserve: string[];
  /** Hook types that do not work here, each with why ("fentry: refused at load (EPERM)"). */
  unusableHooks: string[];
  notes: string[];
  summary: string;
}

export interface DoctorReport {
  kernel: { release: string; btf: boolean; btfPath: string };
  privileges: Privileges;
  tracefs: TracefsState;
  securityfs: SecurityfsState & { bpfLsmListed: boolean | null };
  hookTypes: Record<HookType, HookStatus>;
  signals: SignalStatus[];
  verdict: Verdict;
}

function toStatus(result: HookProbeResult): HookStatus {
  const { section, loaded, attached, error, errno, detail } = result;
  return { section, loaded, attached, usable: loaded && attached, error, errno, detail };
}

/** A missing probe result (a probe program removed from probe.bpf.c) counts as not loaded. */
function missingStatus(section: string): HookStatus {
  return {
    section,
    loaded: false,
    attached: false,
    usable: false,
    error: 'not probed',
    errno: null,
    detail: null,
  };
}

/** Why a hook does not work, in a few words: "refused at load (EPERM)" or "loads, attach fails (ENOENT)". */
export function failureReason(status: HookStatus): string {
  const code = status.errno ?? status.error ?? 'unknown error';
  return status.loaded ? `loads, attach fails (${code})` : `refused at load (${code})`;
}

function buildVerdict(facts: SystemFacts, hookTypes: Record<HookType, HookStatus>, signals: SignalStatus[]): Verdict {
  const canRecord = signals.find((s) => s.name === 'syscalls')?.observable ?? false;
  const canObserve = signals.filter((s) => s.observable).map((s) => s.name);
  const cannotObserve = signals.filter((s) => !s.observable).map((s) => s.name);
  const unusableHooks = HOOK_TYPES.filter((t) => !hookTypes[t].usable).map(
    (t) => `${t}: ${failureReason(hookTypes[t])}`,
  );

  const notes: string[] = [];
  const { missingCapabilities } = facts.privileges;
  if (missingCapabilities.length > 0) {
    notes.push(`missing ${missingCapabilities.join(', ')}: run gpo as root (sudo) to load BPF programs`);
  }
  if (!facts.btf) notes.push(`no kernel BTF at ${BTF_PATH}: tp_btf hooks and CO-RE need a kernel built with BTF`);
  if (facts.tracefs.mountedByDoctor) {
    notes.push(`tracefs was not mounted; gpo doctor mounted it at ${facts.tracefs.path}`);
  } else if (!facts.tracefs.mounted) {
    const why = facts.tracefs.mountError ? `mount failed: ${facts.tracefs.mountError}` : 'needs root to mount';
    notes.push(`tracefs is not mounted at ${facts.tracefs.path} (${why}); classic tracepoints cannot attach without it`);
  }
  if (!hookTypes.kprobe.usable && !facts.kprobePmu) {
    notes.push('kprobe: this kernel has no kprobe events (CONFIG_KPROBES/CONFIG_KPROBE_EVENTS off)');
  }
  if (!hookTypes.lsm.usable && facts.securityfs.lsms?.includes('bpf')) {
    notes.push('lsm: BPF LSM is listed in the active LSMs, but loading an LSM program is refused');
  }
  const fallbacks = (['fentry', 'lsm', 'kprobe'] as const).filter((t) => !hookTypes[t].usable);
  if (canRecord && fallbacks.length > 0) {
    notes.push(`${fallbacks.join(', ')} unavailable: gpo uses tracepoints (tp_btf) in their place`);
  }

  let summary: string;
  if (!canRecord) summary = 'gpo cannot record on this machine: its syscall hook (tp_btf/sys_exit) does not attach.';
  else if (cannotObserve.length === 0) summary = 'gpo can record on this machine: every signal it observes has hooks that load and attach.';
  else summary = `gpo can record on this machine, without: ${cannotObserve.join(', ')}.`;
  return { canRecord, canObserve, cannotObserve, unusableHooks, notes, summary };
}

/** Assembles the report from machine facts and native probeHooks() results. */
export function buildReport(facts: SystemFacts, probes: HookProbeResult[]): DoctorReport {
  const byProgram = new Map(probes.map((p) => [p.program, p]));
  const bySection = new Map(probes.map((p) => [p.section, p]));

  const hookTypes = Object.fromEntries(
    HOOK_TYPES.map((type) => {
      const result = byProgram.get(`probe_${type}`);
      return [type, result ? toStatus(result) : missingStatus(type)];
    }),
  ) as Record<HookType, HookStatus>;

  const signals: SignalStatus[] = SIGNALS.map(({ name, hooks }) => {
    const statuses = hooks.map((hook): HookStatus => {
      // A bare hook type ("uprobe") stands for that type's probe; a section names one program.
      if ((HOOK_TYPES as readonly string[]).includes(hook)) return hookTypes[hook as HookType];
      const result = bySection.get(hook);
      return result ? toStatus(result) : missingStatus(hook);
    });
    return { name, hooks: statuses, observable: statuses.every((s) => s.usable) };
  });

  return {
    kernel: { release: facts.kernelRelease, btf: facts.btf, btfPath: BTF_PATH },
    privileges: facts.privileges,
    tracefs: facts.tracefs,
    securityfs: {
      ...facts.securityfs,
      bpfLsmListed: facts.securityfs.lsms === null ? null : facts.securityfs.lsms.includes('bpf'),
    },
    hookTypes,
    signals,
    verdict: buildVerdict(facts, hookTypes, signals),
  };
}
