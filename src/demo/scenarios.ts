// The demo's scenarios: clean runs of the demo game (training and held-out) and one run per cheat, each
// with the anomaly kinds that count as catching it, and how a row of the demo table is judged from a
// score report. Shared by `gpo demo`, scripts/make-recordings.sh and the offline recordings test.
import type { Anomaly, AnomalyKind } from '../detectors/anomaly.js';
import { severityRank } from '../detectors/anomaly.js';
import type { ScoreReport } from '../score/score-trace.js';

export interface Scenario {
  name: string;
  seed: number;
  /** High-severity anomalies of these kinds detect the scenario; none for clean runs. */
  kinds: AnomalyKind[];
  /** A cheat program (out/demo/cheats/NAME) run against the game's pid once it has started. */
  external?: { program: string; args: string[] };
  /** Cheat libraries loaded into the game at start (LD_PRELOAD), and variables they read. */
  preload?: { library: string; env?: Record<string, string> };
}

/** Seeds of the clean runs the baseline is trained on. */
export const TRAINING_SEEDS = [1, 2, 3, 4, 5];
/** Seeds of clean runs held out from training: they must give no high-severity anomaly. */
export const HELD_OUT_SEEDS = [101, 102, 103, 104, 105];

export const CHEAT_SCENARIOS: Scenario[] = [
  { name: 'vm-reader', seed: 11, kinds: ['vm_read'], external: { program: 'vm-reader', args: [] } },
  { name: 'vm-writer', seed: 12, kinds: ['vm_write'], external: { program: 'vm-writer', args: ['999'] } },
  { name: 'procmem-reader', seed: 13, kinds: ['proc_mem'], external: { program: 'procmem-reader', args: [] } },
  { name: 'procmem-writer', seed: 14, kinds: ['proc_mem'], external: { program: 'procmem-writer', args: ['999'] } },
  { name: 'ptrace-trainer', seed: 15, kinds: ['ptrace'], external: { program: 'ptrace-trainer', args: ['999', '999'] } },
  // The injector's ptrace, and the library it makes the game dlopen.
  { name: 'inject', seed: 16, kinds: ['ptrace', 'new_library', 'unexpected_libcall'], external: { program: 'inject', args: ['@cheats/libpayload.so'] } },
  { name: 'speedhack', seed: 17, kinds: ['preload', 'new_library'], preload: { library: 'libspeedhack.so', env: { GPO_SPEEDHACK: '2' } } },
  { name: 'jit-exec', seed: 18, kinds: ['exec_memory'], preload: { library: 'libjit.so' } },
  { name: 'fileless', seed: 19, kinds: ['fileless_exec'], preload: { library: 'libfileless.so' } },
  // Its opens happen in io_uring's workers, with no syscall: the recorder sees them at completion.
  { name: 'uring-reader', seed: 20, kinds: ['proc_mem'], external: { program: 'uring-reader', args: [] } },
];

export function cleanScenario(seed: number): Scenario {
  return { name: `clean seed ${seed}`, seed, kinds: [] };
}

export function demoScenarios(heldOutSeeds: readonly number[] = HELD_OUT_SEEDS): Scenario[] {
  return [...heldOutSeeds.map(cleanScenario), ...CHEAT_SCENARIOS];
}

/** File name of a scenario's trace in a recordings directory. */
export function traceName(scenario: Scenario): string {
  return `${scenario.name.replace(/ /g, '-')}.parquet`;
}

/** One row of the demo table (the --json keys), plus what the judgement was based on. */
export interface DemoRow {
  scenario: string;
  /** "yes", "no", or "no (why gpo cannot see it)". */
  detected: string;
  /** The top anomaly: the first high one of a detecting kind; else the most severe one; '' without any. */
  kind: string;
  summary: string;
  /** From the attack (cheat started, or the game launched with it) to the top anomaly; null without one. */
  latency_ms: number | null;
  /** gpo demo --live: from the attack to gpo watch printing its first detecting alert; null without one. */
  live_ms?: number | null;
}

export interface Judgement {
  row: DemoRow;
  /** The scenario came out as it should: cheats detected, clean runs without high anomalies. */
  ok: boolean;
  high: number;
  top: Anomaly | null;
}

/**
 * The verdict on one scenario from its score report. attackNs: CLOCK_MONOTONIC ns of the attack (an external
 * cheat's start), null when unknown or for a preloaded cheat.
 */
export function judge(scenario: Scenario, report: ScoreReport, attackNs: bigint | null): Judgement {
  // A preloaded cheat's attack starts when the game execs with it: where the preload anomaly is dated.
  if (attackNs === null && scenario.preload) attackNs = report.anomalies.find((a) => a.kind === 'preload')?.first_ts_ns ?? null;
  const high = report.anomalies.filter((a) => a.severity === 'high');
  const hits = high.filter((a) => scenario.kinds.includes(a.kind));
  // Anomalies are sorted by first time: the first hit is when gpo caught the cheat.
  const mostSevere = [...report.anomalies].sort((a, b) => severityRank(b.severity) - severityRank(a.severity))[0];
  const top = hits[0] ?? mostSevere ?? null;
  let detected: string;
  let ok: boolean;
  if (scenario.kinds.length === 0) {
    detected = high.length > 0 ? 'yes' : 'no';
    ok = high.length === 0;
  } else if (hits.length > 0) {
    detected = 'yes';
    ok = true;
  } else {
    detected = 'no';
    ok = false;
  }
  const summary = top === null ? 'no anomalies' : `${top.severity}: ${top.summary}`;
  const latency = top !== null && attackNs !== null && hits.length > 0 ? Math.round(Number(top.first_ts_ns - attackNs) / 1e4) / 100 : null;
  return { row: { scenario: scenario.name, detected, kind: top?.kind ?? '', summary, latency_ms: latency }, ok, high: high.length, top };
}
