// `gpo doctor` library: what this kernel lets gpo load and attach, found by trying.
import { loadAddon } from '../native/addon.js';
import { buildReport, type DoctorReport } from './report.js';
import { readSystemFacts } from './system.js';

export { formatReport } from './format.js';
export { buildReport, HOOK_TYPES, SIGNALS } from './report.js';
export type { DoctorReport, HookStatus, HookType, SignalStatus, Verdict } from './report.js';

export interface DoctorOptions {
  /** Echo libbpf's log (verifier output, attach errors) to stderr. */
  verbose?: boolean;
}

/** Reads machine facts (mounting tracefs if missing and privileged), probes every hook type, builds the verdict. */
export function runDoctor(options: DoctorOptions = {}): DoctorReport {
  const facts = readSystemFacts();
  const probes = loadAddon().probeHooks({ verbose: options.verbose ?? false });
  return buildReport(facts, probes);
}
