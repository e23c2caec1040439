// The Parquet file of a journal, encoded by the addon (native/journal-parquet.cc reads and expands the
// journal itself, so no row passes through JavaScript and no Arrow library is loaded): what the segment
// writer's worker runs while recording (src/trace/parquet-segment-worker.ts), and what the main thread runs
// itself when a recording ends before its journal was worth a worker (src/trace/parquet-segment.ts).
import { writeSync } from 'node:fs';
import { loadAddon, type NativeJournalParquet } from '../native/addon.js';
import type { SegmentWriterData } from './parquet-segment-worker.js';

/** Writes the Parquet file from its start as the journal grows. */
export class JournalParquet {
  private readonly encoder: NativeJournalParquet;
  private position = 0;

  constructor(private readonly data: SegmentWriterData) {
    const { columns, statistics, rowGroupRows } = data.file;
    this.encoder = new (loadAddon().JournalParquet)(data.journalFd, columns, statistics, rowGroupRows);
  }

  /** Rows read from the journal so far. */
  get rows(): number {
    return this.encoder.rows;
  }

  /** Encodes the journal's messages complete up to byte `upTo`, a chunk of them; returns whether there were
   * any (false: everything complete is encoded). */
  step(upTo: number): boolean {
    const from = this.encoder.offset;
    this.write(this.encoder.pump(upTo));
    return this.encoder.offset !== from;
  }

  /** Ends the file (its last row group and footer); returns its rows and size. */
  finish(): { rows: number; bytes: number } {
    this.write(this.encoder.finish(this.data.file.keyValueMetadata, this.data.file.createdBy));
    return { rows: this.rows, bytes: this.position };
  }

  private write(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length;) done += writeSync(this.data.parquetFd, bytes, done, bytes.length - done, this.position + done);
    this.position += bytes.length;
  }
}

/** The whole Parquet file of a journal complete up to byte `upTo`. */
export function encodeJournal(data: SegmentWriterData, upTo: number): { rows: number; bytes: number } {
  const journal = new JournalParquet(data);
  while (journal.step(upTo));
  return journal.finish();
}
