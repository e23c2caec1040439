// Helpers for end-to-end tests: run the built gpo CLI and the fixture programs, read traces back.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTrace } from '../../src/trace/reader.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const GPO = join(ROOT, 'bin', 'gpo.js');
/** Under emulation (scripts/kernel-matrix.sh boots kernels under qemu TCG) everything is slower. */
export const TIMEOUT_SCALE = Number(process.env.GPO_TEST_TIMEOUT_SCALE ?? 1);
/** Node flags for the gpo processes a test starts (the kernel matrix sets them for emulated kernels). */
const NODE_ARGS = (process.env.GPO_TEST_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

/** Kernel tests must fail loudly, not pass silently, where they cannot run. */
export function requireRoot(): void {
  if (process.geteuid?.() !== 0) throw new Error('this test records with eBPF and needs root: run the tests as root (CI does)');
  for (const built of ['dist/src/cli.js', 'build/Release/gpo_native.node', 'out/bin/gpo-launch', 'out/bin/gpo-guard'])
    if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run npm run build first`);
}

export function fixture(name: string): string {
  const path = join(ROOT, 'out', 'bin', name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build first`);
  return path;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs gpo to completion. */
export function runGpo(args: string[], timeoutMs = 60_000): Finished {
  const r = spawnSync(process.execPath, [...NODE_ARGS, GPO, ...args], { encoding: 'utf8', timeout: timeoutMs * TIMEOUT_SCALE });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A background process whose output can be awaited line by line. */
export class Running {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Finished>;
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d) => (this.stdout += d));
    child.stderr?.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr })));
  }
  get pid(): number {
    return this.child.pid!;
  }
  /** Resolves with the first match of pattern in stdout or stderr. */
  async waitFor(pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout', timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs * TIMEOUT_SCALE;
    for (;;) {
      const m = this[stream].match(pattern);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in ${stream}: ${this[stream]}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export function startGpo(args: string[]): Running {
  return new Running(spawn(process.execPath, [...NODE_ARGS, GPO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

export function start(cmd: string, args: string[]): Running {
  return new Running(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
}

export interface Row {
  ts_ns: bigint;
  pid: number;
  tid: number;
  comm: string;
  kind: string;
  nr: number | null;
  ret: bigint | null;
  child_pid: number | null;
  child_tid: number | null;
  exit_code: number | null;
  group_dead: number | null;
  path: string | null;
  argv: string[] | null;
  uid: number | null;
  exe: string | null;
  truncated: number | null;
  target_pid: number | null;
  target_tid: number | null;
  request: bigint | null;
  addr: bigint | null;
  size: bigint | null;
  dev: bigint | null;
  inode: bigint | null;
  offset: bigint | null;
  func: string | null;
}

/** Every row of a trace as plain objects (tests only: traces here are small). */
export async function readRows(path: string): Promise<Row[]> {
  const trace = await openTrace(path);
  const rows: Row[] = [];
  for await (const batch of trace.batches()) {
    for (const r of batch) {
      const o = r!.toJSON() as Record<string, unknown>;
      const argv = o.argv as { toArray(): string[] } | null;
      rows.push({ ...(o as unknown as Row), argv: argv ? [...argv.toArray()] : null });
    }
  }
  return rows;
}

export const countBy = <T>(items: T[], key: (t: T) => string | number): Map<string | number, number> => {
  const m = new Map<string | number, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
};

/** A live process (not a zombie waiting for its parent). */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
