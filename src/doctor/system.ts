// Facts about this machine that decide what gpo can attach: kernel, BTF, privileges, tracefs, securityfs.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { BTF_PATH, hasBtf, readPrivileges, type Privileges } from '../preflight/index.js';

export { BTF_PATH };
export type { Privileges };

export const TRACEFS_PATH = '/sys/kernel/tracing';
export const SECURITYFS_PATH = '/sys/kernel/security';
/** Present when the kernel can create kprobe perf events (CONFIG_KPROBE_EVENTS). */
export const KPROBE_PMU_PATH = '/sys/bus/event_source/devices/kprobe';

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
    btf: hasBtf(),
    kprobePmu: existsSync(KPROBE_PMU_PATH),
    privileges,
    tracefs: ensureTracefs(privileges),
    securityfs: readSecurityfs(),
  };
}
