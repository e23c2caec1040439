// Who we run as: root, or which of the capabilities BPF tracing needs are missing.
import { readFileSync } from 'node:fs';
import { GpoError } from '../errors.js';

/** The capabilities BPF tracing needs, by bit number in CapEff. */
export const BPF_CAPABILITIES = { CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 } as const;
export type BpfCapability = keyof typeof BPF_CAPABILITIES;

export interface Privileges {
  euid: number;
  root: boolean;
  /** Which of CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN are not in the effective set. */
  missingCapabilities: BpfCapability[];
}

/** The effective capability mask from /proc/<pid>/status text. */
export function parseCapEff(status: string): bigint {
  const match = /^CapEff:\s*([0-9a-f]+)$/im.exec(status);
  return match ? BigInt(`0x${match[1]}`) : 0n;
}

export function missingCapabilities(capEff: bigint): BpfCapability[] {
  return (Object.keys(BPF_CAPABILITIES) as BpfCapability[]).filter((name) => (capEff & (1n << BigInt(BPF_CAPABILITIES[name]))) === 0n).sort();
}

export function readPrivileges(): Privileges {
  const euid = process.geteuid?.() ?? -1;
  return {
    euid,
    root: euid === 0,
    missingCapabilities: missingCapabilities(parseCapEff(readFileSync('/proc/self/status', 'utf8'))),
  };
}

/** Recording loads BPF programs: root, or CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN stands in for both). */
export function requireRecordingPrivileges(): void {
  const p = readPrivileges();
  if (p.root) return;
  const needed = p.missingCapabilities.includes('CAP_SYS_ADMIN') ? p.missingCapabilities.filter((c) => c !== 'CAP_SYS_ADMIN') : [];
  if (needed.length > 0 || p.missingCapabilities.length === 3)
    throw new GpoError(`recording needs root, or CAP_BPF and CAP_PERFMON (missing: ${p.missingCapabilities.join(', ')})`);
}

/** Root itself (the demo's cheats ptrace the game as well as recording it). */
export function requireRoot(why: string): void {
  if (!readPrivileges().root) throw new GpoError(`${why}: run it as root`);
}
