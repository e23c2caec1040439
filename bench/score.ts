// Throughput of gpo train and gpo score against merely decoding the same Parquet trace, same run.
// Run after the build: node dist/bench/score.js [--rows N] [--threads N] [--trace FILE] [--repeats N]
// [--held-rows N] [--json]. Each round runs every step once; the table shows medians.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { median } from 'simple-statistics';
import type { LoadedBaseline } from '../src/baseline/document.js';
import { parseBaseline } from '../src/detectors/load-baseline.js';
import { BaselineTrainer, baselineText, trainBaseline } from '../src/train/train.js';
import { TRACE_BATCH_ROWS, TRACE_COLUMNS, viewOf } from '../src/trace/batch-view.js';
import { createScorers, scoreTrace } from '../src/score/score-trace.js';
import { openTrace } from '../src/trace/reader.js';
import { writeSyntheticTrace } from './synthetic-trace.js';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1]! : fallback;
}
const rows = Number(option('--rows', '10000000'));
const threads = Number(option('--threads', '8'));
const json = process.argv.includes('--json');
const log = (line: string) => json || process.stderr.write(`${line}\n`);

const dir = mkdtempSync(join(tmpdir(), 'gpo-bench-score-'));
const given = option('--trace', '');
const path = given || join(dir, 'synthetic.parquet');
if (!given) {
  log(`writing a synthetic trace: ${rows} syscalls over ${threads} threads (Markov chain) ...`);
  await writeSyntheticTrace(path, { rows, threads, seed: 1 });
}
if (!existsSync(path)) throw new Error(`${path}: no such trace`);

/** Wall seconds, and CPU seconds of the whole process (the decoding worker thread included). */
async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; cpu: number; value: T }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - start) / 1000, cpu: (used.user + used.system) / 1e6, value };
}

async function decode(): Promise<number> {
  let n = 0;
  let touched = 0;
  for await (const batch of (await openTrace(path)).batches({ columns: [...TRACE_COLUMNS], batchRows: TRACE_BATCH_ROWS })) {
    const view = viewOf(batch);
    for (let i = 0; i < view.rows; i++) touched += view.nr[i]! + view.tid[i]!;
    n += batch.numRows;
  }
  if (touched === -1) log('');
  return n;
}

const repeats = Number(option('--repeats', '3'));
const heldLimit = Number(option('--held-rows', '2000000'));

// The detectors alone, on batches already decoded (the first 2 M rows held in memory).
const held: RecordBatch[] = [];
let heldRows = 0;
const source = await openTrace(path);
for await (const batch of source.batches({ columns: [...TRACE_COLUMNS] })) {
  if (heldRows >= heldLimit) break;
  held.push(batch);
  heldRows += batch.numRows;
}

/** gpo train's work on the held batches: one trace, its held-out calibration and the document. */
async function trainHeld(): Promise<number> {
  const trainer = new BaselineTrainer(1);
  trainer.beginTrace(source.metadata.target);
  for (const batch of held) trainer.observe(batch);
  const trace = trainer.endTrace();
  const program = { exe: source.metadata.target.exe, build_id: source.metadata.target.build_id, exe_sha256: source.metadata.target.exe_sha256 };
  const document = await trainer.finish([{ path, sha256: '', ...trace, program, mode: source.metadata.target.mode }], program, () => held, [], path);
  return document.model.windows.vocabulary.length;
}

/** gpo score's detectors on the held batches, against the baseline trained on the whole trace. */
function scoreHeld(loaded: LoadedBaseline): number {
  const scorers = createScorers(loaded, source.metadata.target);
  for (const batch of held) {
    const view = viewOf(batch);
    for (const scorer of scorers) scorer.observe(view);
  }
  return scorers.flatMap((scorer) => scorer.finish()).length;
}

type Step = 'decode' | 'train' | 'score' | 'trainHeld' | 'scoreHeld';
const runs: Record<Step, number[]> = { decode: [], train: [], score: [], trainHeld: [], scoreHeld: [] };
const cpu: Record<Step, number[]> = { decode: [], train: [], score: [], trainHeld: [], scoreHeld: [] };
const record = (step: Step, t: { seconds: number; cpu: number }) => {
  runs[step].push(t.seconds);
  cpu[step].push(t.cpu);
};
let anomalies = 0;
for (let round = 1; round <= repeats; round++) {
  log(`round ${round}/${repeats}: decoding ...`);
  const decoded = await timed(decode);
  record('decode', decoded);
  if (decoded.value !== source.numRows) throw new Error(`decoded ${decoded.value} rows of ${source.numRows}`);
  log('training ...');
  const trained = await timed(() => trainBaseline([path]));
  record('train', trained);
  const loaded = parseBaseline(JSON.parse(baselineText(trained.value.baseline)), 'bench');
  log('scoring ...');
  const scored = await timed(async () => scoreTrace(await openTrace(path), loaded, { baselinePath: 'bench' }));
  record('score', scored);
  anomalies = scored.value.anomalies.length;
  log('train and score logic on the held batches ...');
  record('trainHeld', await timed(trainHeld));
  record('scoreHeld', await timed(async () => scoreHeld(loaded)));
}

const n = source.numRows!;
const decodeSeconds = median(runs.decode);
const step = (name: Step, rows: number, vsDecode: boolean) => ({
  seconds: median(runs[name]),
  rows_per_s: rows / median(runs[name]),
  ...(vsDecode && { vs_decode: median(runs[name]) / decodeSeconds }),
  runs: runs[name],
  cpu_seconds: median(cpu[name]),
});
const result = {
  trace: given || `synthetic: ${rows} syscalls, ${threads} threads`,
  rows: n,
  repeats,
  columns: [...TRACE_COLUMNS],
  decode: step('decode', n, false),
  train: step('train', n, true),
  score: { ...step('score', n, true), anomalies },
  train_logic_in_memory: { rows: heldRows, ...step('trainHeld', heldRows, false) },
  score_detectors_in_memory: { rows: heldRows, ...step('scoreHeld', heldRows, false) },
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
};
if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  const m = (x: number) => `${(x / 1e6).toFixed(2)} M/s`;
  const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}..${Math.max(...values).toFixed(2)}`;
  const row = (name: string, s: { seconds: number; rows_per_s: number; vs_decode?: number; runs: number[]; cpu_seconds: number }, note = '') =>
    `${name.padEnd(34)}${s.seconds.toFixed(2).padStart(7)}   ${spread(s.runs).padStart(11)}   ${s.cpu_seconds.toFixed(2).padStart(7)}   ${m(s.rows_per_s).padStart(10)}   ${s.vs_decode === undefined ? note : s.vs_decode.toFixed(2)}`;
  const lines = [
    `trace: ${result.trace} (${n} rows); medians of ${repeats} rounds; cpu: CPU seconds of all threads`,
    `step                              seconds        runs       cpu   syscalls/s   x decode`,
    row(`decode (${TRACE_COLUMNS.length} columns)`, result.decode, '1.00'),
    row('gpo train (one pass)', result.train),
    row('gpo score', result.score),
    row('train logic, decoded batches', result.train_logic_in_memory, `(${heldRows} rows in memory)`),
    row('score detectors, decoded batches', result.score_detectors_in_memory, `(${heldRows} rows in memory)`),
    `peak RSS ${result.peak_rss_mb} MB`,
    // Issue 4's targets, from this run's medians.
    ...(['train', 'score'] as const).map((name) => {
      const rate = result[name].rows_per_s;
      return `target: gpo ${name} handles ${m(rate)} (at least 5 M/s: ${rate >= 5e6 ? 'met' : 'not met'})`;
    }),
    `target: gpo score takes ${result.score.vs_decode!.toFixed(2)}x the time to decode (at most 1.5x: ${result.score.vs_decode! <= 1.5 ? 'met' : 'not met'})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
rmSync(dir, { recursive: true, force: true });
