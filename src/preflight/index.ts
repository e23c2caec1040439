// Preflight checks shared by record, demo and doctor: one place says what gpo needs of the machine.
import { requireBtf } from './kernel.js';
import { requireRecordingPrivileges } from './privileges.js';

export { BTF_PATH, hasBtf, requireBtf } from './kernel.js';
export { BPF_CAPABILITIES, missingCapabilities, parseCapEff, readPrivileges, requireRecordingPrivileges, requireRoot } from './privileges.js';
export type { BpfCapability, Privileges } from './privileges.js';

/** Before recording: privileges to load BPF programs, and a kernel with BTF. One-line errors (GpoError). */
export function preflightRecording(): void {
  requireRecordingPrivileges();
  requireBtf();
}
