// Writes a trace: an Arrow IPC stream while recording (every flushed batch survives a crash: the journal),
// and Parquet (zstd) from it, with gpo's metadata in the file's key-value metadata: encoded while recording
// (src/trace/parquet-segment.ts), or converted from the journal when it closes.
import { closeSync, fsyncSync, ftruncateSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { type RecordBatch, RecordBatchReader, Schema } from 'apache-arrow';
import { failureReason, GpoError } from '../errors.js';
import { type TraceMetadata, METADATA_KEY } from './metadata.js';
import { collectEvery } from './memory.js';
import { checkReplaceable, CREATE_NEW, createNew, publish, refuseCreate, tmpPathFor } from './output-file.js';
import { metadataMessage, schemaMessage } from './encode.js';
import { expandRecordingBatch } from './expand.js';
import { type ParquetProperties, ParquetEncoder, ROW_GROUP_ROWS } from './parquet-encoder.js';
import { recordingSchema, traceSchema } from './schema.js';
import { scanStream } from './stream-metadata.js';

export { ROW_GROUP_ROWS };

/** The recording's Arrow IPC stream: the schema message (with the metadata known at the start), then
 * record batches that the addon appends to `fd` as they are drained, then the end-of-stream marker.
 * The stream is created new (never through a link, never over an existing file): it is also the output's
 * lock, so a second recording to the same output is refused before it starts. */
export class TraceStreamWriter {
  readonly fd: number;
  private rows = 0;
  private closed = false;
  bytesWritten = 0;

  /** Without metadata, only creates the file (taking the output); writeHeader follows. */
  constructor(
    readonly path: string,
    metadata?: TraceMetadata,
  ) {
    this.fd = createNew(path);
    if (metadata) this.writeHeader(metadata);
  }

  writeHeader(metadata: TraceMetadata): void {
    const header = schemaMessage(new Schema(recordingSchema.fields, new Map([[METADATA_KEY, JSON.stringify(metadata)]])));
    writeSync(this.fd, header);
    this.bytesWritten += header.byteLength;
  }

  /** Gives the output back when recording never started (nothing but the header written); a stream with
   * rows is kept, closed, for gpo info. */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
    if (this.rows === 0) rmSync(this.path, { force: true });
  }

  get rowCount(): number {
    return this.rows;
  }

  /** Counts a batch the addon has appended (it is in the page cache then, so a crash of gpo keeps it). */
  appended(rows: number, bytes: number): void {
    this.rows += rows;
    this.bytesWritten += bytes;
  }

  /**
   * Ends the stream: the final metadata (a batch of no rows carrying it, src/trace/stream-metadata.ts), then
   * the end-of-stream marker. After a failed write the torn tail of the last batch is cut first (found from
   * the file's own messages), which also gives back the space it took. Returns why the end could not be
   * written (an errno code), or null.
   */
  close(metadata?: TraceMetadata): string | null {
    if (this.closed) return null;
    this.closed = true;
    try {
      let at = scanStream(this.fd);
      ftruncateSync(this.fd, at);
      const tail: Uint8Array[] = [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])];
      if (metadata) tail.unshift(metadataMessage(recordingSchema, { [METADATA_KEY]: JSON.stringify(metadata) }));
      for (const bytes of tail) {
        for (let done = 0; done < bytes.length;) done += writeSync(this.fd, bytes, done, bytes.length - done, at + done);
        at += bytes.length;
      }
      fsyncSync(this.fd);
      return null;
    } catch (err) {
      return failureReason(err);
    } finally {
      closeSync(this.fd);
    }
  }
}

/** How gpo writes Parquet; `metadataText` becomes the file's `gpo` key-value metadata. */
export function writerProperties(gpoVersion: string, metadataText: string): ParquetProperties {
  return {
    encodings: {
      // Dictionaries pay off only for the repetitive string columns; elsewhere they cost time (measured:
      // 1.5x faster conversion and a smaller file without them).
      comm: 'dictionary',
      kind: 'dictionary',
      // And for the integer columns train and score read on every row: few distinct values (threads,
      // syscall numbers), so dictionary pages (RLE-packed indices) decode 4-5x faster than plain zstd-packed
      // values and make the file smaller (measured on a 10 M-row synthetic trace: 12.9 vs 19.8 MB; decoding
      // tid and nr 0.1 s each instead of 0.5 s). A column with too many values falls back to plain by itself.
      pid: 'dictionary',
      tid: 'dictionary',
      nr: 'dictionary',
      // Timestamps rise almost steadily: delta encoding made a 5 M storm's trace 4x smaller (10.6 -> 2.7 MB)
      // and its conversion faster.
      ts_ns: 'delta',
    },
    keyValueMetadata: [[METADATA_KEY, metadataText]],
    createdBy: `gpo version ${gpoVersion}`,
    rowGroupRows: ROW_GROUP_ROWS,
    statistics: true,
  };
}

/**
 * Encodes record batches (of the trace schema) as one Parquet file, one batch at a time, handing its bytes
 * to `write` in order. `afterBatch` runs after each batch is taken (a collection, to bound memory).
 */
export async function streamParquet(
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  properties: ParquetProperties,
  write: (bytes: Uint8Array) => unknown,
  afterBatch: () => void = () => undefined,
): Promise<void> {
  const encoder = new ParquetEncoder(properties);
  for await (const batch of batches) {
    for (const bytes of encoder.add(batch)) await write(bytes);
    afterBatch();
  }
  for (const bytes of encoder.finish()) await write(bytes);
}

/** Writes record batches (of the trace schema) to a Parquet file, one batch at a time. */
export async function writeParquet(batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>, path: string, metadata: TraceMetadata): Promise<void> {
  const tmp = tmpPathFor(path);
  checkReplaceable(path);
  const handle = await open(tmp, CREATE_NEW, 0o644).catch((err: unknown) => refuseCreate(tmp, err));
  try {
    // Conversion runs after recording, so it can spend CPU on collections to keep memory low.
    await streamParquet(
      batches,
      writerProperties(metadata.gpo_version, JSON.stringify(metadata)),
      async (bytes) => {
        for (let done = 0; done < bytes.length;) done += (await handle.write(bytes, done, bytes.length - done)).bytesWritten;
      },
      collectEvery(2),
    );
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof GpoError) throw err;
    throw new GpoError(`cannot write ${tmp}: ${failureReason(err)}`);
  } finally {
    await handle.close().catch(() => undefined);
  }
  publish(tmp, path);
}

/** Turns a recording's IPC stream into the final Parquet trace (its batches expanded to the trace
 * schema), then removes the stream. */
export async function convertIpcToParquet(ipcPath: string, parquetPath: string, metadata: TraceMetadata): Promise<void> {
  await writeParquet(readIpcBatches(ipcPath), parquetPath, metadata);
  rmSync(ipcPath);
}

/** Reads the batches of a recording's IPC stream as trace-schema batches, stopping quietly at a torn tail
 * (gpo was killed mid-write). */
export async function* readIpcBatches(path: string): AsyncGenerator<RecordBatch> {
  const handle = await open(path, 'r');
  try {
    const reader = await RecordBatchReader.from(handle.createReadStream());
    try {
      for await (const batch of reader) yield expandRecordingBatch(batch);
    } catch {
      return;
    }
  } finally {
    await handle.close();
  }
}
