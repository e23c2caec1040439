// A segmented trace (gpo record --rotate / --max-size): one folder holding the recording's parts, numbered
// in recording order, each a standard Parquet file with the recording's metadata; while recording (or after
// gpo was killed) the open part is its journal, `part-NNNNNN.parquet.arrows`. DuckDB reads the folder with
// read_parquet('FOLDER/part-*.parquet'); gpo reads it as one trace.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const PART = /^part-(\d{6,})\.parquet$/;
const JOURNAL = /^part-(\d{6,})\.parquet\.arrows$/;

export function partName(index: number): string {
  return `part-${String(index).padStart(6, '0')}.parquet`;
}

/** A part as found on disk: its Parquet file once closed, else its journal (being closed or written when
 * gpo was killed; at most the last two parts). */
export interface SegmentFile {
  index: number;
  path: string;
  journal: boolean;
}

/** The parts in a folder, in recording order; null when it holds none (not a segmented trace). */
export function segmentFiles(folder: string): SegmentFile[] | null {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return null;
  }
  const byIndex = new Map<number, SegmentFile>();
  for (const name of names) {
    const part = PART.exec(name);
    const open = JOURNAL.exec(name);
    // A journal whose part was published already (gpo killed before removing it) adds nothing.
    if (part) byIndex.set(Number(part[1]), { index: Number(part[1]), path: join(folder, name), journal: false });
    else if (open && !byIndex.has(Number(open[1]))) byIndex.set(Number(open[1]), { index: Number(open[1]), path: join(folder, name), journal: true });
  }
  if (byIndex.size === 0) return null;
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

export function isSegmentedTrace(path: string): boolean {
  try {
    return statSync(path).isDirectory() && segmentFiles(path) !== null;
  } catch {
    return false;
  }
}

/** The Parquet files of a trace for engines that read files (DuckDB): a segmented trace's closed parts
 * (an open part's journal is not Parquet), or the trace itself. */
export function parquetFilesOf(path: string): string[] {
  const files = isSegmentedTrace(path) ? segmentFiles(path) : null;
  return files ? files.filter((f) => !f.journal).map((f) => f.path) : [path];
}
