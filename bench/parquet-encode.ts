// The recording worker's pipeline alone (src/trace/parquet-segment-worker.ts): a journal read by JournalTail
// and encoded by streamParquet, in this thread, timed in CPU seconds. --root runs another checkout's build
// (its dist/), so two encoders are compared on the same journal:
//   node dist/bench/parquet-encode.js JOURNAL.arrows [--root /work/main] [--repeats 3] [--collect-every N] [--encode-only]
// The first repeat is the worker's case (a fresh thread: code not yet optimized); later ones run warm.
// Make a journal: `gpo record -o T.parquet -- out/bin/storm 2000000`, killed (-9) before it ends the file.
import { closeSync, fstatSync, openSync, rmSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1]! : fallback;
};
const root = resolve(option('--root', new URL('../..', import.meta.url).pathname));
const repeats = Number(option('--repeats', '3'));
// A full collection every N batches (the worker's choice: its src/trace/parquet-segment-worker.ts).
const collect = Number(option('--collect-every', '2'));
// --encode-only: the journal is read and expanded first, untimed; only streamParquet is timed.
const encodeOnly = args.includes('--encode-only');
if (encodeOnly) args.splice(args.indexOf('--encode-only'), 1);
const journal = args[0];
if (!journal) throw new Error('usage: parquet-encode.js JOURNAL.arrows [--root DIR] [--repeats N]');

const { JournalTail } = (await import(`${root}/dist/src/trace/journal-tail.js`)) as typeof import('../src/trace/journal-tail.js');
const { streamParquet, writerProperties } = (await import(`${root}/dist/src/trace/writer.js`)) as typeof import('../src/trace/writer.js');
const { collectEvery } = (await import(`${root}/dist/src/trace/memory.js`)) as typeof import('../src/trace/memory.js');

const fd = openSync(journal, 'r');
const size = fstatSync(fd).size;
const out = `/tmp/gpo-parquet-encode-${process.pid}.parquet`;
for (let r = 0; r < repeats; r++) {
  const outFd = openSync(out, 'w');
  let bytes = 0;
  const tail = new JournalTail(fd);
  // As the worker reads: chunk by chunk, each chunk's batches encoded before the next is read.
  async function* batches() {
    for (;;) {
      const from = tail.offset;
      yield* tail.read(size);
      if (tail.offset === from) return;
    }
  }
  const read = encodeOnly ? tail.readAll(size) : undefined;
  const start = process.cpuUsage();
  const wall = performance.now();
  await streamParquet(
    read ?? batches(),
    writerProperties('bench', '{}'),
    (b: Uint8Array) => {
      bytes += writeSync(outFd, b, 0, b.length, bytes);
    },
    // The worker's collections (they bound its memory), counted in its CPU time.
    collect > 0 ? collectEvery(collect) : () => undefined,
  );
  const cpu = process.cpuUsage(start);
  const seconds = (cpu.user + cpu.system) / 1e6;
  closeSync(outFd);
  console.log(
    JSON.stringify({
      root,
      collect_every: collect,
      encode_only: encodeOnly,
      rows: tail.rows,
      cpu_s: +seconds.toFixed(3),
      wall_s: +((performance.now() - wall) / 1000).toFixed(3),
      rows_per_cpu_s: Math.round(tail.rows / seconds),
      parquet_bytes: bytes,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1e3),
    }),
  );
}
closeSync(fd);
rmSync(out, { force: true });
