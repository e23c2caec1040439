// Benchmark (not a test): how long from an act against a watched process to gpo watch's printed alert. The
// act's own time is taken by whoever acts (CLOCK_MONOTONIC, printed by out/bin/watch-act or the target for
// its dlopen); the alert's time is when this process reads the alert line from gpo watch's stdout. Acts:
// process_vm_readv, a ptrace attach, an open of /proc/PID/mem (each by a new attacker process), a dlopen of
// a library the target never had. At idle, and with the target calling getppid about 10^6 times a second.
// See bench/README.md. Run as root, after npm run build, holding the bench lock:
//   flock /tmp/gpo-bench.lock node dist/bench/watch.js
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { quantile } from 'simple-statistics';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TARGET = join(ROOT, 'out/bin/watch-target');
const ACT = join(ROOT, 'out/bin/watch-act');
const LIBRARY = join(ROOT, 'out/lib/libfixture.so');
const ACTS = ['vm-read', 'ptrace', 'proc-mem', 'dlopen'] as const;
type Act = (typeof ACTS)[number];
/** Anomaly kinds that count as the alert for each act. */
const ALERT_KINDS: Record<Act, string[]> = {
  'vm-read': ['vm_read'],
  ptrace: ['ptrace'],
  'proc-mem': ['proc_mem'],
  dlopen: ['new_library', 'unexpected_libcall'],
};

interface Alert {
  kind: string;
  pid: number;
  evidence: Record<string, unknown>;
  delay_ms: number;
  receivedNs: bigint;
}

interface Sample {
  act: Act;
  /** From the act to this process reading the alert. */
  ms: number;
  /** gpo's own figure: from the anomaly's first row (kernel time) to its print. */
  gpoMs: number;
}

/** gpo (record or watch) running the target, its stdin a pipe to the target's commands. */
class Session {
  readonly child: ChildProcess;
  readonly alerts: Alert[] = [];
  readonly lines: Record<string, unknown>[] = [];
  private pending = '';
  readonly exited: Promise<number | null>;

  constructor(gpo: string, args: string[]) {
    this.child = spawn(process.execPath, [gpo, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.exited = new Promise((resolve) => this.child.on('close', resolve));
    this.child.stdout!.on('data', (d: Buffer) => {
      const receivedNs = process.hrtime.bigint();
      this.pending += d.toString();
      const lines = this.pending.split('\n');
      this.pending = lines.pop()!;
      for (const text of lines) {
        if (!text.startsWith('{')) continue;
        const value = JSON.parse(text) as Record<string, unknown>;
        if ('kind' in value && 'severity' in value) this.alerts.push({ ...(value as unknown as Alert), receivedNs });
        else this.lines.push(value);
      }
    });
  }

  send(command: string): void {
    this.child.stdin!.write(`${command}\n`);
  }

  async line(predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    return waitFor(() => this.lines.find(predicate), timeoutMs, 'a line from the target');
  }
}

async function waitFor<T>(get: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Two short recordings of the target at the load it is measured at, and a baseline trained on them: the
 * load is the target's normal, the acts are what is not (an untrained storm would be scored as one long
 * anomaly, another benchmark).
 */
async function trainBaseline(gpo: string, dir: string, rate: number): Promise<string> {
  const traces: string[] = [];
  for (const n of [1, 2]) {
    const trace = join(dir, `train-${rate}-${n}.parquet`);
    const session = new Session(gpo, ['record', '-q', '-o', trace, '--', TARGET, String(rate)]);
    await session.line((l) => 'pid' in l);
    await sleep(2000);
    session.send('quit');
    if ((await session.exited) !== 0) throw new Error('gpo record failed');
    traces.push(trace);
  }
  const baseline = join(dir, `baseline-${rate}.json`);
  const r = spawnSync(process.execPath, [gpo, 'train', ...traces, '-o', baseline], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gpo train failed: ${r.stderr}`);
  return baseline;
}

async function measure(
  gpo: string,
  dir: string,
  baseline: string,
  rate: number,
  rounds: number,
  progress: (s: string) => void,
): Promise<{ samples: Sample[]; missed: number; achievedRate: number }> {
  const session = new Session(gpo, ['watch', '--json', '--fail-on', 'none', '--baseline', baseline, '--', TARGET, String(rate)]);
  const hello = await session.line((l) => 'pid' in l && 'addr' in l);
  const pid = hello.pid as number;
  await sleep(1000);
  const samples: Sample[] = [];
  let missed = 0;
  for (let round = 0; round < rounds; round++) {
    for (const act of ACTS) {
      let actNs: bigint;
      let matches: (a: Alert) => boolean;
      if (act === 'dlopen') {
        const library = join(dir, `libact-${rate}-${round}.so`);
        copyFileSync(LIBRARY, library);
        const before = session.lines.length;
        session.send(`dlopen ${library}`);
        const line = await waitFor(() => session.lines.slice(before).find((l) => l.act === 'dlopen'), 10_000, 'the dlopen line');
        actNs = BigInt(line.ns as number);
        matches = (a) => ALERT_KINDS.dlopen.includes(a.kind) && (a.evidence.path === library || a.evidence.argument === library);
      } else {
        const args = act === 'vm-read' ? [act, String(pid), hello.addr as string] : [act, String(pid)];
        const out = JSON.parse(execFileSync(ACT, args, { encoding: 'utf8' })) as { pid: number; ns: number };
        actNs = BigInt(out.ns);
        matches = (a) => ALERT_KINDS[act].includes(a.kind) && a.pid === out.pid;
      }
      try {
        const alert = await waitFor(() => session.alerts.find(matches), 5000, `the ${act} alert`);
        samples.push({ act, ms: Number(alert.receivedNs - actNs) / 1e6, gpoMs: alert.delay_ms });
      } catch {
        missed++;
      }
      // Acts land at every phase of the recorder's delivery period.
      await sleep(100 + Math.random() * 200);
    }
    progress(`  ${rate === 0 ? 'idle' : `${rate} calls/s`}: round ${round + 1}/${rounds}`);
  }
  session.send('quit');
  const code = await session.exited;
  if (code !== 0) throw new Error(`gpo watch exited ${code}`);
  const storm = session.lines.find((l) => 'storm_calls' in l) as { storm_calls: number; storm_seconds: number } | undefined;
  return { samples, missed, achievedRate: storm && storm.storm_seconds > 0 ? storm.storm_calls / storm.storm_seconds : 0 };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function row(load: string, act: string, samples: Sample[], missed: number): string {
  const ms = samples.map((s) => s.ms);
  const gpoMs = samples.map((s) => s.gpoMs);
  if (ms.length === 0) return `| ${load} | ${act} | 0 | | | | | ${missed} |`;
  return `| ${load} | ${act} | ${ms.length} | ${round1(quantile(ms, 0.5))} | ${round1(quantile(ms, 0.99))} | ${round1(Math.max(...ms))} | ${round1(quantile(gpoMs, 0.5))} / ${round1(quantile(gpoMs, 0.99))} | ${missed} |`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '25' },
      rate: { type: 'string', default: '1000000' },
      loads: { type: 'string', default: 'idle,storm' },
      gpo: { type: 'string', default: join(ROOT, 'bin/gpo.js') },
      json: { type: 'boolean', default: false },
    },
  });
  if (process.geteuid?.() !== 0) throw new Error('bench/watch records with eBPF: run it as root');
  const rounds = Number(values.rounds);
  const progress = (s: string) => (values.json ? undefined : process.stderr.write(`${s}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'gpo-bench-watch-'));
  try {
    const results = [];
    const loads = values.loads.split(',');
    if (loads.length === 0 || loads.some((l) => l !== 'idle' && l !== 'storm')) throw new Error('--loads: idle, storm or both (comma-separated)');
    for (const rate of loads.map((l) => (l === 'idle' ? 0 : Number(values.rate)))) {
      progress(rate === 0 ? 'idle target' : `target calling getppid ${rate} times a second`);
      const baseline = await trainBaseline(values.gpo, dir, rate);
      results.push({ rate, ...(await measure(values.gpo, dir, baseline, rate, rounds, progress)) });
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
      return;
    }
    const lines = ['| load | act | alerts | p50 ms | p99 ms | max ms | gpo p50 / p99 ms | missed |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
    for (const r of results) {
      const load = r.rate === 0 ? 'idle' : `${(r.achievedRate / 1e6).toFixed(2)} M calls/s`;
      for (const act of ACTS)
        lines.push(
          row(
            load,
            act,
            r.samples.filter((s) => s.act === act),
            0,
          ),
        );
      lines.push(row(load, '**all**', r.samples, r.missed));
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/watch: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
