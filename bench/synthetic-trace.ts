// A synthetic multi-million-row trace for benchmarks: several threads, each calling syscalls from a fixed
// Markov chain (deterministic pseudo-random numbers), interleaved in time order like a recording.
import { syscallBatch } from '../src/import/trace-batches.js';
import { writeParquet } from '../src/trace/writer.js';
import type { TraceMetadata } from '../src/trace/metadata.js';
import { importMetadata } from '../src/import/to-trace.js';
import { BATCH_ROWS } from '../src/trace/schema.js';

/** Syscalls a game-like thread uses: read, write, close, poll, mmap, futex, clock_gettime, epoll_wait, ... */
const STATES = [0, 1, 3, 7, 9, 11, 202, 228, 232, 35, 47, 45, 16, 257, 5, 24];

/** xorshift32: the same sequence on every run. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** Each state moves to one of 3 successors (favouring the first), so the chain has structure to learn. */
function successors(): number[][] {
  const next = random(7);
  return STATES.map(() => [0, 1, 2].map(() => Math.floor(next() * STATES.length)));
}

export interface SyntheticTraceOptions {
  rows: number;
  threads: number;
  seed: number;
  batchRows?: number;
}

export function* syntheticBatches(options: SyntheticTraceOptions) {
  const next = random(options.seed);
  const table = successors();
  const state = new Int32Array(options.threads);
  const comms = Array.from({ length: options.threads }, (_, i) => new TextEncoder().encode(`worker-${i}`));
  const batchRows = options.batchRows ?? BATCH_ROWS;
  const pid = 4000;
  for (let start = 0; start < options.rows; start += batchRows) {
    const n = Math.min(batchRows, options.rows - start);
    const ts = new BigInt64Array(n);
    const pids = new Int32Array(n).fill(pid);
    const tids = new Int32Array(n);
    const nrs = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      const row = start + i;
      const thread = Math.floor(next() * options.threads);
      const r = next();
      const choice = r < 0.7 ? 0 : r < 0.95 ? 1 : 2;
      state[thread] = table[state[thread]!]![choice]!;
      // 2 M calls per second of trace time across threads.
      ts[i] = 1_000_000_000n + BigInt(row) * 500n;
      tids[i] = pid + thread;
      nrs[i] = STATES[state[thread]!]!;
    }
    yield syscallBatch({ ts_ns: ts, pid: pids, tid: tids, nr: nrs, comm: (row) => comms[tids[row]! - pid]! });
  }
}

export async function writeSyntheticTrace(path: string, options: SyntheticTraceOptions): Promise<void> {
  const metadata: TraceMetadata = importMetadata('synthetic', [`markov:${options.rows}:${options.threads}:${options.seed}`], {
    pid: 4000,
    comm: 'synthetic',
    rows: options.rows,
  });
  await writeParquet(syntheticBatches(options), path, metadata);
}
