// Benchmark (not a test): what each way of watching a syscall storm costs the target, same run, same machine.
// See bench/README.md. Run with `npm run bench` (after `npm run build`), as root.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from 'simple-statistics';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STORM = join(ROOT, 'out/bin/storm');
const EMPTY_TP = join(ROOT, 'out/bin/empty-tp');
const GNU_TIME = '/usr/bin/time';
const TRACEFS = '/sys/kernel/tracing';
const GETPPID = 110;

const CONFIGS = ['untraced', 'empty-tp-btf', 'gpo', 'gpo-syscalls-only', 'gpo-durations', 'bpftrace', 'strace'] as const;
type ConfigName = (typeof CONFIGS)[number];
const DEFAULT_CONFIGS: readonly ConfigName[] = ['untraced', 'empty-tp-btf', 'gpo', 'gpo-syscalls-only', 'bpftrace', 'strace'];

interface Options {
  calls: number;
  straceCalls: number;
  repeats: number;
  configs: ConfigName[];
  json: boolean;
  /** The gpo entry point run with node. */
  gpo: string;
  /** Calls of the throughput storm (0: skip it). */
  throughputCalls: number;
}

/** The recorder's sustained rate: a storm on every CPU, gpo sharing them, nothing pinned. */
interface ThroughputResult {
  calls: number;
  rows: number;
  drops: number;
  /** Rows written to the trace per second of the storm's own loop: the rate the recorder kept up with. */
  events_per_s: number;
  /** The recorder's own CPU time per row (trace metadata recorder.rows_per_cpu_s). */
  rows_per_cpu_s?: number;
  /** The whole `gpo record` command, Parquet conversion included. */
  wall_s: number;
  peak_rss_kb?: number;
}

/** What the storm reports about itself: its own loop, timed inside the target. */
interface StormResult {
  calls: number;
  ns: number;
  ns_per_call: number;
}

/** Facts only the gpo rows have. */
interface GpoDetails {
  rows?: number;
  drops?: number;
  /** rows / wall time of the whole `gpo record` command (start-up, recording, Parquet conversion). */
  events_per_s?: number;
  wall_s: number;
  peak_rss_kb?: number;
}

interface RunResult {
  storm: StormResult;
  gpo?: GpoDetails;
  /** Something worth knowing that did not make the run fail (e.g. a tracer that missed calls). */
  note?: string;
}

interface ConfigSummary {
  config: ConfigName;
  calls: number;
  ok: boolean;
  error?: string;
  runs_ns_per_call: number[];
  ns_per_call?: number;
  added_ns?: number;
  ratio?: number;
  gpo?: GpoDetails;
  notes: string[];
}

class RunFailed extends Error {}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      calls: { type: 'string', default: '5000000' },
      'strace-calls': { type: 'string', default: '200000' },
      repeats: { type: 'string', default: '3' },
      configs: { type: 'string', default: DEFAULT_CONFIGS.join(',') },
      json: { type: 'boolean', default: false },
      gpo: { type: 'string', default: join(ROOT, 'bin/gpo.js') },
      'throughput-calls': { type: 'string', default: '20000000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: node dist/bench/record.js [--calls N] [--strace-calls N] [--repeats N] [--configs LIST] [--gpo FILE]\n' +
        '                                 [--throughput-calls N] [--json]\n' +
        `  LIST: comma-separated, from ${CONFIGS.join(', ')} (default ${DEFAULT_CONFIGS.join(',')})\n`,
    );
    process.exit(0);
  }
  const positive = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be an integer >= 1, got '${text}'`);
    return n;
  };
  const configs = values.configs
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  for (const c of configs) {
    if (!(CONFIGS as readonly string[]).includes(c)) throw new Error(`unknown config '${c}'; known: ${CONFIGS.join(', ')}`);
  }
  return {
    calls: positive('calls', values.calls),
    straceCalls: positive('strace-calls', values['strace-calls']),
    repeats: positive('repeats', values.repeats),
    configs: ['untraced', ...configs.filter((c) => c !== 'untraced')] as ConfigName[],
    json: values.json,
    gpo: values.gpo,
    throughputCalls: values['throughput-calls'] === '0' ? 0 : positive('throughput-calls', values['throughput-calls']),
  };
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

function finish(child: ChildProcess): Promise<Finished> {
  const started = performance.now();
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, wallMs: performance.now() - started }));
  });
}

function run(cmd: string, args: string[]): Promise<Finished> {
  return finish(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
}

// The storm pins itself to STORM_CPU and every tracer runs on the other CPU, so that each config measures
// the tracer's cost on the target rather than where the scheduler happened to put the two.
const STORM_CPU = '1';
const TRACER_CPU = '0';
process.env.STORM_CPU = STORM_CPU;

/** A tracer's command line, pinned to the CPU the storm does not use. */
function onTracerCpu(cmd: string, args: string[]): [string, string[]] {
  return ['taskset', ['-c', TRACER_CPU, cmd, ...args]];
}

function lastLines(text: string, n = 3): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}

/** The storm's JSON line, wherever it is among a tracer's own output. */
function parseStorm(stdout: string): StormResult {
  for (const line of stdout.split('\n').reverse()) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      const value = JSON.parse(trimmed) as Partial<StormResult>;
      if (typeof value.ns_per_call === 'number' && typeof value.calls === 'number' && typeof value.ns === 'number') {
        return { calls: value.calls, ns: value.ns, ns_per_call: value.ns_per_call };
      }
    } catch {
      // not the storm's line
    }
  }
  throw new RunFailed(`no storm result on stdout (${lastLines(stdout) || 'empty'})`);
}

function check(result: Finished, what: string): void {
  if (result.code !== 0) {
    const how = result.signal ? `signal ${result.signal}` : `exit ${result.code}`;
    throw new RunFailed(`${what}: ${how}: ${lastLines(result.stderr) || lastLines(result.stdout) || 'no output'}`);
  }
}

async function runUntraced(calls: number): Promise<RunResult> {
  const result = await run(STORM, [String(calls)]);
  check(result, 'storm');
  return { storm: parseStorm(result.stdout) };
}

/** The floor: the storm while an empty tp_btf/sys_exit program (bench/empty-tp.c) is attached. */
async function runEmptyTpBtf(calls: number): Promise<RunResult> {
  const holder = spawn(EMPTY_TP, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  const held = finish(holder);
  try {
    let out = '';
    holder.stdout!.on('data', (d: Buffer) => (out += d));
    const deadline = performance.now() + 30_000;
    while (!out.includes('attached')) {
      if (holder.exitCode !== null) throw new RunFailed(`empty-tp exited early: ${lastLines((await held).stderr)}`);
      if (performance.now() > deadline) throw new RunFailed('empty-tp did not attach within 30 s');
      await sleep(20);
    }
    const result = await run(STORM, [String(calls)]);
    check(result, 'storm');
    return { storm: parseStorm(result.stdout) };
  } finally {
    holder.stdin!.end();
    await held;
  }
}

async function runStrace(calls: number): Promise<RunResult> {
  const result = await run(...onTracerCpu('strace', ['-f', '-o', '/dev/null', STORM, String(calls)]));
  check(result, 'strace');
  return { storm: parseStorm(result.stdout) };
}

/** First number found under any of `keys`, anywhere in `value`; objects of numbers (per-CPU, per-reason) are summed. */
function findCount(value: unknown, keys: readonly string[]): number | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  for (const key of keys) {
    const v = record[key];
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
    if (v !== null && typeof v === 'object') {
      const parts = Object.values(v as Record<string, unknown>);
      if (parts.length > 0 && parts.every((p) => typeof p === 'number')) {
        return (parts as number[]).reduce((a, b) => a + b, 0);
      }
    }
  }
  for (const v of Object.values(record)) {
    const found = findCount(v, keys);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `gpo record` of a storm, with the storm's result, gpo's peak RSS and the trace's `gpo info --json`. */
async function recordStorm(
  gpo: string,
  stormArgs: string[],
  gpoOptions: string[],
  scratch: string,
  pinned: boolean,
): Promise<{ storm: StormResult; wallMs: number; peakRssKb?: number; info?: unknown; notes: string[] }> {
  const trace = join(scratch, `storm-${Date.now()}.parquet`);
  const timeFile = join(scratch, 'time.txt');
  const gpoArgs = [gpo, 'record', '-o', trace, '--quiet', ...gpoOptions, '--', STORM, ...stormArgs];
  const useTime = existsSync(GNU_TIME);
  rmSync(timeFile, { force: true });
  // GNU time reports the peak RSS of the gpo node process (max over it and its reaped children; the storm's
  // own is tiny) without our having to race its exit.
  let command: [string, string[]] = useTime ? [GNU_TIME, ['-f', '%M', '-o', timeFile, process.execPath, ...gpoArgs]] : [process.execPath, gpoArgs];
  const env = { ...process.env };
  if (pinned) command = onTracerCpu(...command);
  else delete env.STORM_CPU;
  const result = await finish(spawn(...command, { stdio: ['ignore', 'pipe', 'pipe'], env }));
  try {
    check(result, 'gpo record');
    const notes: string[] = [];
    let peakRssKb: number | undefined;
    if (useTime && existsSync(timeFile)) {
      const kb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1));
      if (Number.isFinite(kb) && kb > 0) peakRssKb = kb;
    }
    let info: unknown;
    const infoRun = await run(process.execPath, [gpo, 'info', trace, '--json']);
    if (infoRun.code !== 0) notes.push(`gpo info failed: ${lastLines(infoRun.stderr, 1) || `exit ${infoRun.code}`}`);
    else {
      try {
        info = JSON.parse(infoRun.stdout);
      } catch {
        notes.push('gpo info --json printed no JSON');
      }
    }
    return { storm: parseStorm(result.stdout), wallMs: result.wallMs, peakRssKb, info, notes };
  } finally {
    rmSync(trace, { force: true });
    rmSync(`${trace}.arrows`, { force: true });
  }
}

const rowsOf = (info: unknown) => findCount(info, ['rows', 'row_count', 'rowCount', 'numRows', 'num_rows', 'events']);
const dropsOf = (info: unknown) => findCount(info, ['drops', 'dropped', 'lost', 'lost_events']);

async function runGpo(gpo: string, calls: number, extraArgs: string[], scratch: string): Promise<RunResult> {
  const r = await recordStorm(gpo, [String(calls)], extraArgs, scratch, true);
  const details: GpoDetails = { wall_s: r.wallMs / 1000, peak_rss_kb: r.peakRssKb, rows: rowsOf(r.info), drops: dropsOf(r.info) };
  if (details.rows !== undefined) {
    details.events_per_s = details.rows / details.wall_s;
    if (details.rows < calls) r.notes.push(`${calls - details.rows} fewer rows than storm calls`);
  }
  return { storm: r.storm, gpo: details, note: r.notes.length > 0 ? r.notes.join('; ') : undefined };
}

/** A storm with one thread per CPU and gpo unpinned: can the recorder keep up with every CPU storming? */
async function runThroughput(gpo: string, calls: number, scratch: string): Promise<ThroughputResult> {
  const r = await recordStorm(gpo, [String(calls), String(cpus().length)], [], scratch, false);
  const rows = rowsOf(r.info);
  if (rows === undefined) throw new RunFailed(`no row count for the throughput run (${r.notes.join('; ')})`);
  return {
    calls,
    rows,
    drops: dropsOf(r.info) ?? 0,
    events_per_s: rows / (r.storm.ns / 1e9),
    rows_per_cpu_s: findCount(r.info, ['rows_per_cpu_s']),
    wall_s: r.wallMs / 1000,
    peak_rss_kb: r.peakRssKb,
  };
}

function ensureTracefs(): void {
  if (existsSync(join(TRACEFS, 'events/raw_syscalls'))) return;
  // bpftrace needs tracefs for tracepoint probes; a fresh machine here does not mount it.
  const mount = spawnSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { encoding: 'utf8' });
  if (mount.status !== 0 || !existsSync(join(TRACEFS, 'events/raw_syscalls'))) {
    throw new RunFailed(`tracefs is not mounted at ${TRACEFS} and mounting it failed: ${mount.stderr.trim()}`);
  }
}

/** True once `bpftool perf list` shows a tracepoint attached by process `pid`. */
function tracepointAttached(pid: number): boolean | undefined {
  const listing = spawnSync('bpftool', ['perf', 'list', '-j'], { encoding: 'utf8' });
  if (listing.status !== 0) return undefined;
  try {
    const entries = JSON.parse(listing.stdout) as Array<{ pid?: number; fd_type?: string }>;
    return entries.some((e) => e.pid === pid && e.fd_type === 'tracepoint');
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runBpftrace(calls: number): Promise<RunResult> {
  ensureTracefs();
  // The storm must already exist for bpftrace to filter on its pid, and must not start until bpftrace is attached.
  const storm = spawn(STORM, ['--wait-stdin', String(calls)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stormDone = finish(storm);
  const program = 'tracepoint:raw_syscalls:sys_enter /pid == $1/ { @[args->id] = count(); }';
  const tracer = spawn(...onTracerCpu('bpftrace', ['-e', program, String(storm.pid)]), { stdio: ['ignore', 'pipe', 'pipe'] });
  const tracerDone = finish(tracer);
  let tracerOut = '';
  tracer.stdout?.on('data', (d: string) => (tracerOut += d));
  let tracerExited = false;
  void tracerDone.then(() => (tracerExited = true));
  try {
    const deadline = performance.now() + 30_000;
    let attached = false;
    while (!attached) {
      if (tracerExited) throw new RunFailed(`bpftrace exited early: ${lastLines((await tracerDone).stderr)}`);
      if (performance.now() > deadline) throw new RunFailed('bpftrace did not attach within 30 s');
      if (tracerOut.includes('Attaching')) {
        const seen = tracepointAttached(tracer.pid!);
        if (seen === undefined) {
          await sleep(1000); // no bpftool: give the attach a generous moment; the count check below still applies
          attached = true;
        } else {
          attached = seen;
        }
      }
      if (!attached) await sleep(50);
    }
    storm.stdin!.end('go');
    const stormResult = await stormDone;
    check(stormResult, 'storm');
    tracer.kill('SIGINT');
    // bpftrace has been seen to miss a SIGINT here; ask again rather than wait forever.
    const again = setInterval(() => tracer.kill('SIGINT'), 5000);
    const traced = await tracerDone.finally(() => clearInterval(again));
    if (traced.code !== 0) throw new RunFailed(`bpftrace: exit ${traced.code}: ${lastLines(traced.stderr)}`);
    const counted = new RegExp(`^@\\[${GETPPID}\\]: (\\d+)$`, 'm').exec(traced.stdout);
    const seen = counted ? Number(counted[1]) : 0;
    return {
      storm: parseStorm(stormResult.stdout),
      note: seen === calls ? undefined : `bpftrace counted ${seen} of ${calls} getppid calls`,
    };
  } finally {
    if (storm.exitCode === null) storm.kill('SIGKILL');
    if (tracer.exitCode === null) tracer.kill('SIGKILL');
  }
}

function medianOf(values: Array<number | undefined>): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length > 0 ? median(present) : undefined;
}

function callsFor(config: ConfigName, options: Options): number {
  return config === 'strace' ? options.straceCalls : options.calls;
}

async function runOnce(config: ConfigName, options: Options, scratch: string): Promise<RunResult> {
  const calls = callsFor(config, options);
  switch (config) {
    case 'untraced':
      return runUntraced(calls);
    case 'empty-tp-btf':
      return runEmptyTpBtf(calls);
    case 'gpo':
      return runGpo(options.gpo, calls, [], scratch);
    case 'gpo-syscalls-only':
      return runGpo(options.gpo, calls, ['--syscalls-only'], scratch);
    case 'gpo-durations':
      return runGpo(options.gpo, calls, ['--durations'], scratch);
    case 'bpftrace':
      return runBpftrace(calls);
    case 'strace':
      return runStrace(calls);
  }
}

function otherTracers(): number | undefined {
  const listing = spawnSync('bpftool', ['perf', 'list', '-j'], { encoding: 'utf8' });
  if (listing.status !== 0) return undefined;
  try {
    return (JSON.parse(listing.stdout) as unknown[]).length;
  } catch {
    return undefined;
  }
}

/** The median of each throughput figure. */
function throughputSummary(runs: ThroughputResult[]): ThroughputResult {
  return {
    calls: runs[0].calls,
    rows: median(runs.map((r) => r.rows)),
    drops: median(runs.map((r) => r.drops)),
    events_per_s: median(runs.map((r) => r.events_per_s)),
    rows_per_cpu_s: medianOf(runs.map((r) => r.rows_per_cpu_s)),
    wall_s: median(runs.map((r) => r.wall_s)),
    peak_rss_kb: medianOf(runs.map((r) => r.peak_rss_kb)),
  };
}

function format(n: number | undefined, digits = 0): string {
  if (n === undefined) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function printTable(summaries: ConfigSummary[], throughput: ThroughputResult[], options: Options, warnings: string[]): void {
  const header = ['config', 'calls', 'ns/syscall', 'added ns vs untraced', 'ratio vs untraced', 'runs min..max'];
  const rows = summaries.map((s) => [
    s.config,
    format(s.calls),
    s.ok ? format(s.ns_per_call, 1) : 'FAILED',
    s.config === 'untraced' ? '' : format(s.added_ns, 1),
    s.config === 'untraced' ? '' : s.ratio === undefined ? '-' : `${s.ratio.toFixed(2)}x`,
    s.ok ? `${format(Math.min(...s.runs_ns_per_call), 1)}..${format(Math.max(...s.runs_ns_per_call), 1)}` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ');
  const out: string[] = [];
  out.push(`gpo bench: getppid storm, median of ${options.repeats} runs, kernel ${release()}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? '?'})`);
  out.push(line(header));
  out.push(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) out.push(line(r));
  for (const s of summaries) {
    if (s.gpo) {
      const g = s.gpo;
      const rss = g.peak_rss_kb === undefined ? '-' : `${(g.peak_rss_kb / 1024).toFixed(1)} MiB`;
      out.push(
        `${s.config}: rows ${format(g.rows)}, drops ${format(g.drops)}, ` +
          `${format(g.events_per_s)} events/s end to end (${g.wall_s.toFixed(2)} s wall), peak RSS ${rss}`,
      );
    }
    if (!s.ok) out.push(`${s.config}: failed: ${s.error}`);
    for (const n of s.notes) out.push(`${s.config}: note: ${n}`);
  }
  // The issues' targets, from this run's figures.
  const added = (name: string) => summaries.find((x) => x.config === name && x.ok)?.added_ns;
  const [all, syscallsOnly, bpftrace] = [added('gpo'), added('gpo-syscalls-only'), added('bpftrace')];
  if (all !== undefined && bpftrace !== undefined)
    out.push(
      `target: gpo adds ${format(all, 1)} ns/syscall writing every syscall vs bpftrace's ${format(bpftrace, 1)} ns merely counting (${all <= bpftrace ? 'met' : 'not met'})`,
    );
  if (syscallsOnly !== undefined && bpftrace !== undefined)
    out.push(
      `target: gpo --syscalls-only adds ${format(syscallsOnly, 1)} ns/syscall vs bpftrace's ${format(bpftrace, 1)} ns (${syscallsOnly <= bpftrace ? 'met' : 'not met'})`,
    );
  const perCall = (name: string) => summaries.find((x) => x.config === name && x.ok)?.ns_per_call;
  const [gpoNs, floorNs, floorAdded] = [perCall('gpo'), perCall('empty-tp-btf'), added('empty-tp-btf')];
  if (gpoNs !== undefined && floorNs !== undefined && floorAdded !== undefined)
    out.push(`floor: an empty tp_btf program adds ${format(floorAdded, 1)} ns/syscall; gpo costs ${(gpoNs / floorNs).toFixed(2)}x the storm under it`);
  if (all !== undefined && syscallsOnly !== undefined) {
    const extra = ((all - syscallsOnly) / syscallsOnly) * 100;
    out.push(
      `target: all observation hooks add ${extra.toFixed(1)}% to the cost of recording syscalls alone (target <= 10%: ${extra <= 10 ? 'met' : 'not met'})`,
    );
  }
  if (throughput.length > 0) {
    const t = throughputSummary(throughput);
    const rss = t.peak_rss_kb === undefined ? '-' : `${(t.peak_rss_kb / 1024).toFixed(1)} MiB`;
    out.push(
      `throughput: ${format(t.calls)} getppid calls on ${cpus().length} threads, gpo unpinned, median of ${throughput.length}: ` +
        `${format(t.events_per_s)} events/s into the trace, rows ${format(t.rows)}, drops ${format(t.drops)}, ` +
        `recorder ${format(t.rows_per_cpu_s)} rows per CPU second, ${t.wall_s.toFixed(1)} s wall with Parquet conversion, peak RSS ${rss}`,
    );
    const met = t.events_per_s >= 3e6 && t.drops === 0;
    out.push(
      `target: the recorder sustains 3 M events/s into the trace with no drops: ${format(t.events_per_s)} events/s, ${format(t.drops)} drops (${met ? 'met' : 'not met'})`,
    );
  }
  const rssValues = [
    ...summaries.flatMap((s) => (s.gpo?.peak_rss_kb ? [s.gpo.peak_rss_kb] : [])),
    ...throughput.flatMap((t) => (t.peak_rss_kb ? [t.peak_rss_kb] : [])),
  ];
  if (rssValues.length > 0) {
    const peak = Math.max(...rssValues) / 1024;
    out.push(`target: gpo's peak RSS below 250 MB: ${peak.toFixed(1)} MiB at most over the gpo rows (${peak * 1.048576 < 250 ? 'met' : 'not met'})`);
  }
  for (const w of warnings) out.push(`warning: ${w}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(STORM)) throw new Error(`${STORM} is missing; build it with: make out/bin/storm`);
  const warnings: string[] = [];
  if (process.getuid?.() !== 0) warnings.push('not root: bpftrace and gpo rows will fail');
  const attachedBefore = otherTracers();
  if (attachedBefore) warnings.push(`${attachedBefore} perf-event BPF attachments from other processes were present at start`);

  const scratch = mkdtempSync(join(tmpdir(), 'gpo-bench-'));
  const results = new Map<ConfigName, Array<RunResult | Error>>(options.configs.map((c) => [c, []]));
  try {
    await runUntraced(Math.min(options.calls, 1_000_000)); // warm-up: page cache, CPU frequency
    // Rounds interleave the configs so slow drift on the machine hits them all alike.
    for (let round = 0; round < options.repeats; round++) {
      for (const config of options.configs) {
        if (!options.json) process.stderr.write(`round ${round + 1}/${options.repeats}: ${config}...\n`);
        let outcome: RunResult | Error;
        try {
          outcome = await runOnce(config, options, scratch);
        } catch (err) {
          // A config that cannot run (tool missing, recorder unfinished) is reported as failed, not fatal.
          outcome = err instanceof Error ? err : new Error(String(err));
        }
        results.get(config)!.push(outcome);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const summaries: ConfigSummary[] = [];
  for (const config of options.configs) {
    const outcomes = results.get(config)!;
    const good = outcomes.filter((o): o is RunResult => !(o instanceof Error));
    const errors = outcomes.filter((o): o is Error => o instanceof Error);
    const summary: ConfigSummary = {
      config,
      calls: callsFor(config, options),
      ok: good.length > 0,
      runs_ns_per_call: good.map((r) => r.storm.ns_per_call),
      notes: [...new Set(good.map((r) => r.note).filter((n): n is string => n !== undefined))],
    };
    if (errors.length > 0) {
      const message = errors[0].message;
      if (summary.ok) summary.notes.push(`${errors.length} of ${outcomes.length} runs failed: ${message}`);
      else summary.error = message;
    }
    if (summary.ok) summary.ns_per_call = median(summary.runs_ns_per_call);
    const gpoRuns = good.flatMap((r) => (r.gpo ? [r.gpo] : []));
    if (gpoRuns.length > 0) {
      summary.gpo = {
        rows: medianOf(gpoRuns.map((g) => g.rows)),
        drops: medianOf(gpoRuns.map((g) => g.drops)),
        events_per_s: medianOf(gpoRuns.map((g) => g.events_per_s)),
        wall_s: median(gpoRuns.map((g) => g.wall_s)),
        peak_rss_kb: medianOf(gpoRuns.map((g) => g.peak_rss_kb)),
      };
    }
    summaries.push(summary);
  }
  const throughput: ThroughputResult[] = [];
  if (options.throughputCalls > 0) {
    const scratchT = mkdtempSync(join(tmpdir(), 'gpo-bench-'));
    try {
      for (let round = 0; round < options.repeats; round++) {
        if (!options.json) process.stderr.write(`throughput ${round + 1}/${options.repeats}...\n`);
        try {
          throughput.push(await runThroughput(options.gpo, options.throughputCalls, scratchT));
        } catch (err) {
          warnings.push(`throughput run failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    } finally {
      rmSync(scratchT, { recursive: true, force: true });
    }
  }

  const base = summaries.find((s) => s.config === 'untraced')?.ns_per_call;
  for (const s of summaries) {
    if (base !== undefined && s.ns_per_call !== undefined) {
      s.added_ns = s.ns_per_call - base;
      s.ratio = s.ns_per_call / base;
    }
  }

  if (options.json) {
    const machine = { kernel: release(), cpus: cpus().length, cpu_model: cpus()[0]?.model.trim() };
    const document = {
      benchmark: 'getppid storm',
      repeats: options.repeats,
      machine,
      warnings,
      results: summaries,
      throughput: throughput.length > 0 ? throughputSummary(throughput) : null,
    };
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    printTable(summaries, throughput, options, warnings);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
