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

export interface ProcessesTraceOptions {
  /** Processes, each one thread making one syscall. */
  processes: number;
  /** Every `longEvery`-th row is a call of one long-lived thread instead (0: none), so windows are scored too. */
  longEvery?: number;
  batchRows?: number;
}

/**
 * Many short processes: process i (pid = tid = 100000 + i) makes one syscall of the Markov chain's states,
 * 1 us apart, like a build or a shell loop forking one helper after another; the scorer keeps state per thread
 * and per process for each of them.
 */
export function* singleCallProcessBatches(options: ProcessesTraceOptions) {
  const next = random(3);
  const long = options.longEvery ?? 0;
  const batchRows = options.batchRows ?? BATCH_ROWS;
  const comm = new TextEncoder().encode('helper');
  const table = successors();
  let state = 0;
  let spawned = 0;
  let row = 0;
  while (spawned < options.processes) {
    const ts: bigint[] = [];
    const pids: number[] = [];
    const nrs: number[] = [];
    for (; pids.length < batchRows && spawned < options.processes; row++) {
      ts.push(1_000_000_000n + BigInt(row) * 1000n);
      if (long > 0 && row % long === long - 1) {
        const r = next();
        state = table[state]![r < 0.7 ? 0 : r < 0.95 ? 1 : 2]!;
        pids.push(4000);
        nrs.push(STATES[state]!);
      } else {
        pids.push(100000 + spawned++);
        nrs.push(STATES[Math.floor(next() * STATES.length)]!);
      }
    }
    const tids = Int32Array.from(pids);
    yield syscallBatch({ ts_ns: BigInt64Array.from(ts), pid: tids, tid: tids, nr: Int16Array.from(nrs), comm: () => comm });
  }
}

export async function writeProcessesTrace(path: string, options: ProcessesTraceOptions): Promise<number> {
  let rows = 0;
  for (const batch of singleCallProcessBatches(options)) rows += batch.numRows;
  const metadata: TraceMetadata = importMetadata('synthetic', [`processes:${options.processes}:${options.longEvery ?? 0}`], {
    pid: 4000,
    comm: 'synthetic',
    rows,
  });
  await writeParquet(singleCallProcessBatches(options), path, metadata);
  return rows;
}
