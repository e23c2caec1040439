// Reads a recording's Arrow IPC stream while the addon appends to it: each call returns the record batches
// completed since the last one, expanded to the trace schema as every reader does. A message still being
// written is left for the next call. The file stays open, so the stream can be read to its end even after
// the recording has converted it to Parquet and removed it.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { Message, MessageHeader, RecordBatchReader, type RecordBatch, type Schema } from 'apache-arrow';
import { GpoError } from '../errors.js';
import { expandRecordingBatch } from '../trace/expand.js';
import { METADATA_KEY, parseMetadata, type TraceMetadata } from '../trace/metadata.js';

/** Every message of the stream format starts with this marker, then the metadata length (0: end of stream). */
const CONTINUATION = 0xffffffff;

export class RecordingStreamTail {
  private readonly fd: number;
  private offset = 0;
  private schemaMessage: Uint8Array | null = null;
  private ended = false;
  /** The metadata the recording started with (from the stream's schema message), once read. */
  metadata: TraceMetadata | null = null;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      throw new GpoError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }

  /** The batches completed since the last call (none after the end-of-stream marker). */
  read(): RecordBatch[] {
    if (this.ended) return [];
    const size = fstatSync(this.fd).size;
    if (size <= this.offset) return [];
    const bytes = Buffer.allocUnsafe(size - this.offset);
    let filled = 0;
    while (filled < bytes.length) {
      const n = readSync(this.fd, bytes, filled, bytes.length - filled, this.offset + filled);
      if (n === 0) break;
      filled += n;
    }
    const batches: Uint8Array[] = [];
    let at = 0;
    while (at + 8 <= filled) {
      if (bytes.readUInt32LE(at) !== CONTINUATION) throw new GpoError(`${this.path}: corrupt Arrow IPC stream at byte ${this.offset + at}`);
      const metadataLength = bytes.readInt32LE(at + 4);
      if (metadataLength === 0) {
        this.ended = true;
        at += 8;
        break;
      }
      if (at + 8 + metadataLength > filled) break;
      const message = Message.decode(bytes.subarray(at + 8, at + 8 + metadataLength));
      const end = at + 8 + metadataLength + Number(message.bodyLength);
      if (end > filled) break;
      if (message.headerType === MessageHeader.Schema && this.schemaMessage === null) {
        this.schemaMessage = Uint8Array.from(bytes.subarray(at, end));
        this.metadata = parseMetadata((message.header() as Schema).metadata.get(METADATA_KEY), this.path);
      } else if (message.headerType === MessageHeader.RecordBatch) batches.push(bytes.subarray(at, end));
      at = end;
    }
    this.offset += at;
    if (batches.length === 0 || this.schemaMessage === null) return [];
    // The schema message and the new batches make a stream of their own.
    const reader = RecordBatchReader.from(Buffer.concat([this.schemaMessage, ...batches]));
    return [...reader].map(expandRecordingBatch);
  }

  close(): void {
    closeSync(this.fd);
  }
}
