// gpo watch on the real kernel (root): on the demo game, clean and under every demo cheat, what watch
// prints live is what gpo score reports on the trace watch wrote (same anomalies by kind, process, thread
// and first time, same final severity, same verdict), and a cheat's alert is printed while the game is
// still running. Needs the built demo (out/demo) and recordings/baseline.json.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../src/demo/run.js';
import { formatDemoTable } from '../src/demo/table.js';
import { WATCH_NICE } from '../src/watch/watch-session.js';
import { CHEAT_SCENARIOS, cleanScenario, type Scenario } from '../src/demo/scenarios.js';
import { fixture, GPO, requireRoot, ROOT, Running, runGpo } from './helpers/gpo.js';

const BASELINE = join(ROOT, 'recordings', 'baseline.json');
const DEMO = join(ROOT, 'out', 'demo');
const WITH_ENV = join(ROOT, 'test', 'helpers', 'with-env.mjs');
/** Game seconds: the external cheats act 0.4 s after the game starts, so it runs on well after them. */
const GAME_SECONDS = 3;
const ATTACK_DELAY_MS = 400;

interface LiveLine {
  kind: string;
  severity: string;
  ts_ns: string;
  wall: string;
  pid: number;
  tid: number;
  comm: string;
  summary: string;
  evidence: Record<string, unknown>;
  recording: string | null;
  trace: string | null;
  escalated: boolean;
  delay_ms: number;
}

interface Watched {
  code: number | null;
  /** Anomaly lines in order, with the CLOCK_MONOTONIC ns this test read each. */
  anomalies: { line: LiveLine; receivedNs: bigint }[];
  verdict: Record<string, unknown>;
  /** When this test read the game's exit line (it shares gpo's stdout). */
  gameExitNs: bigint | null;
  trace: string;
}

let dir: string;
beforeAll(() => {
  requireRoot();
  for (const needed of [join(DEMO, 'game'), join(DEMO, 'cheats', 'vm-reader'), BASELINE])
    if (!existsSync(needed)) throw new Error(`${needed} is missing: run npm run build`);
  dir = mkdtempSync(join(tmpdir(), 'gpo-watch-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs gpo watch --json on the game with the scenario's cheat, reading its output line by line as it comes;
 * `attach`: the test starts the game and gpo watch attaches to it with --pid.
 */
function watchScenario(scenario: Scenario, attach = false): Promise<Watched> {
  const trace = join(dir, `${scenario.name.replace(/ /g, '-')}${attach ? '-attached' : ''}.parquet`);
  const env: Record<string, string> = {};
  if (scenario.preload) Object.assign(env, scenario.preload.env ?? {}, { LD_PRELOAD: join(DEMO, 'cheats', scenario.preload.library) });
  // Attached, the game must outlive gpo's start-up (seconds on a busy machine).
  const gameArgs = ['--seed', String(scenario.seed), '--duration', String(attach ? GAME_SECONDS + 5 : GAME_SECONDS)];
  const watched: Watched = { code: null, anomalies: [], verdict: {}, gameExitNs: null, trace };
  const game = attach ? spawn(join(DEMO, 'game'), gameArgs, { stdio: ['ignore', 'pipe', 'ignore'] }) : null;
  game?.stdout!.on('data', (d: Buffer) => {
    if (/"event":"exit"/.test(d.toString())) watched.gameExitNs = process.hrtime.bigint();
  });
  const target = game ? ['--pid', String(game.pid)] : ['--', join(DEMO, 'game'), ...gameArgs];
  const args = ['watch', '--json', '--fail-on', 'none', '--baseline', BASELINE, '-o', trace, ...target];
  const child = spawn(process.execPath, scenario.preload ? [WITH_ENV, JSON.stringify(env), ...args] : [GPO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let pending = '';
  let stderr = '';
  let attacked = false;
  const attack = () => {
    const pid = stderr.match(/watching \S+ \(pid (\d+)\)/)?.[1];
    if (attacked || !scenario.external || pid === undefined) return;
    attacked = true;
    setTimeout(() => {
      const { program, args: cheatArgs } = scenario.external!;
      execFile(
        join(DEMO, 'cheats', program),
        [pid, ...cheatArgs.map((a) => a.replace(/^@cheats\//, `${join(DEMO, 'cheats')}/`))],
        { timeout: 10_000 },
        () => {},
      );
    }, ATTACK_DELAY_MS);
  };
  child.stderr!.on('data', (d) => {
    stderr += d;
    attack();
  });
  child.stdout!.on('data', (d) => {
    const receivedNs = process.hrtime.bigint();
    pending += d;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const text of lines) {
      if (!text.startsWith('{')) continue;
      const value = JSON.parse(text) as Record<string, unknown>;
      if ('kind' in value) watched.anomalies.push({ line: value as unknown as LiveLine, receivedNs });
      else if ('verdict' in value) watched.verdict = value;
      else if (value.event === 'exit') watched.gameExitNs = receivedNs;
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      watched.code = code;
      if (code !== 0) reject(new Error(`gpo watch exited ${code}: ${stderr}`));
      else resolve(watched);
    });
  });
}

interface Scored {
  kind: string;
  severity: string;
  first_ts_ns: string;
  pid: number;
  tid: number;
}

/** Identity of an anomaly across live flushes and the offline score (see src/watch/printed-anomalies.ts). */
const identity = (a: { kind: string; pid: number; tid: number }, ts: string) => `${a.kind} ${a.pid} ${a.tid} ${ts}`;

function expectSameAsScore(watched: Pick<Watched, 'anomalies' | 'verdict' | 'trace'>, baseline = BASELINE): void {
  const r = runGpo(['score', '--json', '--fail-on', 'none', '--baseline', baseline, watched.trace]);
  expect(r.code, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout) as {
    recording: { id: string };
    anomalies: Scored[];
    counts: Record<string, number>;
    verdict: string;
    passed: boolean;
    anomalous: boolean;
    exit_code: number;
  };
  // Every live line names the recording as gpo score does, and the trace kept.
  for (const { line } of watched.anomalies) expect([line.recording, line.trace]).toEqual([report.recording.id, watched.trace]);
  expect(watched.verdict.recording).toBe(report.recording.id);
  // Live: each anomaly once, again only when its severity rose; the last printed severity is its final one.
  const live = new Map<string, string>();
  for (const { line } of watched.anomalies) {
    const key = identity(line, line.ts_ns);
    if (live.has(key)) expect(line.escalated, `${key} printed twice without escalating`).toBe(true);
    live.set(key, line.severity);
  }
  const offline = new Map(report.anomalies.map((a) => [identity(a, a.first_ts_ns), a.severity]));
  expect(Object.fromEntries([...live].sort())).toEqual(Object.fromEntries([...offline].sort()));
  expect(watched.verdict.counts).toEqual(report.counts);
  expect(watched.verdict.verdict).toBe(report.verdict);
  expect([watched.verdict.passed, watched.verdict.anomalous]).toEqual([report.passed, report.anomalous]);
  expect(watched.verdict.exit_code).toBe(report.exit_code);
}

describe('gpo watch on the demo game', () => {
  it('reports live exactly what gpo score reports on the trace it wrote: a clean run', async () => {
    const watched = await watchScenario(cleanScenario(101));
    expectSameAsScore(watched);
  }, 60_000);

  const catches = (scenario: Scenario, attach: boolean) => async () => {
    const watched = await watchScenario(scenario, attach);
    expectSameAsScore(watched);
    const caught = watched.anomalies.find(({ line }) => line.severity === 'high' && (scenario.kinds as string[]).includes(line.kind));
    expect(caught, `no high ${scenario.kinds.join('/')} alert among ${watched.anomalies.map((a) => a.line.kind).join(', ')}`).toBeDefined();
    expect(watched.gameExitNs, 'the game never printed its exit line').not.toBeNull();
    // Printed while the game was still running: before the game's own exit line on the same stdout.
    expect(caught!.receivedNs < watched.gameExitNs!).toBe(true);
  };
  for (const scenario of CHEAT_SCENARIOS)
    it(`reports live exactly what gpo score reports, and catches ${scenario.name} while the game runs`, catches(scenario, false), 60_000);
  it(
    'attached with --pid to a running game: the same, for vm-reader',
    catches(
      CHEAT_SCENARIOS.find((s) => s.name === 'vm-reader')!,
      true,
    ),
    60_000,
  );
});

describe('gpo watch on a target that goes quiet after the act', () => {
  /** gpo (record or watch) running out/bin/watch-target, its stdin a pipe to the target's commands. */
  const withTarget = (args: string[]) =>
    new Running(spawn(process.execPath, [GPO, ...args, '--', fixture('watch-target')], { stdio: ['pipe', 'pipe', 'pipe'] }));
  const send = (running: Running, command: string) => running.child.stdin!.write(`${command}\n`);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** A thread's nice value (/proc/TID/stat field 19, after the parenthesised comm). */
  const niceOf = (tid: number) =>
    Number(
      readFileSync(`/proc/${tid}/stat`, 'utf8')
        .replace(/^.*\) /s, '')
        .split(' ')[16],
    );

  it('reports a rate anomaly whose window never closes while the target makes no more syscalls, as gpo score does', async () => {
    // The target's normal: its idle loop (a few calls every 10 ms), two recordings.
    const traces: string[] = [];
    for (const n of [1, 2]) {
      const trace = join(dir, `quiet-train-${n}.parquet`);
      const recording = withTarget(['record', '-q', '-o', trace]);
      await recording.waitFor(/"pid":\d+/);
      await sleep(2500);
      send(recording, 'quit');
      const r = await recording.exited;
      expect(r.code, r.stderr).toBe(0);
      traces.push(trace);
    }
    const baseline = join(dir, 'quiet-baseline.json');
    const trained = runGpo(['train', ...traces, '-o', baseline]);
    expect(trained.code, trained.stderr).toBe(0);

    const trace = join(dir, 'quiet-watched.parquet');
    const watching = withTarget(['watch', '--json', '--fail-on', 'none', '--baseline', baseline, '-o', trace]);
    const pid = Number((await watching.waitFor(/"pid":(\d+)/))[1]);
    await sleep(300);
    // The alert path (gpo's JavaScript thread) runs at WATCH_NICE; the target it started keeps the nice
    // value gpo was started with (this test's own: the suite may run under nice).
    expect([niceOf(watching.child.pid!), niceOf(pid)]).toEqual([WATCH_NICE, getPriority()]);
    // 20000 getpid calls in a few ms, then none: the burst's 1 s window stays open until the end.
    send(watching, 'burst 20000');
    const alert = await watching.waitFor(new RegExp(`\\{"kind":"rate_deviation"[^\\n]*"pid":${pid},[^\\n]*\\n`), 'stdout', 15_000).catch(() => null);
    // Printed while the target was still alive and quiet: quit is sent only now.
    expect(alert, `no rate_deviation alert while the target was quiet: ${watching.stdout}`).not.toBeNull();
    expect((JSON.parse(alert![0]) as LiveLine).evidence.key).toBe('getpid');
    send(watching, 'quit');
    const r = await watching.exited;
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expectSameAsScore(
      {
        trace,
        anomalies: lines.filter((l) => 'kind' in l).map((line) => ({ line: line as unknown as LiveLine, receivedNs: 0n })),
        verdict: lines.find((l) => 'verdict' in l)!,
      },
      baseline,
    );
  }, 90_000);
});

describe('gpo watch errors', () => {
  const oneLine = (r: { code: number | null; stderr: string }, pattern: RegExp) => {
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  };
  it('refuses a baseline it cannot read before recording', () =>
    oneLine(runGpo(['watch', '--baseline', join(dir, 'none.json'), '--', '/bin/true']), /none\.json/));
  it('needs a command or a pid', () => oneLine(runGpo(['watch', '--baseline', BASELINE]), /--pid PID or -- CMD/));
  it('names a pid that does not exist', () => oneLine(runGpo(['watch', '--baseline', BASELINE, '--pid', '999999999']), /no process with pid/));
  it('refuses an allow file it cannot read before recording', () =>
    oneLine(runGpo(['watch', '--baseline', BASELINE, '--allow', join(dir, 'none.allow'), '--', '/bin/true']), /none\.allow: no such allow file/));
});

describe('gpo watch --allow', () => {
  /** The live anomaly lines and the verdict line of gpo watch --json on a shell running /bin/true twice. */
  const watchShell = (...extra: string[]) => {
    const r = runGpo(['watch', '--json', '--fail-on', 'none', '--baseline', BASELINE, ...extra, '--', '/bin/sh', '-c', '/bin/true; /bin/true']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { anomalies: lines.slice(0, -1) as unknown as LiveLine[], verdict: lines.at(-1)! };
  };
  const kindsOf = (anomalies: LiveLine[]) => [...new Set(anomalies.map((a) => a.kind))].sort();

  it("takes score's allow file: the children it names are not reported live, the rest is", () => {
    const before = watchShell();
    expect(before.anomalies.filter((a) => a.kind === 'child_exec').map((a) => a.evidence.path)).toEqual(['/bin/true', '/bin/true']);
    const allow = join(dir, 'children.allow');
    writeFileSync(allow, 'child /bin/true\n');
    const after = watchShell('--allow', allow);
    expect(after.anomalies.filter((a) => a.kind === 'child_exec')).toEqual([]);
    expect(kindsOf(after.anomalies)).toEqual(kindsOf(before.anomalies).filter((kind) => kind !== 'child_exec'));
    expect(after.verdict.anomalies).toBe((before.verdict.anomalies as number) - 2);
  }, 60_000);
});

describe('gpo demo --live', () => {
  it('shows, next to the offline verdict, the time from each attack to its live alert', async () => {
    const result = await runDemo({ trainingSeeds: [1, 2], heldOutSeeds: [101], only: ['vm-reader', 'speedhack'], live: true });
    const rows = new Map(result.rows.map((r) => [r.scenario, r]));
    for (const name of ['vm-reader', 'speedhack']) {
      const row = rows.get(name)!;
      expect(row.detected).toBe('yes');
      // The live alert cannot come before the attack, nor before the row it is about was recorded.
      expect(row.live_ms).toBeGreaterThan(0);
      expect(row.live_ms!).toBeGreaterThanOrEqual(row.latency_ms!);
    }
    expect(rows.get('clean seed 101')!.live_ms).toBeNull();
    expect(formatDemoTable(result.rows)).toMatch(/attack to live alert/);
  }, 300_000);
});
