// Acts on the target, read from the rows that are not syscalls: acts of other processes (ptrace,
// process_vm_*, /proc/<pid>/mem, signals, pidfd, perf), system-wide code loading (modules, BPF, uinput,
// raw devices), and injection signs inside the target (executable memory: anonymous, memfd, SysV shm,
// deleted files, writable and executable mappings; io_uring). Each has a signature without pids or times,
// so training records what is normal for this program (baseline `allowed`: signature -> rows) and scoring
// reports exactly the rest.
import type { BatchView } from '../trace/batch-view.js';
import { bpfProgType, O_ACCMODE, PROT_EXEC, PROT_WRITE, ptraceRequestName, signalName } from '../trace/linux-names.js';
import type { Anomaly, AnomalyKind, Severity } from './anomaly.js';
import type { LoadedBaseline } from '../baseline/document.js';
import type { TargetInfo } from '../trace/metadata.js';
import { defineDetector, type Learner } from './detector.js';
import { FILELESS_BACKINGS, memoryBacking, type MemoryBacking } from './paths.js';
import { sumCounts } from './merge-parts.js';
import { mergeTallies, RecordingTally } from './recording-tally.js';
import { FindingScorer, type Finding } from './row-findings.js';
import { heldMemoryActs, HeldMemoryScorer } from './held-memory.js';

export interface EventFinding {
  kind: AnomalyKind;
  severity: Severity;
  /** Stable across recordings: what happened and who did it, no pids or times. */
  signature: string;
  /** Words for the one-line summary (the actor and the act). */
  summary: string;
  evidence: Record<string, unknown>;
}

/** Requests that take control of the target or change its memory or registers. */
const PTRACE_TAMPERING = new Set([
  'PTRACE_POKETEXT',
  'PTRACE_POKEDATA',
  'PTRACE_POKEUSER',
  'PTRACE_SETREGS',
  'PTRACE_SETFPREGS',
  'PTRACE_ATTACH',
  'PTRACE_SETSIGINFO',
  'PTRACE_SETREGSET',
  'PTRACE_SEIZE',
]);

/** Signals that stop, kill or trap the target: what a debugger or a cheat's freezer sends. */
const HARSH_SIGNALS = new Set(['SIGTRAP', 'SIGKILL', 'SIGSTOP']);

/**
 * BPF program types that cannot read or write a process's memory or registers: socket filters and other
 * packet/cgroup programs (libbpf's feature probes load socket filters): low. Tracing types (kprobe,
 * tracepoint, perf_event, raw_tracepoint, tracing, lsm...) can, and unknown types are treated like them.
 */
const BPF_NO_PROCESS_ACCESS = new Set(
  [
    'SOCKET_FILTER',
    'SCHED_CLS',
    'SCHED_ACT',
    'XDP',
    'CGROUP_SKB',
    'CGROUP_SOCK',
    'LWT_IN',
    'LWT_OUT',
    'LWT_XMIT',
    'SOCK_OPS',
    'SK_SKB',
    'CGROUP_DEVICE',
    'SK_MSG',
    'CGROUP_SOCK_ADDR',
    'LWT_SEG6LOCAL',
    'LIRC_MODE2',
    'SK_REUSEPORT',
    'FLOW_DISSECTOR',
    'CGROUP_SYSCTL',
    'CGROUP_SOCKOPT',
    'SK_LOOKUP',
    'NETFILTER',
  ].map((type) => `BPF_PROG_TYPE_${type}`),
);

/** What each backing of executable memory is, in summaries. */
const BACKING_WORDS: Record<MemoryBacking, string> = {
  anonymous: 'anonymous memory',
  memfd: 'memfd memory (no file on disk)',
  sysv_shm: 'SysV shared memory',
  dev_shm: 'memory of a /dev/shm file',
  deleted: 'memory of a deleted file',
  device: 'device memory',
  file: 'file memory',
};

/** A signal's name in signatures and summaries (signal 0, an existence probe, is SIG0 there). */
function signalWord(signal: number | null): string {
  return signal === null ? 'SIG?' : signal === 0 ? 'SIG0' : signalName(signal);
}

/** Context a finding needs: which process is the target. */
export interface EventContext {
  targetPid: number;
}

function actorOf(view: BatchView, row: number): { pid: number; comm: string; exe: string; uid: number | null } {
  return { pid: view.pid[row]!, comm: view.comm(row), exe: view.str('exe', row) ?? view.comm(row), uid: view.int('uid', row) };
}

/**
 * The finding of a tampering or injection row, or null for rows that are not one (syscalls, lifecycle,
 * libraries, a process acting on itself).
 */
export function classifyEvent(view: BatchView, row: number, kind: string, context: EventContext): EventFinding | null {
  const request = view.int('request', row);
  const path = view.str('path', row);
  const target = { target_pid: view.int('target_pid', row), target_tid: view.int('target_tid', row) };
  const actor = actorOf(view, row);
  const selfAct = target.target_pid !== null && target.target_pid === actor.pid;
  const by = `${actor.comm} (pid ${actor.pid}, ${actor.exe})`;
  const on = `thread ${target.target_tid ?? target.target_pid ?? '?'}`;
  switch (kind) {
    case 'ptrace': {
      if (selfAct) return null;
      const name = ptraceRequestName(request);
      const severity: Severity = PTRACE_TAMPERING.has(name) ? 'high' : 'medium';
      return {
        kind: 'ptrace',
        severity,
        signature: `ptrace ${actor.exe} ${name}`,
        summary: `${by} ${name} on ${on}`,
        evidence: { request: name, actor, ...target, addr: view.int('addr', row) },
      };
    }
    case 'vm_read':
    case 'vm_write': {
      if (selfAct) return null;
      const verb = kind === 'vm_read' ? 'read' : 'wrote';
      const size = view.int('size', row);
      // Reading another process's memory is how external cheats (ESP, aimbots) work: no less alarming than writing.
      return {
        kind,
        severity: 'high',
        signature: `${kind} ${actor.exe}`,
        summary: `${by} ${verb} target memory with process_vm_${kind === 'vm_read' ? 'readv' : 'writev'}`,
        evidence: { actor, ...target, addr: view.int('addr', row), size },
      };
    }
    case 'proc_open': {
      if (selfAct || path === null) return null;
      const file = /\/(mem|maps|smaps|environ|pagemap|auxv|syscall)$/.exec(path)?.[1] ?? /\/(fd|map_files)\/[^/]+$/.exec(path)?.[1];
      if (file === undefined) return null;
      const writing = request !== null && (request & O_ACCMODE) !== 0;
      // mem is the process's memory itself, read or written (a memory scanner or a trainer); fd/N and
      // map_files/RANGE open the file behind one of its descriptors or mappings (a memfd holding its state):
      // writing it is writing the target.
      const link = file === 'fd' || file === 'map_files';
      const severity: Severity = file === 'mem' || (link && writing) ? 'high' : file === 'pagemap' || link ? 'medium' : 'low';
      return {
        kind: 'proc_mem',
        severity,
        signature: `proc_open ${actor.exe} ${file}${writing ? ' write' : ''}`,
        summary: `${by} opened ${path}${writing ? ' for writing' : ''}`,
        evidence: { path, flags: request, write: writing, actor, ...target },
      };
    }
    case 'signal': {
      if (selfAct || actor.pid === context.targetPid) return null;
      const name = signalWord(request);
      const severity: Severity = HARSH_SIGNALS.has(name) ? 'high' : 'medium';
      return {
        kind: 'signal',
        severity,
        signature: `signal ${actor.exe} ${name}`,
        summary: `${by} sent ${name} to ${on}`,
        evidence: { signal: name, actor, ...target },
      };
    }
    case 'pidfd':
    case 'perf_open':
      if (selfAct) return null;
      return {
        kind,
        severity: 'medium',
        signature: `${kind} ${actor.exe} ${request ?? ''}`.trimEnd(),
        summary: `${by} ${kind === 'pidfd' ? 'took a pidfd of' : 'opened a perf event on'} the target`,
        evidence: { request, actor, ...target },
      };
    case 'module_load':
      return {
        kind: 'module_load',
        severity: 'high',
        signature: `module_load ${path ?? '?'}`,
        summary: `kernel module loaded: ${path ?? '?'} by ${by}`,
        evidence: { module: path, actor },
      };
    case 'bpf_load':
      // System-wide, not aimed at the target: observers and profilers load tracing programs all the time.
      return {
        kind: 'bpf_load',
        severity: request !== null && BPF_NO_PROCESS_ACCESS.has(bpfProgType(request)) ? 'low' : 'medium',
        signature: `bpf_load ${actor.exe} ${request ?? ''}`.trimEnd(),
        summary: `BPF program (type ${request ?? '?'}) loaded by ${by}`,
        evidence: { prog_type: request, name: path, actor },
      };
    case 'device_open': {
      if (path === null) return null;
      if (path === '/dev/uinput' || path === '/dev/input/uinput')
        return {
          kind: 'uinput',
          severity: 'high',
          signature: `uinput ${actor.exe}`,
          summary: `${by} opened ${path}: it can create virtual input devices`,
          evidence: { path, actor },
        };
      const raw = path === '/dev/mem' || path === '/dev/kmem' || path === '/proc/kcore' || path === '/dev/port';
      return {
        kind: 'device_open',
        severity: raw ? 'high' : 'low',
        signature: `device_open ${actor.exe} ${path}`,
        summary: `${by} opened ${path}`,
        evidence: { path, flags: request, actor },
      };
    }
    case 'exec_memory': {
      // mmap, mprotect, pkey_mprotect, shmat(SHM_EXEC). Anonymous memory and ordinary files keep the
      // signature they always had; memory with no file on disk, or a device's, says which.
      const prot = request ?? 0;
      const writable = (prot & (PROT_WRITE | PROT_EXEC)) === (PROT_WRITE | PROT_EXEC);
      const backing = memoryBacking(path);
      const named = backing !== 'anonymous' && backing !== 'file';
      return {
        kind: 'exec_memory',
        severity: writable || FILELESS_BACKINGS.has(backing) ? 'high' : 'medium',
        signature: `exec_memory prot=${prot}${named ? ` ${backing}` : ''}`,
        summary: `${writable ? 'writable and executable' : 'executable'} ${BACKING_WORDS[backing]} (prot ${prot}${path ? `, ${path}` : ''})`,
        evidence: { prot, write_and_exec: writable, addr: view.int('addr', row), size: view.int('size', row), how: path, backing },
      };
    }
    case 'mmap_exec': {
      // The library set is the libraries detector's; a mapping both writable and executable is code that
      // can be rewritten in place (a device's memory, /dev/zero's private pages): memory, not a library.
      const prot = request ?? 0;
      if ((prot & (PROT_WRITE | PROT_EXEC)) !== (PROT_WRITE | PROT_EXEC)) return null;
      const backing = memoryBacking(path);
      return {
        kind: 'exec_memory',
        severity: 'high',
        signature: `exec_memory prot=${prot} ${backing}`,
        summary: `writable and executable mapping of ${path ?? '?'} (${BACKING_WORDS[backing]}, prot ${prot})`,
        evidence: { prot, write_and_exec: true, addr: view.int('addr', row), size: view.int('size', row), how: path, backing },
      };
    }
    case 'io_uring_setup':
      return {
        kind: 'io_uring',
        severity: 'medium',
        signature: 'io_uring',
        summary: 'io_uring set up: its operations bypass syscall tracing',
        evidence: { entries: request },
      };
    default:
      return null;
  }
}

/** The first word of every signature classifyEvent makes: an allow-file act must start with one. */
const SIGNATURE_KINDS = [
  'proc_mem_held',
  'ptrace',
  'vm_read',
  'vm_write',
  'proc_open',
  'signal',
  'pidfd',
  'perf_open',
  'module_load',
  'bpf_load',
  'uinput',
  'device_open',
  'exec_memory',
  'io_uring',
];

class ActLearner implements Learner {
  /** Signatures seen -> rows. */
  private readonly allowed = new Map<string, number>();
  private readonly tally = new RecordingTally('allowed');
  private targetPid = 0;

  beginTrace(_index: number, target: TargetInfo): void {
    this.targetPid = target.pid;
    for (const { signature } of heldMemoryActs(target)) {
      this.allowed.set(signature, (this.allowed.get(signature) ?? 0) + 1);
      this.tally.see(signature);
    }
  }

  observe(view: BatchView): void {
    for (const row of view.eventRows) {
      const finding = classifyEvent(view, row, view.kind(row), { targetPid: this.targetPid });
      if (finding === null) continue;
      this.allowed.set(finding.signature, (this.allowed.get(finding.signature) ?? 0) + 1);
      this.tally.see(finding.signature);
    }
  }

  endTrace(): void {
    this.tally.endRecording();
  }

  finish() {
    return { allowed: Object.fromEntries(this.allowed), ...this.tally.sections() };
  }
}

class ActScorer extends FindingScorer {
  private readonly allowed: ReadonlySet<string>;
  /** The baseline saw the program make executable anonymous memory (a JIT). */
  private readonly jitInBaseline: boolean;

  private readonly targetPid: number;
  /** Descriptors of the target's memory held before attach: acts without rows. */
  private readonly held: HeldMemoryScorer;

  constructor(baseline: LoadedBaseline, target: TargetInfo) {
    super();
    this.targetPid = target.pid;
    this.allowed = new Set(Object.keys(baseline.document.allowed));
    this.jitInBaseline = [...this.allowed].some((signature) => signature.startsWith('exec_memory '));
    this.held = new HeldMemoryScorer(target, this.allowed);
  }

  override observe(view: BatchView): void {
    this.held.observe(view);
    super.observe(view);
  }

  override flush(): Anomaly[] {
    return [...this.held.anomalies(false), ...super.flush()];
  }

  override finish(): Anomaly[] {
    return [...this.held.anomalies(true), ...super.finish()];
  }

  protected finding(view: BatchView, row: number, kind: string): Finding | null {
    const act = classifyEvent(view, row, kind, { targetPid: this.targetPid });
    if (act === null || this.allowed.has(act.signature)) return null;
    const key = `${view.pid[row]!} ${act.signature}`;
    const evidence = { ...act.evidence, signature: act.signature };
    // A program that never made executable anonymous memory in training (no JIT) starting to is code
    // injection, even when the pages are not writable any more (write, then mprotect to RX).
    if (act.kind === 'exec_memory' && !this.jitInBaseline)
      return { kind: act.kind, severity: 'high', key, summary: `${act.summary}; the baseline never had any`, evidence };
    // A process's pidfds of the target and the descriptors it took with them (request: pidfd_open's
    // flags, pidfd_getfd's descriptor; nr is not kept on act rows) are one act, however many.
    if (act.kind === 'pidfd')
      return {
        kind: 'pidfd',
        severity: act.severity,
        key: `${view.pid[row]!} pidfd`,
        summary: act.summary,
        evidence,
        gather: { requests: view.int('request', row) },
      };
    return { kind: act.kind, severity: act.severity, key, summary: act.summary, evidence };
  }
}

export const acts = defineDetector(['allowed'], ActLearner, ActScorer, {
  // Rows seen per signature add up.
  merge: (parts) => ({ allowed: sumCounts(parts.map((part) => part.allowed)), ...mergeTallies(parts, ['allowed']) }),
  allows: {
    // A signature as the anomaly's evidence.signature shows it; 0 rows: allowed by the user, never seen.
    act(document, signature) {
      if (!SIGNATURE_KINDS.includes(signature.split(' ')[0]!))
        throw new Error(
          `not an act signature: ${JSON.stringify(signature)} (it starts with one of ${SIGNATURE_KINDS.join(', ')}; copy it from an anomaly's evidence.signature)`,
        );
      document.allowed = sumCounts([document.allowed, { [signature]: 0 }]);
    },
  },
});
