// "Seen in k of n recordings" for a detector's entries (libraries, acts, children...), and how many
// entries each recording was the first to bring: the baseline's `seen_in.NAME` and `learning.NAME`
// (docs/baseline.md). Kept where an entry is cheap to key; syscall windows have a summary instead.
import type { BaselineDocument } from '../baseline/document.js';
import { sumCounts } from './merge-parts.js';

export class RecordingTally {
  private readonly seenIn = new Map<string, number>();
  private readonly fresh: number[] = [];
  private current = new Set<string>();

  constructor(private readonly name: string) {}

  /** The current recording has this entry. */
  see(key: string): void {
    this.current.add(key);
  }

  endRecording(): void {
    let fresh = 0;
    for (const key of this.current) {
      const seen = this.seenIn.get(key) ?? 0;
      if (seen === 0) fresh++;
      this.seenIn.set(key, seen + 1);
    }
    this.fresh.push(fresh);
    this.current = new Set();
  }

  /** Its sections: entry -> recordings it was seen in, and new entries per recording. */
  sections(): { seen_in: Record<string, Record<string, number>>; learning: Record<string, number[]> } {
    return { seen_in: { [this.name]: Object.fromEntries(this.seenIn) }, learning: { [this.name]: this.fresh } };
  }
}

/**
 * The tallies `names` of baselines trained apart on disjoint recordings: k adds up (exact); new entries
 * per recording are concatenated, each counted against its own baseline's earlier recordings only.
 */
export function mergeTallies(
  parts: readonly BaselineDocument[],
  names: readonly string[],
): { seen_in: Record<string, Record<string, number>>; learning: Record<string, (number | null)[]> } {
  if (parts.some((part) => part.seen_in === undefined || part.learning === undefined))
    throw new Error('a baseline has no seen-in counts (trained by an older gpo): retrain it to merge');
  return {
    seen_in: Object.fromEntries(names.map((name) => [name, sumCounts(parts.map((part) => part.seen_in![name] ?? {}))])),
    learning: Object.fromEntries(names.map((name) => [name, parts.flatMap((part) => part.learning![name] ?? [])])),
  };
}

/** The sections of several tallies of one detector. */
export function tallySections(tallies: readonly RecordingTally[]): { seen_in: Record<string, Record<string, number>>; learning: Record<string, number[]> } {
  const sections = tallies.map((tally) => tally.sections());
  return { seen_in: Object.assign({}, ...sections.map((s) => s.seen_in)), learning: Object.assign({}, ...sections.map((s) => s.learning)) };
}
