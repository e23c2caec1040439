// Many traces in one gpo process against one process per trace: ADFA-LD sequences imported one trace file
// each (two hosts, via the -o template), then `gpo train FOLDER` and `gpo score FOLDER` as one process each,
// against `gpo score TRACE` run once per trace (on a sample, scaled up: a thousand node start-ups take
// long). Wall time and peak RSS from GNU time. Also the one-process runs at a tenth of the traces, to show
// memory does not grow with the count. Usage (root not needed; hold the lock):
//   flock /tmp/gpo-bench.lock node dist/bench/fleet.js [--traces 1000] [--sample 50] [--dataset DIR]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importToTrace } from '../src/import/to-trace.js';
import { expandTraceInputs } from '../src/trace/inputs.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const count = Number(arg('--traces', '1000'));
const sample = Number(arg('--sample', '50'));
const dataset = arg('--dataset', fileURLToPath(new URL('../../../shared/datasets/adfa-ld', import.meta.url)));
const GPO = fileURLToPath(new URL('../../bin/gpo.js', import.meta.url));

interface Timed {
  seconds: number;
  /** User + system CPU seconds: steadier than wall time on a shared machine. */
  cpu: number;
  rssMb: number;
  code: number;
}

/** One gpo command under GNU time: wall seconds and peak RSS (MB). */
function timed(args: string[]): Timed {
  const r = spawnSync('/usr/bin/time', ['-f', 'GPO_TIME %e %M %U %S', process.execPath, GPO, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const m = /GPO_TIME (\S+) (\d+) (\S+) (\S+)/.exec(r.stderr);
  if (!m || (r.status !== 0 && r.status !== 1)) throw new Error(`gpo ${args.slice(0, 2).join(' ')} failed: ${r.stderr.slice(-500)}`);
  return { seconds: Number(m[1]), rssMb: Number(m[2]) / 1024, cpu: Number(m[3]) + Number(m[4]), code: r.status! };
}

const log = (line: string) => process.stderr.write(`bench/fleet: ${line}\n`);
const dir = mkdtempSync(join(tmpdir(), 'gpo-fleet-bench-'));
try {
  const sources = ['Training_Data_Master', 'Validation_Data_Master'].flatMap((sub) =>
    readdirSync(join(dataset, sub))
      .filter((f) => f.endsWith('.txt'))
      .sort()
      .map((f) => join(dataset, sub, f)),
  );
  if (sources.length < count) throw new Error(`${dataset} holds ${sources.length} sequences, fewer than ${count}`);
  log(`importing ${count} ADFA-LD sequences, one trace each ...`);
  let rows = 0;
  for (const [i, source] of sources.slice(0, count).entries()) {
    const tenth = i < count / 10 ? 'tenth' : 'rest';
    const host = i % 2 === 0 ? 'host-a' : 'host-b';
    rows += (await importToTrace('adfa-ld', [source], join(dir, 'fleet', tenth, '{host}', '{recording_id}.parquet'), { host, buildId: 'adfa' })).rows;
  }
  const all = join(dir, 'fleet');
  const tenth = join(all, 'tenth');
  const baseline = join(dir, 'baseline.json');
  log('training and scoring in one process ...');
  const trainTenth = timed(['train', tenth, '-o', join(dir, 'tenth.json')]);
  const train = timed(['train', all, '-o', baseline]);
  const scoreTenth = timed(['score', tenth, '-b', baseline, '--json']);
  const score = timed(['score', all, '-b', baseline, '--json']);
  log(`scoring ${sample} traces one process each ...`);
  const traces = expandTraceInputs([all]);
  if (traces.length !== count) throw new Error(`${traces.length} trace files for ${count} imports: recording ids collided`);
  const each = traces.slice(0, sample).map((trace) => timed(['score', trace, '-b', baseline, '--json']));
  const perTrace = each.reduce((s, t) => s + t.seconds, 0) / each.length;
  const perTraceCpu = each.reduce((s, t) => s + t.cpu, 0) / each.length;
  const fmt = (t: Timed) => `${t.seconds.toFixed(1)} s | ${t.cpu.toFixed(1)} s | ${t.rssMb.toFixed(0)} MB`;
  console.log(`${count} ADFA-LD traces (${rows.toLocaleString('en-US')} syscalls), one file each; GNU time, one run`);
  console.log('');
  console.log('| run | wall | CPU (user + sys) | peak RSS |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| \`gpo train FOLDER\`, ${count / 10} traces | ${fmt(trainTenth)} |`);
  console.log(`| \`gpo train FOLDER\`, ${count} traces | ${fmt(train)} |`);
  console.log(`| \`gpo score FOLDER --json\`, ${count / 10} traces | ${fmt(scoreTenth)} |`);
  console.log(`| \`gpo score FOLDER --json\`, ${count} traces | ${fmt(score)} |`);
  console.log(
    `| \`gpo score TRACE --json\` once per trace (${sample} timed, scaled to ${count}) | ${(perTrace * count).toFixed(1)} s | ${(perTraceCpu * count).toFixed(1)} s | ${Math.max(...each.map((t) => t.rssMb)).toFixed(0)} MB (each) |`,
  );
  console.log('');
  console.log(
    `one process: ${(count / score.seconds).toFixed(1)} traces/s; ${((perTrace * count) / score.seconds).toFixed(1)}x less wall time and ` +
      `${((perTraceCpu * count) / score.cpu).toFixed(1)}x less CPU than one process per trace (${(perTrace * 1000).toFixed(0)} ms, ${(perTraceCpu * 1000).toFixed(0)} ms CPU each)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
