// How library code reports progress: counts and phase notes to a listener the caller gives. Nothing here
// draws; the commands decide whether and how to show it (src/cli/progress.ts).
import type { TraceFile } from './reader.js';

export interface ProgressListener {
  /** How many units the work will count, once known (null: unknown). */
  total?(total: number | null): void;
  /** `done` units (rows, files...) so far; `detail` is a short note. */
  update(done: number, detail?: string): void;
  /** A phase that reports no counts of its own. */
  note(text: string): void;
}

/** The trace, telling `listener` the rows its batches have delivered (added to `counter.done`). */
export function countingRows(trace: TraceFile, listener: ProgressListener, counter = { done: 0 }): TraceFile {
  return {
    ...trace,
    async *batches(options) {
      for await (const batch of trace.batches(options)) {
        counter.done += batch.numRows;
        listener.update(counter.done);
        yield batch;
      }
    },
  };
}
