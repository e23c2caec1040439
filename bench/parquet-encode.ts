// The recording worker's pipeline alone (src/trace/parquet-segment-worker.ts), in this thread, timed in CPU
// seconds: --path native is what the worker runs (the addon reads and expands the journal and encodes it,
// src/trace/journal-parquet.ts); --path js the JavaScript pipeline it replaced (JournalTail reads and expands,
// streamParquet encodes); both (the default) runs js's repeats, then native's, on the same journal.
// --root runs another checkout's build (its dist/), so two builds are compared on the same journal:
//   node dist/bench/parquet-encode.js JOURNAL.arrows [--path js|native|both] [--root /work/main] [--repeats 3] [--collect-every N] [--encode-only]
// The first repeat of a path is the worker's case (a fresh thread: code not yet optimized); later ones run warm.
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
const path = option('--path', 'both');
if (!['js', 'native', 'both'].includes(path)) throw new Error('--path is js, native or both');
// A full collection every N batches (the JavaScript pipeline's choice, as its worker made it).
const collect = Number(option('--collect-every', '2'));
// --encode-only (js): the journal is read and expanded first, untimed; only streamParquet is timed.
const encodeOnly = args.includes('--encode-only');
if (encodeOnly) args.splice(args.indexOf('--encode-only'), 1);
const journal = args[0];
if (!journal) throw new Error('usage: parquet-encode.js JOURNAL.arrows [--path js|native|both] [--root DIR] [--repeats N]');

const { JournalTail } = (await import(`${root}/dist/src/trace/journal-tail.js`)) as typeof import('../src/trace/journal-tail.js');
const { streamParquet, writerProperties } = (await import(`${root}/dist/src/trace/writer.js`)) as typeof import('../src/trace/writer.js');
const { collectEvery } = (await import(`${root}/dist/src/trace/memory.js`)) as typeof import('../src/trace/memory.js');
const { encodeJournal } = (await import(`${root}/dist/src/trace/journal-parquet.js`)) as typeof import('../src/trace/journal-parquet.js');
const { parquetFileSpec } = (await import(`${root}/dist/src/trace/parquet-encoder.js`)) as typeof import('../src/trace/parquet-encoder.js');
if (path !== 'js' && typeof parquetFileSpec !== 'function') throw new Error(`${root} has no native journal encoder: use --path js`);

const fd = openSync(journal, 'r');
const size = fstatSync(fd).size;
const out = `/tmp/gpo-parquet-encode-${process.pid}.parquet`;

/** One pass of the JavaScript pipeline: rows and Parquet bytes. */
async function js(outFd: number): Promise<{ rows: number; bytes: number; seconds: number }> {
  let bytes = 0;
  const tail = new JournalTail(fd);
  // As the worker read: chunk by chunk, each chunk's batches encoded before the next is read.
  async function* batches() {
    for (;;) {
      const from = tail.offset;
      yield* tail.read(size);
      if (tail.offset === from) return;
    }
  }
  const read = encodeOnly ? tail.readAll(size) : undefined;
  const start = process.cpuUsage();
  await streamParquet(
    read ?? batches(),
    writerProperties('bench', '{}'),
    (b: Uint8Array) => {
      bytes += writeSync(outFd, b, 0, b.length, bytes);
    },
    // The worker's collections (they bounded its memory), counted in its CPU time.
    collect > 0 ? collectEvery(collect) : () => undefined,
  );
  const cpu = process.cpuUsage(start);
  return { rows: tail.rows, bytes, seconds: (cpu.user + cpu.system) / 1e6 };
}

/** One pass of the addon's path, as the worker runs it. */
function native(outFd: number): { rows: number; bytes: number; seconds: number } {
  const file = parquetFileSpec(writerProperties('bench', '{}'));
  const start = process.cpuUsage();
  const { rows, bytes } = encodeJournal({ journalFd: fd, parquetFd: outFd, file }, size);
  const cpu = process.cpuUsage(start);
  return { rows, bytes, seconds: (cpu.user + cpu.system) / 1e6 };
}

for (const run of path === 'both' ? [js, native] : path === 'js' ? [js] : [native]) {
  for (let r = 0; r < repeats; r++) {
    const outFd = openSync(out, 'w');
    const wall = performance.now();
    const { rows, bytes, seconds } = await run(outFd);
    closeSync(outFd);
    console.log(
      JSON.stringify({
        root,
        path: run.name,
        pass: r + 1,
        ...(run === js && { collect_every: collect, encode_only: encodeOnly }),
        rows,
        cpu_s: +seconds.toFixed(3),
        wall_s: +((performance.now() - wall) / 1000).toFixed(3),
        rows_per_cpu_s: Math.round(rows / seconds),
        parquet_bytes: bytes,
        peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1e3),
      }),
    );
  }
}
closeSync(fd);
rmSync(out, { force: true });
