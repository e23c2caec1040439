// Benchmark (not a test): bench/score or bench/record of this build against another commit's build, same
// run, runs alternating (base first in odd rounds, this build first in even ones), so that drift on a shared
// machine hits both alike. The other build is a checkout of that commit, built (bench/README.md):
//   node dist/bench/against.js --base DIR [--build DIR] [--rounds N] score [score.js options]
//   node dist/bench/against.js --base DIR [--build DIR] [--rounds N] record [record.js options]
// --build: compare another built checkout than this one against the base (two older commits).
// score: each build runs its own dist/bench/score.js (it times its own code in-process). record: this build's
// dist/bench/record.js runs both, with --gpo naming each build's bin/gpo.js (what is timed is gpo record).
// Prints a Markdown table: medians of the rounds' medians (each round's figures in brackets), and build / base.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from 'simple-statistics';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function usage(message: string): never {
  process.stderr.write(`against: ${message}\nusage: node dist/bench/against.js --base DIR [--build DIR] [--rounds N] score|record [options of that bench]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let base = '';
let build = ROOT;
let rounds = 2;
while (args[0]?.startsWith('--')) {
  const [flag, value] = [args.shift()!, args.shift()];
  if (value === undefined) usage(`${flag} needs a value`);
  if (flag === '--base') base = resolve(value);
  else if (flag === '--build') build = resolve(value);
  else if (flag === '--rounds') rounds = Number(value);
  else usage(`unknown option ${flag}`);
}
const bench = args.shift();
if (bench !== 'score' && bench !== 'record') usage('name the bench: score or record');
if (base === '' || !existsSync(join(base, 'bin/gpo.js'))) usage('--base DIR: a built checkout of the other commit');
if (!existsSync(join(build, 'bin/gpo.js'))) usage('--build DIR: a built checkout');
if (!Number.isInteger(rounds) || rounds < 1) usage('--rounds takes a whole number >= 1');

/** One figure of a bench's JSON output: its name and where it is. */
interface Figure {
  name: string;
  value: (doc: any) => number | undefined;
}

const FIGURES: Record<'score' | 'record', Figure[]> = {
  score: [
    { name: 'decode (s)', value: (d) => d.decode?.seconds },
    { name: 'gpo train (s)', value: (d) => d.train?.seconds },
    { name: 'gpo score (s)', value: (d) => d.score?.seconds },
    { name: 'train logic, decoded batches (s)', value: (d) => d.train_logic_in_memory?.seconds },
    { name: 'score detectors, decoded batches (s)', value: (d) => d.score_detectors_in_memory?.seconds },
    { name: 'peak RSS (MB)', value: (d) => d.peak_rss_mb },
  ],
  record: [
    { name: 'untraced storm (ns/syscall)', value: (d) => config(d, 'untraced')?.ns_per_call },
    { name: 'gpo record: storm (ns/syscall)', value: (d) => config(d, 'gpo')?.ns_per_call },
    { name: 'gpo record: added (ns/syscall)', value: (d) => config(d, 'gpo')?.added_ns },
    { name: 'gpo record: events/s end to end', value: (d) => config(d, 'gpo')?.gpo?.events_per_s },
    { name: 'gpo record: wall (s)', value: (d) => config(d, 'gpo')?.gpo?.wall_s },
    { name: 'gpo record: peak RSS (MB)', value: (d) => kbToMb(config(d, 'gpo')?.gpo?.peak_rss_kb) },
    { name: 'throughput: events/s into the trace', value: (d) => d.throughput?.events_per_s },
  ],
};

function config(doc: any, name: string): any {
  return (doc.results as any[] | undefined)?.find((r) => r.config === name && r.ok);
}
function kbToMb(kb: number | undefined): number | undefined {
  return kb === undefined ? undefined : kb / 1024;
}

/** Runs one build's bench once; its JSON document. */
function runOnce(build: string): any {
  const [script, extra] =
    bench === 'score' ? [join(build, 'dist/bench/score.js'), []] : [join(ROOT, 'dist/bench/record.js'), ['--gpo', join(build, 'bin/gpo.js')]];
  const r = spawnSync(process.execPath, [script, ...args, ...extra, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${script} (${build}) failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout);
}

const docs: Record<'base' | 'this', any[]> = { base: [], this: [] };
for (let round = 1; round <= rounds; round++) {
  const order: ('base' | 'this')[] = round % 2 === 1 ? ['base', 'this'] : ['this', 'base'];
  for (const which of order) {
    process.stderr.write(`round ${round}/${rounds}: ${which} ...\n`);
    docs[which].push(runOnce(which === 'base' ? base : build));
  }
}

const fmt = (x: number) => (x >= 1000 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3));
const lines = [`| ${bench} | base (${base}) | ${build} | ratio |`, '| --- | --- | --- | --- |'];
for (const figure of FIGURES[bench]) {
  const values = (which: 'base' | 'this') => docs[which].map(figure.value).filter((v): v is number => typeof v === 'number');
  const [b, t] = [values('base'), values('this')];
  if (b.length === 0 || t.length === 0) continue;
  const cell = (v: number[]) => `${fmt(median(v))} (${v.map(fmt).join(', ')})`;
  lines.push(`| ${figure.name} | ${cell(b)} | ${cell(t)} | ${(median(t) / median(b)).toFixed(2)} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
