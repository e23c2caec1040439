// The demo game and each demo cheat, without gpo: every cheat must really work against the running game, as
// shown by its own report and by what the game itself saw (its status lines). Needs root (ptrace,
// process_vm_readv/writev and /proc/PID/mem of another process) and the built out/demo (make).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const DEMO = fileURLToPath(new URL('../out/demo/', import.meta.url));
const GAME = join(DEMO, 'game');
const cheat = (name: string): string => join(DEMO, 'cheats', name);
const CHEATS = ['vm-reader', 'vm-writer', 'procmem-reader', 'procmem-writer', 'ptrace-trainer', 'inject', 'uring-reader'];
const LIBRARIES = ['libpayload.so', 'libspeedhack.so', 'libjit.so', 'libfileless.so'];

/** A line the game prints: "start", "status" or "exit" (see demo/game/game.c for every field). */
interface GameLine {
  event: 'start' | 'status' | 'exit';
  pid: number;
  player: string;
  frames: number;
  frames_planned: number;
  health: number;
  ammo: number;
  x: number;
  y: number;
  deaths: number;
  events: number;
  events_hash: string;
  max_health: number;
  max_ammo: number;
  game_seconds: number;
  real_seconds: number;
  clock_ratio: number;
  net_roundtrips: number;
  assets_read: number;
  audio_buffers: number;
  assets_dir: string;
}

type Report = Record<string, unknown> & { cheat: string; ok: boolean };

const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .slice(0, -1) // only complete lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const running: Game[] = [];

/** The demo game in the background, its stdout and stderr collected. */
class Game {
  stdout = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], preload?: string) {
    const env = preload ? { ...process.env, LD_PRELOAD: cheat(preload) } : process.env;
    this.child = spawn(GAME, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child.stdout!.on('data', (d) => (this.stdout += d));
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
    running.push(this);
  }

  get pid(): number {
    return this.child.pid!;
  }

  lines(): GameLine[] {
    return jsonLines(this.stdout) as unknown as GameLine[];
  }

  /** The cheats' reports the game's stderr carries (libraries loaded into it, and their children). */
  reports(): Report[] {
    return jsonLines(this.stderr) as Report[];
  }

  async waitFor<T>(find: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      if (Date.now() > deadline || this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`no ${what} from the game; stdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await sleep(10);
    }
  }

  started(): Promise<GameLine> {
    return this.waitFor(() => this.lines().find((l) => l.event === 'start'), 'start line');
  }

  report(name: string): Promise<Report> {
    return this.waitFor(() => this.reports().find((r) => r.cheat === name), `${name} report`);
  }

  /** Asks for a status line (SIGUSR2) and returns it. */
  async status(): Promise<GameLine> {
    const before = this.lines().filter((l) => l.event === 'status').length;
    this.child.kill('SIGUSR2');
    return this.waitFor(() => this.lines().filter((l) => l.event === 'status')[before], 'status line');
  }

  /** Waits for the game to end by itself (stop: SIGTERM first) and returns its exit line. */
  async finish(stop = false): Promise<GameLine> {
    if (stop) this.child.kill('SIGTERM');
    const { code, signal } = await this.exited;
    expect({ code, signal }, this.stderr).toEqual({ code: 0, signal: null });
    const exit = this.lines().filter((l) => l.event === 'exit');
    expect(exit).toHaveLength(1);
    return exit[0];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a cheat program to completion; its report is the one JSON line on its stdout. */
function runCheat(name: string, args: (string | number)[]): { code: number | null; report: Report } {
  const r = spawnSync(cheat(name), args.map(String), { encoding: 'utf8', timeout: 20_000 });
  const lines = jsonLines(r.stdout);
  if (lines.length !== 1) throw new Error(`${name} printed ${JSON.stringify(r.stdout)}; stderr: ${r.stderr}`);
  return { code: r.status, report: lines[0] as Report };
}

/** Thread names of a running process. */
const threadNames = (pid: number): string[] => readdirSync(`/proc/${pid}/task`).map((tid) => readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());

/** Waits until every thread of pid is in group stop (state T), after a SIGSTOP. */
async function waitStopped(pid: number): Promise<void> {
  const stopped = () =>
    readdirSync(`/proc/${pid}/task`).every((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return stat[stat.lastIndexOf(')') + 2] === 'T';
    });
  const deadline = Date.now() + 5_000;
  while (!stopped()) {
    if (Date.now() > deadline) throw new Error(`game ${pid} did not stop`);
    await sleep(5);
  }
}

let dir: string;

beforeAll(() => {
  if (process.geteuid?.() !== 0)
    throw new Error('the demo cheat tests need root (ptrace, process_vm_readv/writev and /proc/PID/mem of another process): run them as root');
  for (const built of [GAME, ...[...CHEATS, ...LIBRARIES].map(cheat)])
    if (!existsSync(built)) throw new Error(`${built} is missing: run make (or npm run build) first`);
  dir = mkdtempSync(join(tmpdir(), 'gpo-demo-test-'));
});

afterEach(() => {
  // A failed test may leave its game running (or stopped): kill it.
  for (const game of running.splice(0)) if (game.child.exitCode === null && game.child.signalCode === null) game.child.kill('SIGKILL');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the demo game on its own', () => {
  it('runs its named threads steadily, plays the same events for the same seed, and keeps health within 1..100', async () => {
    const stateFile = join(dir, 'state.json');
    const a = new Game(['--seed', '7', '--duration', '1', '--state-file', stateFile]);
    const b = new Game(['--seed', '7', '--duration', '1']);
    const other = new Game(['--seed', '8', '--duration', '1']);
    const start = await a.started();
    expect(start).toMatchObject({ pid: a.pid, frames_planned: 60 });
    expect(start.player).toMatch(/^0x[0-9a-f]+$/);
    expect(threadNames(a.pid).sort()).toEqual(['assets', 'audio', 'main', 'net', 'server']);

    const [endA, endB, endOther] = await Promise.all([a.finish(), b.finish(), other.finish()]);
    const played = (l: GameLine) => [l.frames, l.health, l.ammo, l.x, l.y, l.deaths, l.events, l.events_hash];
    expect(played(endA)).toEqual(played(endB));
    expect(endA.events_hash).not.toBe(endOther.events_hash);
    for (const end of [endA, endB, endOther]) {
      expect(end.frames).toBe(60);
      expect(end.events).toBeGreaterThan(0);
      expect(end.max_health).toBeLessThanOrEqual(100);
      expect(end.health).toBeGreaterThanOrEqual(1);
      expect(end.max_ammo).toBeLessThanOrEqual(99);
      // Without a speedhack the game's clock and the raw syscall's agree.
      expect(end.clock_ratio).toBeGreaterThan(0.95);
      expect(end.clock_ratio).toBeLessThan(1.05);
      expect(end.net_roundtrips).toBeGreaterThan(5);
      expect(end.assets_read).toBeGreaterThan(2);
      expect(end.audio_buffers).toBeGreaterThan(30);
    }
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toEqual(endA);
    expect(existsSync(start.assets_dir)).toBe(false);
  });
});

describe('external cheats', () => {
  it('vm-reader, procmem-reader and uring-reader find the player and read the same values from the frozen game', async () => {
    const game = new Game(['--duration', '30']);
    const start = await game.started();
    await sleep(200);
    process.kill(game.pid, 'SIGSTOP');
    await waitStopped(game.pid);

    const reads = ['vm-reader', 'procmem-reader', 'uring-reader'].map((name) => runCheat(name, [game.pid]));
    for (const { code, report } of reads) {
      expect(code, JSON.stringify(report)).toBe(0);
      expect(report).toMatchObject({ pid: game.pid, address: start.player, ok: true });
      expect(report.health).toBeGreaterThanOrEqual(1);
      expect(report.health).toBeLessThanOrEqual(100);
    }
    const values = reads.map(({ report }) => [report.health, report.ammo, report.frame]);
    expect(values[1]).toEqual(values[0]);
    expect(values[2]).toEqual(values[0]);
    // The io_uring reader opened maps and mem and read through the ring only.
    expect(reads[2].report.requests).toMatchObject({ openat: 2, close: 2 });

    // A value no game state has, written while frozen: the io_uring read must return exactly it.
    expect(runCheat('procmem-writer', [game.pid, 4242]).report).toMatchObject({ after: 4242, ok: true });
    expect(runCheat('uring-reader', [game.pid]).report).toMatchObject({ address: start.player, health: 4242, ok: true });

    process.kill(game.pid, 'SIGCONT');
    const end = await game.finish(true);
    expect(end.max_health).toBe(4242);
  });

  for (const writer of ['vm-writer', 'procmem-writer']) {
    it(`${writer} sets health to 999 and the game sees it`, async () => {
      const game = new Game(['--duration', '30']);
      const start = await game.started();
      await sleep(200);
      const { code, report } = runCheat(writer, [game.pid]);
      expect(code, JSON.stringify(report)).toBe(0);
      expect(report).toMatchObject({ cheat: writer, pid: game.pid, address: start.player, after: 999, ok: true });
      expect(report.before).toBeLessThanOrEqual(100);

      const status = await game.status();
      expect(status.max_health).toBe(999);
      const end = await game.finish(true);
      expect(end.max_health).toBe(999);
    });
  }

  it('ptrace-trainer attaches, pokes health and ammo to 999, detaches, and the game plays on with them', async () => {
    const game = new Game(['--duration', '30']);
    const start = await game.started();
    await sleep(200);
    const { code, report } = runCheat('ptrace-trainer', [game.pid]);
    expect(code, JSON.stringify(report)).toBe(0);
    expect(report).toMatchObject({ pid: game.pid, address: start.player, after: { health: 999, ammo: 999 }, ok: true });

    await sleep(200);
    const end = await game.finish(true);
    expect(end).toMatchObject({ max_health: 999, max_ammo: 999 });
    // Still running its frames after the detach: 200 ms is about 12 frames.
    expect(end.frames).toBeGreaterThan((report.frame as number) + 5);
  });

  it('inject makes the game dlopen libpayload.so through ptrace, and the game finishes normally', async () => {
    const game = new Game(['--duration', '1.5']);
    await game.started();
    const marker = `/tmp/gpo-demo-injected-${game.pid}`;
    rmSync(marker, { force: true });
    await sleep(300);
    try {
      const { code, report } = runCheat('inject', [game.pid, cheat('libpayload.so')]);
      expect(code, JSON.stringify(report)).toBe(0);
      expect(report).toMatchObject({ pid: game.pid, library: cheat('libpayload.so'), mapped: true, ok: true });
      expect(report.handle).not.toBe('0x0');
      expect(readFileSync(`/proc/${game.pid}/maps`, 'utf8')).toContain(cheat('libpayload.so'));
      // The constructor ran in the game's main thread.
      expect(JSON.parse(readFileSync(marker, 'utf8'))).toEqual({ cheat: 'inject-payload', pid: game.pid, tid: game.pid, ok: true });

      const end = await game.finish();
      expect(end.frames).toBe(end.frames_planned);
      expect(game.reports()).toContainEqual({ cheat: 'inject-payload', pid: game.pid, tid: game.pid, ok: true });
    } finally {
      rmSync(marker, { force: true });
    }
  });
});

describe('cheats inside the game', () => {
  it('libspeedhack.so makes the game clock run twice as fast without changing what it plays', async () => {
    const args = ['--seed', '5', '--duration', '2'];
    const hacked = new Game(args, 'libspeedhack.so');
    const control = new Game(args);
    const [fast, normal] = await Promise.all([hacked.finish(), control.finish()]);
    expect(fast.frames).toBe(120);
    expect(fast.clock_ratio).toBeGreaterThan(1.5);
    expect(fast.clock_ratio).toBeLessThan(2.5);
    expect(fast.real_seconds).toBeLessThan(1.5);
    expect(normal.clock_ratio).toBeLessThan(1.05);
    expect(normal.real_seconds).toBeGreaterThan(1.9);
    expect(fast.events_hash).toBe(normal.events_hash);
    const report = hacked.reports().find((r) => r.cheat === 'speedhack');
    expect(report).toMatchObject({ pid: hacked.pid, factor: 2, ok: true });
    expect((report!.calls as Record<string, number>).clock_gettime).toBeGreaterThan(100);
  });

  it('libjit.so runs generated code from an anonymous executable page that sets health to 999', async () => {
    const game = new Game(['--duration', '30'], 'libjit.so');
    const start = await game.started();
    const report = await game.report('jit-exec');
    expect(report).toMatchObject({ pid: game.pid, address: start.player, returned: 999, after: 999, ok: true });
    // The code page: anonymous (no file), readable and executable, not writable.
    const code = BigInt(report.code as string);
    const mapping = readFileSync(`/proc/${game.pid}/maps`, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .find((line) => BigInt(`0x${line.split('-')[0]}`) === code);
    expect(mapping).toMatch(/^[0-9a-f]+-[0-9a-f]+ r-xp 00000000 00:00 0\s*$/);

    const end = await game.finish(true);
    expect(end.max_health).toBe(999);
  });

  it('libfileless.so forks the game and runs a program from a memfd, never from a file', async () => {
    const game = new Game(['--duration', '30'], 'libfileless.so');
    await game.started();
    const report = await game.report('memfd-exec');
    expect(report).toMatchObject({ pid: game.pid, memfd: 'gpo-payload', status: 0, ok: true });
    const payload = game.reports().find((r) => r.cheat === 'memfd-exec-payload');
    expect(payload).toMatchObject({ pid: report.child, ppid: game.pid, exe: '/memfd:gpo-payload (deleted)', ok: true });
    await game.finish(true);
  });
});
