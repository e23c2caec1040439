// Writes a trace: an Arrow IPC stream while recording (every flushed batch survives a crash), converted to
// Parquet (zstd) when the recording closes, with gpo's metadata in the file's key-value metadata.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { RecordBatch, RecordBatchReader, RecordBatchStreamWriter, Schema, Table, tableToIPC } from 'apache-arrow';
import * as parquet from 'parquet-wasm/node';
import { GpoError } from '../errors.js';
import { type TraceMetadata, METADATA_KEY } from './metadata.js';
import { traceSchema } from './schema.js';

/** Rows per Parquet row group: large enough for good compression, small enough to stream when reading. */
export const ROW_GROUP_ROWS = 1 << 20;

/** The Arrow IPC stream a recording writes to before it becomes Parquet. */
export function ipcPathFor(parquetPath: string): string {
  return `${parquetPath}.arrows`;
}

export class TraceStreamWriter {
  private readonly fd: number;
  private readonly schema: Schema;
  private readonly schemaBytes: number;
  private rows = 0;
  bytesWritten = 0;

  constructor(
    readonly path: string,
    metadata: TraceMetadata,
  ) {
    try {
      this.fd = openSync(path, 'w');
    } catch (err) {
      throw new GpoError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    this.schema = new Schema(traceSchema.fields, new Map([[METADATA_KEY, JSON.stringify(metadata)]]));
    const header = this.encode(null);
    this.schemaBytes = header.byteLength;
    this.append(header);
  }

  get rowCount(): number {
    return this.rows;
  }

  /** Appends one batch; it is on disk (in the page cache) when this returns, so a crash keeps it. */
  write(batch: RecordBatch): void {
    this.append(this.encode(batch).subarray(this.schemaBytes));
    this.rows += batch.numRows;
  }

  /** Ends the stream with the end-of-stream marker. */
  close(): void {
    this.append(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  // apache-arrow's writer keeps every message it produced; a fresh one per batch gives exactly the
  // schema message plus this batch's messages, and the schema part is cut off after the first time.
  private encode(batch: RecordBatch | null): Uint8Array {
    const writer = new RecordBatchStreamWriter();
    writer.reset(undefined, this.schema);
    if (batch) writer.write(batch);
    return writer.toUint8Array(true);
  }

  private append(bytes: Uint8Array): void {
    writeSync(this.fd, bytes);
    this.bytesWritten += bytes.byteLength;
  }
}

function writerProperties(metadata: TraceMetadata): parquet.WriterProperties {
  return new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.ZSTD)
    .setMaxRowGroupSize(ROW_GROUP_ROWS)
    .setCreatedBy(`gpo version ${metadata.gpo_version}`)
    .setKeyValueMetadata(new Map([[METADATA_KEY, JSON.stringify(metadata)]]))
    .build();
}

/** Converts record batches to a Parquet file, one batch at a time (memory stays bounded). */
export async function writeParquet(
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  path: string,
  metadata: TraceMetadata,
): Promise<void> {
  // Zero-row batches carry nothing, and the wasm writer rejects them (apache-arrow's reader yields one for
  // a stream that holds only a schema).
  const iterator = (async function* () {
    for await (const batch of batches) if (batch.numRows > 0) yield batch;
  })();
  const first = await iterator.next();
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    if (first.done) {
      // The streaming writer needs a batch to learn the schema from; an empty trace is written whole.
      const empty = parquet.Table.fromIPCStream(tableToIPC(new Table(traceSchema), 'stream'));
      await handle.write(parquet.writeParquet(empty, writerProperties(metadata)));
    } else {
      let pending: RecordBatch | undefined = first.value;
      const wasmBatches = new ReadableStream({
        async pull(controller) {
          const next = pending ?? (await iterator.next()).value;
          pending = undefined;
          if (!next) {
            controller.close();
            return;
          }
          const table = parquet.Table.fromIPCStream(tableToIPC(new Table(next), 'stream'));
          for (const batch of table.recordBatches()) controller.enqueue(batch);
        },
      });
      const bytes = await parquet.transformParquetStream(wasmBatches, writerProperties(metadata));
      await bytes.pipeTo(Writable.toWeb(handle.createWriteStream()));
    }
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    await handle.close().catch(() => undefined);
  }
  renameSync(tmp, path);
}

/** Reads the batches of an IPC stream, stopping quietly at a torn tail (gpo was killed mid-write). */
export async function* readIpcBatches(path: string): AsyncGenerator<RecordBatch> {
  const handle = await open(path, 'r');
  try {
    const reader = await RecordBatchReader.from(handle.createReadStream());
    try {
      for await (const batch of reader) yield batch;
    } catch {
      return;
    }
  } finally {
    await handle.close();
  }
}

/** Turns a recording's IPC stream into the final Parquet trace, then removes the stream. */
export async function convertIpcToParquet(ipcPath: string, parquetPath: string, metadata: TraceMetadata): Promise<void> {
  await writeParquet(readIpcBatches(ipcPath), parquetPath, metadata);
  rmSync(ipcPath);
}
