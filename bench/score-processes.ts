// gpo score of a trace of many single-call processes (the scorers' state per thread and per process), this
// build against another build, same run: wall time, CPU time and peak RSS from GNU time, and whether the two JSON
// outputs are byte-identical. Builds alternate (the base first in odd rounds). Usage (hold the lock):
//   flock /tmp/gpo-bench.lock node dist/bench/score-processes.js [--base DIR] [--processes 100000,300000]
//     [--long-every N] [--rounds N] [--keep DIR]
// --base: a built checkout of another commit (bench/README.md); without it, this build alone.
// --long-every N: every N-th row is a call of one long-lived thread instead, so windows are scored too.
// --keep DIR: leave the traces, the baseline and the outputs there.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baselineText, trainBaseline } from '../src/train/train.js';
import { writeProcessesTrace, writeSyntheticTrace } from './synthetic-trace.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : process.argv[i + 1]!;
};
const base = arg('--base', '');
const counts = arg('--processes', '100000,300000').split(',').map(Number);
const longEvery = Number(arg('--long-every', '0'));
const rounds = Number(arg('--rounds', '1'));
const keep = arg('--keep', '');
const builds = [...(base ? [{ name: 'base', dir: resolve(base) }] : []), { name: 'this', dir: ROOT }];
for (const build of builds) if (!existsSync(join(build.dir, 'bin/gpo.js'))) throw new Error(`${build.dir}: not a built checkout`);
if (counts.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(rounds) || rounds < 1)
  throw new Error('--processes and --rounds take whole numbers >= 1');

const log = (line: string) => process.stderr.write(`bench/score-processes: ${line}\n`);
const dir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'gpo-bench-processes-'));
mkdirSync(dir, { recursive: true });

interface Run {
  seconds: number;
  /** User + system CPU seconds: steadier than wall time on a shared machine. */
  cpu: number;
  rssMb: number;
  sha256: string;
}

/** One `gpo score --json` of `build` under GNU time; its output kept in `out`. */
function score(build: string, trace: string, baseline: string, out: string): Run {
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', 'GPO_TIME %e %M %U %S', process.execPath, join(build, 'bin/gpo.js'), 'score', trace, '--baseline', baseline, '--json'],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    },
  );
  const m = /GPO_TIME (\S+) (\d+) (\S+) (\S+)/.exec(r.stderr);
  if (!m || (r.status !== 0 && r.status !== 1)) throw new Error(`gpo score (${build}) failed: ${r.stderr.slice(-500)}`);
  writeFileSync(out, r.stdout);
  return { seconds: Number(m[1]), cpu: Number(m[3]) + Number(m[4]), rssMb: Number(m[2]) / 1024, sha256: createHash('sha256').update(r.stdout).digest('hex') };
}

try {
  log('training a baseline on a synthetic Markov trace (200,000 calls, 4 threads) ...');
  const normal = join(dir, 'normal.parquet');
  await writeSyntheticTrace(normal, { rows: 200_000, threads: 4, seed: 1 });
  const baseline = join(dir, 'baseline.json');
  writeFileSync(baseline, baselineText((await trainBaseline([normal])).baseline));
  const lines = ['| processes | rows | build | wall s (runs) | CPU s (runs) | peak RSS MB (runs) | output |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const n of counts) {
    const trace = join(dir, `processes-${n}.parquet`);
    log(`writing a trace of ${n} single-call processes ...`);
    const rows = await writeProcessesTrace(trace, { processes: n, longEvery });
    const runs = new Map<string, Run[]>(builds.map((b) => [b.name, []]));
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? builds : [...builds].reverse();
      for (const build of order) {
        log(`${n} processes, round ${round}/${rounds}: ${build.name} ...`);
        runs.get(build.name)!.push(score(build.dir, trace, baseline, join(dir, `score-${n}-${build.name}-${round}.json`)));
      }
    }
    const hashes = new Set([...runs.values()].flat().map((run) => run.sha256));
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
    for (const build of builds) {
      const list = runs.get(build.name)!;
      const figures = (values: number[], digits: number) =>
        `${median(values).toFixed(digits)}${values.length > 1 ? ` (${values.map((v) => v.toFixed(digits)).join(', ')})` : ''}`;
      lines.push(
        `| ${n} | ${rows} | ${build.name} | ${figures(
          list.map((r) => r.seconds),
          2,
        )} | ${figures(
          list.map((r) => r.cpu),
          2,
        )} | ${figures(
          list.map((r) => r.rssMb),
          0,
        )} | ${hashes.size === 1 ? 'identical' : 'DIFFERENT'} ${list[0]!.sha256.slice(0, 12)} |`,
      );
    }
    if (keep === '')
      for (const file of [trace, ...builds.flatMap((b) => Array.from({ length: rounds }, (_, i) => join(dir, `score-${n}-${b.name}-${i + 1}.json`)))])
        rmSync(file, { force: true });
  }
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  if (keep === '') rmSync(dir, { recursive: true, force: true });
}
