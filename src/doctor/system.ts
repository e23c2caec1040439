// Facts about this machine that decide what gpo can attach: kernel, BTF, privileges, tracefs, securityfs.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';

export const BTF_PATH = '/sys/kernel/btf/vmlinux';
export const TRACEFS_PATH = '/sys/kernel/tracing';
export const SECURITYFS_PATH = '/sys/kernel/security';
/** Present when the kernel can create kprobe perf events (CONFIG_KPROBE_EVENTS). */
export const KPROBE_PMU_PATH = '/sys/bus/event_source/devices/kprobe';

/** The capabilities BPF tracing needs, by bit number in CapEff. */
export const BPF_CAPABILITIES = { CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 } as const;
export type BpfCapability = keyof typeof BPF_CAPABILITIES;

export interface Privileges {
  euid: number;
  root: boolean;
  /** Which of CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN are not in the effective set. */
  missingCapabilities: BpfCapability[];
}

export interface TracefsState {
  path: string;
  mounted: boolean;
  /** True when this run mounted it (it was missing and we are privileged). */
  mountedByDoctor: boolean;
  mountError: string | null;
}

export interface SecurityfsState {
  path: string;
  mounted: boolean;
  /** Active LSMs from <securityfs>/lsm; null when securityfs is not mounted. */
  lsms: string[] | null;
  /** Lockdown mode from <securityfs>/lockdown ("none", "integrity", "confidentiality"); null if unknown. */
  lockdown: string | null;
}

export interface SystemFacts {
  kernelRelease: string;
  btf: boolean;
  kprobePmu: boolean;
  privileges: Privileges;
  tracefs: TracefsState;
  securityfs: SecurityfsState;
}

/** The effective capability mask from /proc/<pid>/status text. */
export function parseCapEff(status: string): bigint {
  const match = /^CapEff:\s*([0-9a-f]+)$/im.exec(status);
  return match ? BigInt(`0x${match[1]}`) : 0n;
}

export function missingCapabilities(capEff: bigint): BpfCapability[] {
  return (Object.keys(BPF_CAPABILITIES) as BpfCapability[])
    .filter((name) => (capEff & (1n << BigInt(BPF_CAPABILITIES[name]))) === 0n)
    .sort();
}

/** Whether /proc/self/mounts text has a filesystem of this type mounted at this path. */
export function isMounted(mounts: string, path: string, type: string): boolean {
  return mounts.split('\n').some((line) => {
    const [, mountPoint, fsType] = line.split(' ');
    return mountPoint === path && fsType === type;
  });
}

/** The selected entry of a securityfs lockdown file: "none [integrity] confidentiality" -> "integrity". */
export function parseLockdown(text: string): string | null {
  return /\[(\w+)\]/.exec(text)?.[1] ?? null;
}

function readMounts(): string {
  return readFileSync('/proc/self/mounts', 'utf8');
}

function readOptional(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export function readPrivileges(): Privileges {
  const euid = process.geteuid?.() ?? -1;
  return {
    euid,
    root: euid === 0,
    missingCapabilities: missingCapabilities(parseCapEff(readFileSync('/proc/self/status', 'utf8'))),
  };
}

/**
 * libbpf attaches classic tracepoints (`tracepoint/...`) through tracefs; tp_btf and raw_tp do not need it.
 * Mounts it when missing and we hold CAP_SYS_ADMIN; otherwise reports it missing.
 */
export function ensureTracefs(privileges: Privileges): TracefsState {
  const state: TracefsState = { path: TRACEFS_PATH, mounted: false, mountedByDoctor: false, mountError: null };
  if (isMounted(readMounts(), TRACEFS_PATH, 'tracefs')) return { ...state, mounted: true };
  if (privileges.missingCapabilities.includes('CAP_SYS_ADMIN')) return state;
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS_PATH], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return { ...state, mountError: stderr || (err as Error).message };
  }
  const mounted = isMounted(readMounts(), TRACEFS_PATH, 'tracefs');
  return { ...state, mounted, mountedByDoctor: mounted };
}

export function readSecurityfs(): SecurityfsState {
  const mounted = isMounted(readMounts(), SECURITYFS_PATH, 'securityfs');
  const lsm = mounted ? readOptional(`${SECURITYFS_PATH}/lsm`) : null;
  const lockdown = mounted ? readOptional(`${SECURITYFS_PATH}/lockdown`) : null;
  return {
    path: SECURITYFS_PATH,
    mounted,
    lsms: lsm === null ? null : lsm.trim().split(',').filter(Boolean),
    lockdown: lockdown === null ? null : parseLockdown(lockdown),
  };
}

/** Reads the machine's facts; mounts tracefs if missing and privileged (so the tracepoint probe can attach). */
export function readSystemFacts(): SystemFacts {
  const privileges = readPrivileges();
  return {
    kernelRelease: release(),
    btf: existsSync(BTF_PATH),
    kprobePmu: existsSync(KPROBE_PMU_PATH),
    privileges,
    tracefs: ensureTracefs(privileges),
    securityfs: readSecurityfs(),
  };
}
