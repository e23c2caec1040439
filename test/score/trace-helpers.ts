// Real Parquet traces with known content for the train/score tests, written to a temp dir.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importMetadata } from '../../src/import/to-trace.js';
import { rowsBatch, type TraceRowInput } from '../../src/import/trace-batches.js';
import type { TargetInfo } from '../../src/trace/metadata.js';
import { writeParquet } from '../../src/trace/writer.js';

export const TARGET_PID = 4000;
export const EXE = '/opt/game/bin/game';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'gpo-score-'));
}

/** Syscall rows of one thread, 1 ms apart from `startNs`. */
export function syscallRows(tid: number, nrs: readonly number[], startNs: bigint, pid = TARGET_PID, comm = 'game'): TraceRowInput[] {
  return nrs.map((nr, i) => ({ ts_ns: startNs + BigInt(i) * 1_000_000n, pid, tid, comm, kind: 'syscall', nr }));
}

/** The cycle 0..7 repeated: every window of 6 is a slice of it. */
export function cycle(times: number): number[] {
  return Array.from({ length: times * 8 }, (_, i) => i % 8);
}

export async function writeTrace(path: string, rows: TraceRowInput[], target: Partial<TargetInfo> = {}): Promise<string> {
  rows = [...rows].sort((a, b) => (a.ts_ns < b.ts_ns ? -1 : a.ts_ns > b.ts_ns ? 1 : 0));
  const metadata = importMetadata('test', [], { pid: TARGET_PID, comm: 'game', rows: rows.length });
  metadata.target = { ...metadata.target, exe: EXE, build_id: 'abc123', exe_sha256: 'f'.repeat(64), mode: 'launch', ...target };
  await writeParquet([rowsBatch(rows)], path, metadata);
  return path;
}

/** A normal recording: two threads running the cycle. */
export async function normalTrace(path: string, extra: TraceRowInput[] = [], target: Partial<TargetInfo> = {}): Promise<string> {
  return writeTrace(path, [...syscallRows(4000, cycle(40), 1_000_000_000n), ...syscallRows(4001, cycle(40), 1_000_500_000n), ...extra], target);
}
