// Throughput of gpo train and gpo score against merely decoding the same Parquet trace, same run.
// Run after the build: node dist/bench/score.js [--rows N] [--threads N] [--trace FILE] [--json]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { parseBaseline } from '../src/baseline/document.js';
import { baselineText, trainBaseline } from '../src/baseline/train.js';
import { TRACE_COLUMNS, viewOf } from '../src/score/batch-view.js';
import { createDetectors, scoreTrace } from '../src/score/score-trace.js';
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

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { seconds: (performance.now() - start) / 1000, value };
}

async function decode(): Promise<number> {
  let n = 0;
  let touched = 0;
  for await (const batch of (await openTrace(path)).batches({ columns: [...TRACE_COLUMNS] })) {
    const view = viewOf(batch);
    for (let i = 0; i < view.rows; i++) touched += view.nr[i]! + view.tid[i]!;
    n += batch.numRows;
  }
  if (touched === -1) log('');
  return n;
}

log('decoding ...');
const decoded = await timed(decode);
log('training ...');
const trained = await timed(() => trainBaseline([path]));
const loaded = parseBaseline(JSON.parse(baselineText(trained.value.baseline)), 'bench');
log('scoring ...');
const scored = await timed(async () => scoreTrace(await openTrace(path), loaded, { baselinePath: 'bench' }));
log('decoding again ...');
const decodedAgain = await timed(decode);
const decodeSeconds = Math.min(decoded.seconds, decodedAgain.seconds);

// The detectors alone, on batches already decoded (the first 2 M rows held in memory).
const held: RecordBatch[] = [];
let heldRows = 0;
for await (const batch of (await openTrace(path)).batches({ columns: [...TRACE_COLUMNS] })) {
  if (heldRows >= 2_000_000) break;
  held.push(batch);
  heldRows += batch.numRows;
}
const target = { pid: 4000, exe: '' };
const detectors = createDetectors(loaded, target);
const engine = await timed(async () => {
  for (const batch of held) for (const d of detectors) d.observe(batch);
  return detectors.flatMap((d) => d.finish()).length;
});

const n = decoded.value;
const result = {
  trace: given || `synthetic: ${rows} syscalls, ${threads} threads`,
  rows: n,
  decode: { seconds: decodeSeconds, rows_per_s: n / decodeSeconds },
  train: { seconds: trained.seconds, rows_per_s: n / trained.seconds, vs_decode: trained.seconds / decodeSeconds },
  score: { seconds: scored.seconds, rows_per_s: n / scored.seconds, vs_decode: scored.seconds / decodeSeconds, anomalies: scored.value.anomalies.length },
  detectors_in_memory: { rows: heldRows, seconds: engine.seconds, rows_per_s: heldRows / engine.seconds },
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
};
if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else {
  const m = (x: number) => `${(x / 1e6).toFixed(2)} M/s`;
  const lines = [
    `trace: ${result.trace} (${n} rows)`,
    `step                          seconds   syscalls/s   x decode`,
    `decode (openTrace + columns)  ${decodeSeconds.toFixed(2).padStart(7)}   ${m(result.decode.rows_per_s).padStart(10)}   1.00`,
    `gpo train (2 passes)          ${trained.seconds.toFixed(2).padStart(7)}   ${m(result.train.rows_per_s).padStart(10)}   ${result.train.vs_decode.toFixed(2)}`,
    `gpo score                     ${scored.seconds.toFixed(2).padStart(7)}   ${m(result.score.rows_per_s).padStart(10)}   ${result.score.vs_decode.toFixed(2)}`,
    `score detectors, decoded      ${engine.seconds.toFixed(2).padStart(7)}   ${m(result.detectors_in_memory.rows_per_s).padStart(10)}   (${heldRows} rows in memory)`,
    `peak RSS ${result.peak_rss_mb} MB`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
rmSync(dir, { recursive: true, force: true });
