// `gpo demo`: records clean runs of the demo game, trains a baseline on them, then records the game under
// each cheat (and clean held-out runs), scores every recording and judges it. Recordings run one after
// another (two cores: a parallel run would be noise in the game's timing), each in a child process
// (record-worker) so the game's output and loader environment stay out of gpo's.
import { execFile, fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { LoadedBaseline } from '../baseline/document.js';
import { parseBaseline } from '../detectors/load-baseline.js';
import { preflightRecording, requireRoot } from '../preflight/index.js';
import { baselineText, trainBaseline } from '../train/train.js';
import { GpoError } from '../errors.js';
import { packageRoot } from '../native/addon.js';
import { scoreTrace } from '../score/score-trace.js';
import { openTrace } from '../trace/reader.js';
import type { RecordJob, WorkerMessage } from './record-worker.js';
import { demoScenarios, judge, traceName, TRAINING_SEEDS, HELD_OUT_SEEDS, cleanScenario, type DemoRow, type Judgement, type Scenario } from './scenarios.js';

export interface DemoOptions {
  /** Seeds of the clean training runs. */
  trainingSeeds?: readonly number[];
  /** Seeds of the clean held-out runs scored as scenarios. */
  heldOutSeeds?: readonly number[];
  /** Only these scenarios (names), besides the clean held-out runs. */
  only?: readonly string[];
  /** Game seconds per run. */
  durationSeconds?: number;
  /** Keep the traces and baseline here (stable names) instead of a temporary directory. */
  saveTo?: string;
  /** One line per step, for a progress display. */
  onProgress?: (line: string) => void;
  /** Watch the scenario runs live too (gpo watch): the table gets each cheat's time to the live alert. */
  live?: boolean;
}

export interface ScenarioResult extends Judgement {
  scenario: Scenario;
  trace: string;
  attackNs: bigint | null;
  /** What the cheat itself reported (its JSON line, or the game's stderr lines from a loaded library). */
  cheatReport: string;
}

/** An anomaly gpo watch printed during a live run. */
interface LiveAlert {
  kind: string;
  severity: string;
  firstNs: bigint;
  detectedNs: bigint;
}

export interface DemoResult {
  rows: DemoRow[];
  results: ScenarioResult[];
  baseline: string;
  elapsedMs: number;
}

export const DEFAULT_DURATION_SECONDS = 2;
/** Time after the game says it started before an external cheat is run: the player is set up by then. */
const ATTACK_DELAY_MS = 400;

interface Paths {
  root: string;
  game: string;
  cheats: string;
  worker: string;
}

function paths(): Paths {
  const root = packageRoot();
  return {
    root,
    game: join(root, 'out', 'demo', 'game'),
    cheats: join(root, 'out', 'demo', 'cheats'),
    // The compiled worker, also when this module runs from source (tests).
    worker: join(root, 'dist', 'src', 'demo', 'record-worker.js'),
  };
}

/** Everything the demo runs must be built, and recording needs root. */
export function checkDemoReady(): Paths {
  const p = paths();
  const needed = [
    p.worker,
    p.game,
    join(p.cheats, 'libspeedhack.so'),
    join(p.cheats, 'vm-reader'),
    join(p.root, 'out', 'bin', 'gpo-launch'),
    join(p.root, 'out', 'bin', 'gpo-guard'),
    join(p.root, 'build', 'Release', 'gpo_native.node'),
  ];
  const missing = needed.filter((path) => !existsSync(path));
  if (missing.length > 0) throw new GpoError(`the demo is not built (${relative(p.root, missing[0]!)} missing): run npm run build (or bash scripts/build.sh)`);
  requireRoot('the demo records with eBPF and its cheats ptrace the game');
  preflightRecording();
  return p;
}

interface Recorded {
  trace: string;
  pid: number;
  /** CLOCK_MONOTONIC ns of an external cheat's start (null for the others). */
  attackNs: bigint | null;
  cheatReport: string;
  /** Live runs: what gpo watch printed, in order. */
  alerts: LiveAlert[];
}

/** Records one run of the game, with the scenario's cheat; retried once if the recorder fails. */
async function recordScenario(p: Paths, scenario: Scenario, output: string, durationSeconds: number, liveBaseline?: string): Promise<Recorded> {
  try {
    return await recordOnce(p, scenario, output, durationSeconds, liveBaseline);
  } catch (err) {
    if (!(err instanceof GpoError) || /not built|root/.test(err.message)) throw err;
    return await recordOnce(p, scenario, output, durationSeconds, liveBaseline);
  }
}

function recordOnce(p: Paths, scenario: Scenario, output: string, durationSeconds: number, liveBaseline?: string): Promise<Recorded> {
  const env: Record<string, string> = {};
  if (scenario.preload) Object.assign(env, scenario.preload.env ?? {}, { LD_PRELOAD: join(p.cheats, scenario.preload.library) });
  const job: RecordJob = {
    output,
    command: [p.game, '--seed', String(scenario.seed), '--duration', String(durationSeconds)],
    env,
    // The game ends by itself; this only bounds a run that hangs.
    durationSeconds: durationSeconds + 10,
    baseline: liveBaseline,
  };
  const childEnv = { ...process.env };
  for (const name of ['LD_PRELOAD', 'LD_AUDIT', 'LD_LIBRARY_PATH']) delete childEnv[name];
  return new Promise((resolveRun, rejectRun) => {
    const child = fork(p.worker, [JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: childEnv });
    let stdout = '';
    let stderr = '';
    let pid = 0;
    let attackNs: bigint | null = null;
    let cheat: Promise<string> | null = null;
    let failure: string | null = null;
    let done = false;
    const alerts: LiveAlert[] = [];
    const attack = () => {
      if (!scenario.external || cheat !== null || pid === 0 || !/"event":"start"/.test(stdout)) return;
      const { program, args } = scenario.external;
      cheat = new Promise((resolveCheat) =>
        setTimeout(() => {
          attackNs = process.hrtime.bigint();
          const argv = [String(pid), ...args.map((a) => a.replace(/^@cheats\//, `${p.cheats}/`))];
          execFile(join(p.cheats, program), argv, { timeout: 10_000 }, (error, out, err) => resolveCheat((out || err || String(error ?? '')).trim()));
        }, ATTACK_DELAY_MS),
      );
    };
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      attack();
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'started') {
        pid = message.pid;
        attack();
      } else if (message.type === 'alert')
        alerts.push({ kind: message.kind, severity: message.severity, firstNs: BigInt(message.firstNs), detectedNs: BigInt(message.detectedNs) });
      else if (message.type === 'done') done = true;
      else failure = message.message;
    });
    child.on('exit', async (code) => {
      if (!done) {
        const lines = stderr.trim().split('\n');
        const reason = failure ?? lines.find((line) => /Error/.test(line)) ?? lines.pop() ?? `exit ${code}`;
        rejectRun(new GpoError(`recording ${scenario.name} failed: ${reason}`));
        return;
      }
      const cheatReport =
        cheat !== null
          ? await cheat
          : stderr
              .split('\n')
              .filter((line) => line.startsWith('{"cheat"'))
              .join('\n');
      if (scenario.external && cheat === null) {
        rejectRun(new GpoError(`recording ${scenario.name}: the game never said it started, so the cheat was not run`));
        return;
      }
      resolveRun({ trace: output, pid, attackNs, cheatReport, alerts });
    });
  });
}

async function score(trace: string, baseline: LoadedBaseline, baselinePath: string) {
  return scoreTrace(await openTrace(trace), baseline, { baselinePath });
}

/** Runs the whole demo; see DemoOptions. Throws GpoError when it cannot run (not built, not root). */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = process.hrtime.bigint();
  const p = checkDemoReady();
  const progress = options.onProgress ?? (() => {});
  const duration = options.durationSeconds ?? DEFAULT_DURATION_SECONDS;
  const dir = options.saveTo ? resolve(options.saveTo) : mkdtempSync(join(tmpdir(), 'gpo-demo-'));
  mkdirSync(dir, { recursive: true });
  try {
    const training: string[] = [];
    for (const seed of options.trainingSeeds ?? TRAINING_SEEDS) {
      const scenario = cleanScenario(seed);
      progress(`recording training run (seed ${seed})`);
      const output = join(dir, `train-seed-${seed}.parquet`);
      await recordScenario(p, scenario, output, duration);
      training.push(output);
    }
    progress(`training the baseline on ${training.length} clean runs`);
    // Paths as the user would give them (relative to here), so a saved baseline names its traces portably.
    const { baseline: document } = await trainBaseline(training.map((path) => relative(process.cwd(), path) || path));
    const baselinePath = join(dir, 'baseline.json');
    writeFileSync(baselinePath, baselineText(document));
    const baseline = parseBaseline(JSON.parse(baselineText(document)), baselinePath);

    const scenarios = demoScenarios(options.heldOutSeeds ?? HELD_OUT_SEEDS).filter(
      (s) => s.kinds.length === 0 || options.only === undefined || options.only.includes(s.name),
    );
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      progress(`recording ${scenario.name}`);
      const output = join(dir, traceName(scenario));
      const recorded = await recordScenario(p, scenario, output, duration, options.live ? baselinePath : undefined);
      const report = await score(output, baseline, baselinePath);
      const judgement = judge(scenario, report, recorded.attackNs);
      if (options.live) judgement.row.live_ms = liveLatency(scenario, recorded, report.anomalies.find((a) => a.kind === 'preload')?.first_ts_ns ?? null);
      results.push({ ...judgement, scenario, trace: output, attackNs: recorded.attackNs, cheatReport: recorded.cheatReport });
    }
    if (options.saveTo) writeFileSync(join(dir, 'manifest.json'), manifestText(results, training, dir));
    return { rows: results.map((r) => r.row), results, baseline: baselinePath, elapsedMs: Number(process.hrtime.bigint() - started) / 1e6 };
  } finally {
    if (!options.saveTo) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * From the attack to gpo watch printing the first high anomaly of a kind that catches the scenario (a
 * preloaded cheat's attack is the game's exec with it, where the preload anomaly is dated); null if none.
 */
function liveLatency(scenario: Scenario, recorded: Recorded, preloadNs: bigint | null): number | null {
  const attackNs = recorded.attackNs ?? (scenario.preload ? preloadNs : null);
  const alert = recorded.alerts.find((a) => a.severity === 'high' && (scenario.kinds as string[]).includes(a.kind));
  if (attackNs === null || alert === undefined) return null;
  return Math.round(Number(alert.detectedNs - attackNs) / 1e4) / 100;
}

/** What a recordings directory holds, for the offline tests and notebooks (no times: stable across runs). */
function manifestText(results: ScenarioResult[], training: string[], dir: string): string {
  const manifest = {
    baseline: 'baseline.json',
    training: training.map((path) => relative(dir, path)),
    scenarios: results.map((r) => ({
      scenario: r.scenario.name,
      trace: relative(dir, r.trace),
      attack_ns: r.attackNs?.toString() ?? null,
      detected: r.row.detected,
      kind: r.row.kind,
    })),
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}
