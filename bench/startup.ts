// Benchmark (not a test): what gpo record costs before and after the target runs. Records a command that
// prints its own start time (`date +%s%N`) and exits, with each build given, runs alternating, and splits the
// wall time of `gpo record` into: start of gpo -> the target's first instruction (modules, BPF load and
// attach, launch), the target's start -> gpo's exit (the target, its end reaching gpo, detaching, the
// Parquet file), and the total. Prints a Markdown table of medians, each build against the first.
//   node dist/bench/startup.js [--rounds N] [BUILD_DIR ...]      (default: this build alone)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from 'simple-statistics';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
let rounds = 5;
if (args[0] === '--rounds') {
  rounds = Number(args[1]);
  args.splice(0, 2);
}
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('usage: node dist/bench/startup.js [--rounds N] [BUILD_DIR ...]\n');
  process.exit(2);
}
const builds = args.length > 0 ? args.map((dir) => resolve(dir)) : [ROOT];
const scratch = mkdtempSync(join(tmpdir(), 'gpo-startup-'));
// Wall time, as `date` prints it (to the millisecond: the figures are hundreds of them).
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

interface Run {
  toTarget: number;
  after: number;
  total: number;
}
const runs = new Map<string, Run[]>(builds.map((b) => [b, []]));
try {
  for (let round = 0; round < rounds; round++) {
    for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
      const out = join(scratch, `r${round}.parquet`);
      const started = nowNs();
      const r = spawnSync(process.execPath, [join(build, 'bin/gpo.js'), 'record', '-q', '-o', out, '--', '/bin/date', '+%s%N'], { encoding: 'utf8' });
      const ended = nowNs();
      rmSync(out, { force: true });
      if (r.status !== 0) throw new Error(`gpo record (${build}) failed: ${r.stderr.trim()}`);
      const targetAt = BigInt(r.stdout.trim());
      const ms = (ns: bigint) => Number(ns) / 1e6;
      runs.get(build)!.push({ toTarget: ms(targetAt - started), after: ms(ended - targetAt), total: ms(ended - started) });
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const rows: [string, keyof Run][] = [
  ['gpo start -> target start (ms)', 'toTarget'],
  ['target start -> gpo exit (ms)', 'after'],
  ['total (ms)', 'total'],
];
const head = builds.map((b, i) => (i === 0 ? b : `${b} (x first)`));
console.log(`gpo record -- date +%s%N, medians of ${rounds} rounds, builds alternating\n`);
console.log(`| figure | ${head.join(' | ')} |`);
console.log(`| --- |${builds.map(() => ' --- |').join('')}`);
for (const [name, key] of rows) {
  const medians = builds.map((b) => median(runs.get(b)!.map((r) => r[key])));
  console.log(`| ${name} | ${medians.map((m, i) => (i === 0 ? m.toFixed(0) : `${m.toFixed(0)} (${(m / medians[0]!).toFixed(2)})`)).join(' | ')} |`);
}
