// Reads a recording's Arrow IPC stream while the addon appends to it: each call returns the record batches
// completed since the last one, expanded to the trace schema, through the journal's one reader
// (src/trace/journal-tail.ts). The file stays open, so the stream can be read to its end even after the
// recording has converted it to Parquet and removed it.
//
// With -o, the Parquet worker reads the same journal too. Both reads come from the page cache; what costs is
// decoding, and decoded batches cannot cross threads without being copied again, while the worker runs at
// nice 19 and lags behind on purpose (scoring must not wait for it). So each reads for itself.
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import type { RecordBatch } from 'apache-arrow';
import { failureReason, GpoError } from '../errors.js';
import { JournalTail } from '../trace/journal-tail.js';
import { METADATA_KEY, parseMetadata, type TraceMetadata } from '../trace/metadata.js';

export class RecordingStreamTail {
  private readonly fd: number;
  private readonly journal: JournalTail;
  /** The metadata the recording started with (from the stream's schema message), once read. */
  metadata: TraceMetadata | null = null;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      throw new GpoError(`cannot read ${path}: ${failureReason(err)}`);
    }
    this.journal = new JournalTail(this.fd);
  }

  /** The batches completed since the last call (none after the end-of-stream marker). */
  read(): RecordBatch[] {
    let batches: RecordBatch[];
    try {
      batches = this.journal.readAll(fstatSync(this.fd).size);
    } catch (err) {
      throw new GpoError(`${this.path}: ${(err as Error).message}`);
    }
    if (this.metadata === null && this.journal.schema !== null) this.metadata = parseMetadata(this.journal.schema.metadata.get(METADATA_KEY), this.path);
    return batches;
  }

  close(): void {
    closeSync(this.fd);
  }
}
