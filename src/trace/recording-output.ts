// Where a recording writes: one segment (the trace file, its journal beside it), or with rotation a folder of
// numbered parts (src/trace/segment-layout.ts), each with its own journal while it is open. Each segment's
// Parquet file is encoded while recording (src/trace/parquet-segment.ts); a full segment is closed while
// the next one records, and --max-size removes the oldest closed parts, counting what they held.
import { rmSync, statSync } from 'node:fs';
import { GpoError } from '../errors.js';
import { type SegmentInfo, type TraceMetadata } from './metadata.js';
import { canWriteWhileRecording, ParquetSegmentWriter } from './parquet-segment.js';
import { SegmentFolder } from './segment-folder.js';
import { partName } from './segment-layout.js';
import { lastBatchMetadata } from './stream-metadata.js';
import { convertIpcToParquet, TraceStreamWriter } from './writer.js';
import { ipcPathFor } from './output-file.js';

export interface Rotation {
  /** Close a segment once its journal holds this many bytes... */
  bytes?: number;
  /** ...or once it has been open this long. */
  seconds?: number;
  /** Remove the oldest closed parts while they take more than this (the newest is always kept). */
  maxSizeBytes?: number;
}

interface Segment {
  index: number;
  /** The Parquet file it becomes. */
  path: string;
  journal: TraceStreamWriter;
  parquet: ParquetSegmentWriter | null;
  openedAt: number;
}

export class RecordingOutput {
  /** Segments batches may still go to, oldest first; the last is where new batches go. */
  private readonly open: Segment[] = [];
  /** Closed parts kept, oldest first. */
  private readonly kept: { path: string; rows: number; bytes: number }[] = [];
  private readonly dropped = { segments: 0, rows: 0 };
  /** Rows of the segments closed so far (the next one's first row). */
  private closedRows = 0;
  /** Segments close one after the other (what --max-size removes depends on the order). */
  private closing: Promise<void> = Promise.resolve();
  /** Segments scheduled to close that have not closed yet. */
  private unclosed = 0;
  private closeError: unknown = null;
  private metadata: TraceMetadata | null = null;
  /** The metadata of the last part closed. */
  private lastWritten: TraceMetadata | null = null;
  /** Rows and journal bytes written in all. */
  rowCount = 0;
  bytesWritten = 0;
  /** With rotation: the folder of parts, written through its descriptor (segment-folder.ts). */
  private readonly folder: SegmentFolder | null;

  /** Takes the output: the first journal is created new (a second recording to it is refused here), and
   * with rotation the folder too. `convert` false: journals are left as they are (no Parquet). */
  constructor(
    readonly output: string,
    private readonly rotation: Rotation | null,
    private readonly convert: boolean,
  ) {
    this.folder = rotation ? new SegmentFolder(output) : null;
    try {
      this.open.push(this.createSegment(0));
    } catch (err) {
      this.folder?.close(true);
      throw this.shownError(err);
    }
  }

  private get current(): Segment {
    return this.open.at(-1)!;
  }

  /** The journal batches go to now (the recorder's first output). */
  get fd(): number {
    return this.current.journal.fd;
  }

  get journalPath(): string {
    return this.current.journal.path;
  }

  /** A message naming paths of parts, with the folder's path as the user gave it. */
  shown(text: string): string {
    return this.folder ? this.folder.shown(text) : text;
  }

  private shownError(err: unknown): unknown {
    return err instanceof GpoError ? new GpoError(this.shown(err.message)) : err;
  }

  private createSegment(index: number): Segment {
    const path = this.folder ? this.folder.at(partName(index)) : this.output;
    const journal = new TraceStreamWriter(ipcPathFor(path));
    return { index, path, journal, parquet: null, openedAt: Date.now() };
  }

  /** Writes the first segment's header (the metadata known at the start) and starts its Parquet file. */
  start(metadata: TraceMetadata): void {
    this.metadata = metadata;
    this.begin(this.current);
  }

  private begin(segment: Segment): void {
    const header = this.withSegment(this.metadata!, segment, this.closedRows);
    segment.journal.writeHeader(header);
    if (this.convert && canWriteWhileRecording()) segment.parquet = new ParquetSegmentWriter(segment.path, segment.journal.path, segment.journal.fd, header);
  }

  private withSegment(metadata: TraceMetadata, segment: Segment, firstRow: number): TraceMetadata {
    if (!this.rotation) return metadata;
    const info: SegmentInfo = {
      index: segment.index,
      first_row: firstRow,
      rotate: {
        ...(this.rotation.bytes !== undefined && { bytes: this.rotation.bytes }),
        ...(this.rotation.seconds !== undefined && { seconds: this.rotation.seconds }),
      },
      ...(this.rotation.maxSizeBytes !== undefined && { max_size_bytes: this.rotation.maxSizeBytes }),
      dropped: { ...this.dropped },
    };
    return { ...metadata, segment: info };
  }

  /** A batch the addon appended to the journal open as `fd`. A batch in a newer segment means the older
   * ones are complete: they are closed (in the background, in order). */
  appended(batch: { rows: number; bytes: number; fd: number; error?: string }): void {
    const at = Math.max(
      0,
      this.open.findIndex((s) => s.journal.fd === batch.fd),
    );
    const segment = this.open[at]!;
    segment.journal.appended(batch.rows, batch.bytes);
    this.rowCount += batch.rows;
    this.bytesWritten += batch.bytes;
    if (batch.error === undefined) segment.parquet?.appended(segment.journal.bytesWritten);
    for (const done of this.open.splice(0, at)) this.scheduleClose(done, null);
  }

  /**
   * Whether the segment being written is full (by size or age). Never while a rotation waits for its first
   * batch, nor while the previous part is still being closed: at most two Parquet files are encoded at a
   * time, and a part grows past the limit when encoding falls behind (its journal holds the rows meanwhile).
   */
  full(now = Date.now()): boolean {
    if (!this.rotation || this.open.length > 1 || this.unclosed > 0) return false;
    const s = this.current;
    return (
      (this.rotation.bytes !== undefined && s.journal.bytesWritten >= this.rotation.bytes) ||
      (this.rotation.seconds !== undefined && s.journal.rowCount > 0 && now - s.openedAt >= this.rotation.seconds * 1000)
    );
  }

  /** Opens the next segment and has the recorder write there (`redirect`) from its next batch on. */
  rotate(redirect: (fd: number) => void): void {
    let next: Segment;
    try {
      next = this.createSegment(this.current.index + 1);
    } catch (err) {
      throw this.shownError(err);
    }
    this.begin(next);
    this.open.push(next);
    redirect(next.journal.fd);
  }

  private scheduleClose(segment: Segment, final: TraceMetadata | null): Promise<void> {
    this.unclosed++;
    this.closing = this.closing
      .then(() => this.closeSegment(segment, final))
      .catch((err: unknown) => {
        this.closeError ??= err;
      })
      .finally(() => this.unclosed--);
    return this.closing;
  }

  /** The metadata a part ends with: the final document for the last one; for the others, the recording's
   * as of their last batch (its counters), still 'recording'. */
  private partMetadata(segment: Segment, final: TraceMetadata | null, firstRow: number): TraceMetadata {
    let metadata = final;
    if (!metadata) {
      const later = lastBatchMetadata(segment.journal.path);
      metadata = { ...this.metadata!, ...(later === undefined ? {} : (JSON.parse(later) as Partial<TraceMetadata>)), status: 'recording', stop_reason: null };
    }
    this.lastWritten = this.withSegment(metadata, segment, firstRow);
    return this.lastWritten;
  }

  private async closeSegment(segment: Segment, final: TraceMetadata | null): Promise<void> {
    const firstRow = this.closedRows;
    const rows = segment.journal.rowCount;
    this.closedRows += rows;
    const removed: string[] = [];
    let metadata: TraceMetadata;
    if (segment.parquet) {
      const { bytes } = await segment.parquet.complete(segment.journal.bytesWritten);
      removed.push(...this.keep(segment.path, rows, bytes));
      metadata = this.partMetadata(segment, final, firstRow);
      try {
        await segment.parquet.publish(metadata);
      } finally {
        segment.journal.close(metadata);
      }
      rmSync(segment.journal.path);
    } else {
      metadata = this.partMetadata(segment, final, firstRow);
      segment.journal.close(metadata);
      if (!this.convert) return;
      await convertIpcToParquet(segment.journal.path, segment.path, metadata);
      removed.push(...this.keep(segment.path, rows, statSync(segment.path).size));
    }
    // Removed only once the newer part is published: a crash in between leaves more, never less.
    for (const path of removed) rmSync(path, { force: true });
  }

  /** Adds a closed part; returns the oldest parts to remove for --max-size, counted as dropped. */
  private keep(path: string, rows: number, bytes: number): string[] {
    this.kept.push({ path, rows, bytes });
    const max = this.rotation?.maxSizeBytes;
    const removed: string[] = [];
    if (max === undefined) return removed;
    let total = this.kept.reduce((sum, p) => sum + p.bytes, 0);
    while (total > max && this.kept.length > 1) {
      const oldest = this.kept.shift()!;
      total -= oldest.bytes;
      this.dropped.segments++;
      this.dropped.rows += oldest.rows;
      removed.push(oldest.path);
    }
    return removed;
  }

  /** Ends every segment, the last with the final metadata; returns that as written (with its segment). */
  async finish(metadata: TraceMetadata): Promise<TraceMetadata> {
    this.metadata = metadata;
    const last = this.open.splice(0);
    for (const [i, segment] of last.entries()) void this.scheduleClose(segment, i === last.length - 1 ? metadata : null);
    await this.closing;
    const moved = this.folder?.movedTo() ?? null;
    this.folder?.close(false);
    if (this.closeError) throw this.shownError(this.closeError);
    if (moved !== null) throw new GpoError(`${this.output} was moved or replaced while gpo recorded: the trace is in ${moved}`);
    return this.lastWritten ?? metadata;
  }

  /** Recording failed (a write error): the journals end with the final counters (their torn tail cut) and
   * stay; Parquet files in progress are removed. Returns the first error ending a journal, or null. */
  async fail(metadata: TraceMetadata): Promise<string | null> {
    await this.closing;
    let endError: string | null = null;
    for (const segment of this.open.splice(0)) {
      await segment.parquet?.abandon();
      endError ??= segment.journal.close(this.withSegment(metadata, segment, this.closedRows));
    }
    this.folder?.close(false);
    return endError === null ? null : this.shown(endError);
  }

  /** Recording never started properly: the output is given back where nothing was written. */
  async abandon(): Promise<void> {
    for (const segment of this.open.splice(0)) {
      await segment.parquet?.abandon();
      segment.journal.abandon();
    }
    this.folder?.close(true);
  }
}
