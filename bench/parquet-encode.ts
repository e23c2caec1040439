// The recording worker's pipeline alone (src/trace/parquet-segment-worker.ts): a journal read by JournalTail
// and encoded by streamParquet, in this thread, timed in CPU seconds. --root runs another checkout's build
// (its dist/), so two encoders are compared on the same journal:
//   node dist/bench/parquet-encode.js JOURNAL.arrows [--root /work/main] [--repeats 3]
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
const journal = args[0];
if (!journal) throw new Error('usage: parquet-encode.js JOURNAL.arrows [--root DIR] [--repeats N]');

const { JournalTail } = (await import(`${root}/dist/src/trace/journal-tail.js`)) as typeof import('../src/trace/journal-tail.js');
const { streamParquet, writerProperties } = (await import(`${root}/dist/src/trace/writer.js`)) as typeof import('../src/trace/writer.js');

const fd = openSync(journal, 'r');
const size = fstatSync(fd).size;
const out = `/tmp/gpo-parquet-encode-${process.pid}.parquet`;
for (let r = 0; r < repeats; r++) {
  const outFd = openSync(out, 'w');
  let bytes = 0;
  const tail = new JournalTail(fd);
  const start = process.cpuUsage();
  const wall = performance.now();
  // As the worker reads: chunk by chunk, each chunk's batches encoded before the next is read.
  async function* batches() {
    for (;;) {
      const from = tail.offset;
      yield* tail.read(size);
      if (tail.offset === from) return;
    }
  }
  await streamParquet(batches(), writerProperties('bench', '{}'), (b: Uint8Array) => {
    bytes += writeSync(outFd, b, 0, b.length, bytes);
  });
  const cpu = process.cpuUsage(start);
  const seconds = (cpu.user + cpu.system) / 1e6;
  closeSync(outFd);
  console.log(
    JSON.stringify({
      root,
      rows: tail.rows,
      cpu_s: +seconds.toFixed(3),
      wall_s: +((performance.now() - wall) / 1000).toFixed(3),
      rows_per_cpu_s: Math.round(tail.rows / seconds),
      parquet_bytes: bytes,
      rss_mb: Math.round(process.memoryUsage.rss() / 1e6),
    }),
  );
}
closeSync(fd);
rmSync(out, { force: true });
