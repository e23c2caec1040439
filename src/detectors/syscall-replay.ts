// The syscall rows of training's first pass, kept grouped by thread exactly as the window models saw them
// (2 bytes a call), so the held-out scoring replays them instead of reading every trace again. Bounded:
// past `budgetCalls` nothing more is kept, and the rows not kept are read again from the trace.
import type { ThreadGroups } from '../trace/batch-view.js';

interface ReplayChunk {
  tids: Int32Array;
  starts: Int32Array;
  nrs: Int16Array;
}

/** Syscalls kept by default: 64 MB. */
export const DEFAULT_REPLAY_CALLS = 32 * 1024 * 1024;

export class SyscallReplay {
  private readonly chunks: ReplayChunk[][] = [];
  /** Rows (of every kind) of each trace whose syscalls are kept: a prefix of the trace. */
  private readonly rowsKept: number[] = [];
  private readonly complete: boolean[] = [];
  private kept = 0;
  private full = false;
  private scratch = new Int32Array(0);

  constructor(readonly budgetCalls = DEFAULT_REPLAY_CALLS) {}

  /** Keeps the groups of the next batch (of `rows` rows) of trace `trace`, while the budget lasts. */
  add(trace: number, groups: ThreadGroups, rows: number): void {
    while (this.chunks.length <= trace) {
      this.chunks.push([]);
      this.rowsKept.push(0);
      this.complete.push(true);
    }
    if (this.full || this.kept + groups.nrs.length > this.budgetCalls) {
      this.full = true;
      this.complete[trace] = false;
      return;
    }
    const nrs = new Int16Array(groups.nrs.length);
    nrs.set(groups.nrs);
    this.chunks[trace]!.push({ tids: Int32Array.from(groups.tids), starts: groups.starts, nrs });
    this.kept += nrs.length;
    this.rowsKept[trace]! += rows;
  }

  /** Rows of `trace` kept; the trace's later rows must be read again when `isComplete` is false. */
  rowsOf(trace: number): number {
    return this.rowsKept[trace] ?? 0;
  }

  isComplete(trace: number): boolean {
    return this.complete[trace] ?? !this.full;
  }

  /** Calls `visit(tid, nrs)` for every thread group kept of `trace`, in the order they were added. */
  replay(trace: number, visit: (tid: number, nrs: Int32Array) => void): void {
    for (const chunk of this.chunks[trace] ?? []) {
      if (this.scratch.length < chunk.nrs.length) this.scratch = new Int32Array(chunk.nrs.length);
      const nrs = this.scratch;
      nrs.set(chunk.nrs);
      for (let g = 0; g < chunk.tids.length; g++) visit(chunk.tids[g]!, nrs.subarray(chunk.starts[g]!, chunk.starts[g + 1]!));
    }
  }

  /** Frees the kept rows of `trace`. */
  release(trace: number): void {
    if (trace < this.chunks.length) this.chunks[trace] = [];
  }
}
