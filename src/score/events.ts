// The rows that are not syscalls, read as findings: acts of other processes on the target (ptrace,
// process_vm_*, /proc/<pid>/mem, signals, pidfd, perf), system-wide code loading (modules, BPF, uinput),
// and injection signs inside the target (executable anonymous memory, fileless exec, io_uring). Each has
// a signature without pids or times, so training can record what is normal for this program and scoring
// can allow exactly that.
import type { AnomalyKind, Severity } from './anomaly.js';
import type { BatchView } from './batch-view.js';

export interface EventFinding {
  kind: AnomalyKind;
  severity: Severity;
  /** Stable across recordings: what happened and who did it, no pids or times. */
  signature: string;
  /** Words for the one-line summary (the actor and the act). */
  summary: string;
  evidence: Record<string, unknown>;
}

const PTRACE_REQUESTS: Record<number, string> = {
  0: 'PTRACE_TRACEME', 1: 'PTRACE_PEEKTEXT', 2: 'PTRACE_PEEKDATA', 3: 'PTRACE_PEEKUSER', 4: 'PTRACE_POKETEXT',
  5: 'PTRACE_POKEDATA', 6: 'PTRACE_POKEUSER', 7: 'PTRACE_CONT', 8: 'PTRACE_KILL', 9: 'PTRACE_SINGLESTEP',
  12: 'PTRACE_GETREGS', 13: 'PTRACE_SETREGS', 14: 'PTRACE_GETFPREGS', 15: 'PTRACE_SETFPREGS', 16: 'PTRACE_ATTACH',
  17: 'PTRACE_DETACH', 24: 'PTRACE_SYSCALL', 0x4200: 'PTRACE_SETOPTIONS', 0x4201: 'PTRACE_GETEVENTMSG',
  0x4202: 'PTRACE_GETSIGINFO', 0x4203: 'PTRACE_SETSIGINFO', 0x4204: 'PTRACE_GETREGSET', 0x4205: 'PTRACE_SETREGSET',
  0x4206: 'PTRACE_SEIZE', 0x4207: 'PTRACE_INTERRUPT', 0x4208: 'PTRACE_LISTEN',
};
/** Requests that take control of the target or change its memory or registers. */
const PTRACE_TAMPERING = new Set([4, 5, 6, 13, 15, 16, 0x4203, 0x4205, 0x4206]);

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE',
  9: 'SIGKILL', 10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
  17: 'SIGCHLD', 18: 'SIGCONT', 19: 'SIGSTOP', 20: 'SIGTSTP',
};
/** Signals that stop, kill or trap the target: what a debugger or a cheat's freezer sends. */
const HARSH_SIGNALS = new Set([5, 9, 19]);

/**
 * BPF program types that cannot read or write a process's memory or registers: socket filters and other
 * packet/cgroup programs (libbpf's feature probes load socket filters): low. Tracing types (kprobe,
 * tracepoint, perf_event, raw_tracepoint, tracing, lsm...) can, and unknown types are treated like them.
 */
const BPF_NO_PROCESS_ACCESS = new Set([
  1, // SOCKET_FILTER
  3, // SCHED_CLS
  4, // SCHED_ACT
  6, // XDP
  8, // CGROUP_SKB
  9, // CGROUP_SOCK
  10, // LWT_IN
  11, // LWT_OUT
  12, // LWT_XMIT
  13, // SOCK_OPS
  14, // SK_SKB
  15, // CGROUP_DEVICE
  16, // SK_MSG
  18, // CGROUP_SOCK_ADDR
  19, // LWT_SEG6LOCAL
  20, // LIRC_MODE2
  21, // SK_REUSEPORT
  22, // FLOW_DISSECTOR
  23, // CGROUP_SYSCTL
  25, // CGROUP_SOCKOPT
  30, // SK_LOOKUP
  32, // NETFILTER
]);

const PROT_WRITE = 2;
const PROT_EXEC = 4;
const O_ACCMODE = 3;

export function ptraceRequestName(request: number | null): string {
  return request === null ? 'PTRACE_?' : (PTRACE_REQUESTS[request] ?? `PTRACE_${request}`);
}

export function signalName(signal: number | null): string {
  return signal === null ? 'SIG?' : (SIGNALS[signal] ?? `SIG${signal}`);
}

/** Paths an exec can only have when the program runs from memory, not from a file on disk. */
export function isFilelessPath(path: string): boolean {
  return /^(\/memfd:|memfd:|\/proc\/(self|\d+)\/fd\/|\/dev\/fd\/)/.test(path) || path.endsWith(' (deleted)');
}

/** Directories where nothing a program normally loads lives: writable by anyone, or memory. */
export function isSuspiciousLocation(path: string): boolean {
  return /^(\/tmp\/|\/var\/tmp\/|\/dev\/shm\/|\/run\/user\/|\/proc\/|\/memfd:|memfd:)/.test(path) || path.endsWith(' (deleted)');
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
      const severity: Severity = request !== null && PTRACE_TAMPERING.has(request) ? 'high' : 'medium';
      return { kind: 'ptrace', severity, signature: `ptrace ${actor.exe} ${name}`, summary: `${by} ${name} on ${on}`, evidence: { request: name, actor, ...target, addr: view.int('addr', row) } };
    }
    case 'vm_read':
    case 'vm_write': {
      if (selfAct) return null;
      const verb = kind === 'vm_read' ? 'read' : 'wrote';
      const size = view.int('size', row);
      // Reading another process's memory is how external cheats (ESP, aimbots) work: no less alarming than writing.
      return { kind, severity: 'high', signature: `${kind} ${actor.exe}`, summary: `${by} ${verb} target memory with process_vm_${kind === 'vm_read' ? 'readv' : 'writev'}`, evidence: { actor, ...target, addr: view.int('addr', row), size } };
    }
    case 'proc_open': {
      if (selfAct || path === null) return null;
      const file = /\/(mem|maps|smaps|environ|pagemap|auxv|syscall)$/.exec(path)?.[1];
      if (file === undefined) return null;
      const writing = request !== null && (request & O_ACCMODE) !== 0;
      // mem is the process's memory itself, read or written (a memory scanner or a trainer).
      const severity: Severity = file === 'mem' ? 'high' : file === 'pagemap' ? 'medium' : 'low';
      return { kind: 'proc_mem', severity, signature: `proc_open ${actor.exe} ${file}${writing ? ' write' : ''}`, summary: `${by} opened ${path}${writing ? ' for writing' : ''}`, evidence: { path, flags: request, write: writing, actor, ...target } };
    }
    case 'signal': {
      if (selfAct || actor.pid === context.targetPid) return null;
      const name = signalName(request);
      const severity: Severity = request !== null && HARSH_SIGNALS.has(request) ? 'high' : 'medium';
      return { kind: 'signal', severity, signature: `signal ${actor.exe} ${name}`, summary: `${by} sent ${name} to ${on}`, evidence: { signal: name, actor, ...target } };
    }
    case 'pidfd':
    case 'perf_open':
      if (selfAct) return null;
      return { kind, severity: 'medium', signature: `${kind} ${actor.exe} ${request ?? ''}`.trimEnd(), summary: `${by} ${kind === 'pidfd' ? 'took a pidfd of' : 'opened a perf event on'} the target`, evidence: { request, actor, ...target } };
    case 'module_load':
      return { kind: 'module_load', severity: 'high', signature: `module_load ${path ?? '?'}`, summary: `kernel module loaded: ${path ?? '?'} by ${by}`, evidence: { module: path, actor } };
    case 'bpf_load':
      // System-wide, not aimed at the target: observers and profilers load tracing programs all the time.
      return { kind: 'bpf_load', severity: request !== null && BPF_NO_PROCESS_ACCESS.has(request) ? 'low' : 'medium', signature: `bpf_load ${actor.exe} ${request ?? ''}`.trimEnd(), summary: `BPF program (type ${request ?? '?'}) loaded by ${by}`, evidence: { prog_type: request, name: path, actor } };
    case 'device_open': {
      if (path === null) return null;
      if (path === '/dev/uinput' || path === '/dev/input/uinput')
        return { kind: 'uinput', severity: 'high', signature: `uinput ${actor.exe}`, summary: `${by} opened ${path}: it can create virtual input devices`, evidence: { path, actor } };
      const raw = path === '/dev/mem' || path === '/dev/kmem' || path === '/proc/kcore' || path === '/dev/port';
      return { kind: 'device_open', severity: raw ? 'high' : 'low', signature: `device_open ${actor.exe} ${path}`, summary: `${by} opened ${path}`, evidence: { path, flags: request, actor } };
    }
    case 'exec_memory': {
      const prot = request ?? 0;
      const writable = (prot & (PROT_WRITE | PROT_EXEC)) === (PROT_WRITE | PROT_EXEC);
      return {
        kind: 'exec_memory',
        severity: writable ? 'high' : 'medium',
        signature: `exec_memory prot=${prot}`,
        summary: `${writable ? 'writable and executable' : 'executable'} anonymous memory (prot ${prot}${path ? `, ${path}` : ''})`,
        evidence: { prot, write_and_exec: writable, addr: view.int('addr', row), size: view.int('size', row), how: path },
      };
    }
    case 'io_uring_setup':
      return { kind: 'io_uring', severity: 'medium', signature: 'io_uring', summary: 'io_uring set up: its operations bypass syscall tracing', evidence: { entries: request } };
    default:
      return null;
  }
}
