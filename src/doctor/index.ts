// `gpo doctor` library: what this kernel lets gpo load and attach, found by trying.
import { loadAddon } from '../native/addon.js';
import { buildReport, type DoctorReport, type RecorderCheck } from './report.js';
import { readSystemFacts } from './system.js';

export { formatReport } from './format.js';
export { buildReport, HOOK_TYPES } from './report.js';
export type { DoctorReport, HookStatus, HookType, RecorderCheck, SignalStatus, Verdict } from './report.js';

export interface DoctorOptions {
  /** Echo libbpf's log (verifier output, attach errors) to stderr. */
  verbose?: boolean;
}

/** Reads machine facts (mounting tracefs if missing and privileged), probes every hook type, builds the verdict. */
export function runDoctor(options: DoctorOptions = {}): DoctorReport {
  const facts = readSystemFacts();
  const probes = loadAddon().probeHooks({ verbose: options.verbose ?? false });
  return buildReport(facts, probes, checkRecorder(options.verbose ?? false));
}

/** Loads gpo's recorder as `gpo record` does (same programs chosen for this kernel), attaches and detaches
 * it: the verdict is what record will meet, not a guess from probe programs. */
export function checkRecorder(verbose: boolean): RecorderCheck {
  const addon = loadAddon();
  let recorder;
  try {
    recorder = new addon.Recorder({
      ringBufferBytes: 1 << 16,
      followChildren: true,
      durations: false,
      observeActs: true,
      batchRows: 1024,
      verbose,
    });
  } catch (err) {
    return { loaded: false, attached: false, error: (err as Error).message.replace(/^cannot load the BPF recorder: /, ''), hooks: [] };
  }
  try {
    const error = recorder.attachCheck() ?? null;
    return { loaded: true, attached: error === null, error, hooks: recorder.hooks() };
  } finally {
    recorder.close();
  }
}
