// Turns machine facts and hook probe results into the doctor report and its verdict. Pure: tests feed it
// made-up probe results.
import type { HookProbeResult, RecorderHook } from '../native/addon.js';
import { BTF_PATH, type Privileges, type SecurityfsState, type SystemFacts, type TracefsState } from './system.js';

/** The hook types probed, each by one program named probe_<type> in bpf/probe.bpf.c. */
export const HOOK_TYPES = ['tracepoint', 'raw_tp', 'tp_btf', 'uprobe', 'fentry', 'lsm', 'kprobe'] as const;
export type HookType = (typeof HOOK_TYPES)[number];

/** What loading gpo's own recorder (bpf/record.bpf.c, with the programs chosen for this kernel) gave. */
export interface RecorderCheck {
  /** The recorder object loaded (every chosen program passed the verifier). */
  loaded: boolean;
  /** Its programs attached (and were detached at once). */
  attached: boolean;
  /** Why not, with libbpf's reason. */
  error: string | null;
  /** Per signal, the hook chosen for this kernel (native/recorder-hooks.cc, the one hook table). */
  hooks: RecorderHook[];
}

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
  /** The hook that serves it here; null when none can. */
  hook: string | null;
  /** Served: the recorder loaded and attached with the hook chosen for it. */
  observable: boolean;
  /** Why not, when not observable. */
  why: string | null;
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
  recorder: RecorderCheck;
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

function buildVerdict(facts: SystemFacts, hookTypes: Record<HookType, HookStatus>, recorder: RecorderCheck, signals: SignalStatus[]): Verdict {
  const recorderFailure = recorder.error
    ? `its recorder ${recorder.loaded ? 'loads but does not attach' : 'does not load'} (${recorder.error})`
    : 'its syscall hook (tp_btf/sys_exit) is not served';
  const canRecord = signals.find((s) => s.name === 'syscalls')?.observable ?? false;
  const canObserve = signals.filter((s) => s.observable).map((s) => s.name);
  const cannotObserve = signals.filter((s) => !s.observable).map((s) => s.name);
  const unusableHooks = HOOK_TYPES.filter((t) => !hookTypes[t].usable).map((t) => `${t}: ${failureReason(hookTypes[t])}`);

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
  if (!canRecord) summary = `gpo cannot record on this machine: ${recorderFailure}.`;
  else if (cannotObserve.length === 0) summary = 'gpo can record on this machine: every signal it observes has hooks that load and attach.';
  else summary = `gpo can record on this machine, without: ${cannotObserve.join(', ')}.`;
  return { canRecord, canObserve, cannotObserve, unusableHooks, notes, summary };
}

/** Assembles the report from machine facts, native probeHooks() results and the recorder's own load. */
export function buildReport(facts: SystemFacts, probes: HookProbeResult[], recorder: RecorderCheck): DoctorReport {
  const byProgram = new Map(probes.map((p) => [p.program, p]));

  const hookTypes = Object.fromEntries(
    HOOK_TYPES.map((type) => {
      const result = byProgram.get(`probe_${type}`);
      return [type, result ? toStatus(result) : missingStatus(type)];
    }),
  ) as Record<HookType, HookStatus>;

  const working = recorder.loaded && recorder.attached;
  const signals: SignalStatus[] = recorder.hooks.map(({ signal, hook, unavailable }) => ({
    name: signal,
    hook,
    observable: working && hook !== null,
    why: hook === null ? unavailable : working ? null : recorder.error,
  }));

  return {
    kernel: { release: facts.kernelRelease, btf: facts.btf, btfPath: BTF_PATH },
    privileges: facts.privileges,
    tracefs: facts.tracefs,
    securityfs: {
      ...facts.securityfs,
      bpfLsmListed: facts.securityfs.lsms === null ? null : facts.securityfs.lsms.includes('bpf'),
    },
    hookTypes,
    recorder,
    signals,
    verdict: buildVerdict(facts, hookTypes, recorder, signals),
  };
}
