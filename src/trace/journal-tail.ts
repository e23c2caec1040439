// Reads a recording's Arrow IPC stream (its journal) while the addon appends to it, by positional reads on
// a descriptor of it: each call returns the record batches completed up to a byte offset known to be written,
// expanded to the trace schema. A message still being written is left for the next call; at most
// `chunkBytes` are read per call, so a backlog (the writer fell behind a syscall storm) is taken in bounded
// steps. gpo watch (src/watch/stream-tail.ts) reads through it; the Parquet worker has the addon's own
// reader (native/journal-reader.cc), which must read a journal as this does.
import { readSync } from 'node:fs';
import { Message, MessageHeader, RecordBatchReader, type RecordBatch, type Schema } from 'apache-arrow';
import { expandRecordingBatch } from './expand.js';

/** Every message of the stream format starts with this marker, then the metadata length (0: end of stream). */
const CONTINUATION = 0xffffffff;

export class JournalTail {
  /** Where the next unread message starts. */
  offset = 0;
  /** Rows returned so far. */
  rows = 0;
  /** The stream's schema (its metadata: the document the recording started with), once read. */
  schema: Schema | null = null;
  private schemaMessage: Uint8Array | null = null;
  private buffer = Buffer.alloc(1 << 20);
  /** Bytes of a message that did not fit in one chunk: the next read takes at least that many. */
  private needed = 0;

  constructor(
    private readonly fd: number,
    private readonly chunkBytes = 4 << 20,
  ) {}

  /** The batches of the complete messages between the last call and `end` (batches of no rows, which only
   * carry metadata, are skipped). Nothing is read past the end-of-stream marker. */
  read(end: number): RecordBatch[] {
    const want = Math.min(end - this.offset, Math.max(this.chunkBytes, this.needed));
    if (want < 8) return [];
    if (this.buffer.length < want) this.buffer = Buffer.alloc(Math.max(want, this.buffer.length * 2));
    const bytes = this.buffer;
    let filled = 0;
    while (filled < want) {
      const n = readSync(this.fd, bytes, filled, want - filled, this.offset + filled);
      if (n === 0) break;
      filled += n;
    }
    const batches: Uint8Array[] = [];
    let at = 0;
    while (at + 8 <= filled) {
      if (bytes.readUInt32LE(at) !== CONTINUATION) throw new Error(`corrupt Arrow IPC stream at byte ${this.offset + at}`);
      const metadataLength = bytes.readInt32LE(at + 4);
      if (metadataLength === 0 || at + 8 + metadataLength > filled) break;
      const message = Message.decode(bytes.subarray(at + 8, at + 8 + metadataLength));
      const next = at + 8 + metadataLength + Number(message.bodyLength);
      if (next > filled) {
        if (at === 0 && filled === want && next <= end - this.offset) {
          // A message larger than one chunk: read again, up to its end.
          this.needed = next;
          return this.read(end);
        }
        break;
      }
      if (message.headerType === MessageHeader.Schema && this.schemaMessage === null) {
        this.schemaMessage = Uint8Array.from(bytes.subarray(at, next));
        this.schema = message.header() as Schema;
      } else if (message.headerType === MessageHeader.RecordBatch) batches.push(bytes.subarray(at, next));
      at = next;
    }
    this.offset += at;
    if (batches.length === 0 || this.schemaMessage === null) return [];
    // The schema message and the new batches make a stream of their own.
    const out = [...RecordBatchReader.from(Buffer.concat([this.schemaMessage, ...batches]))].filter((b) => b.numRows > 0).map(expandRecordingBatch);
    for (const b of out) this.rows += b.numRows;
    return out;
  }

  /** Every batch complete up to `end`, in as many chunks as it takes. */
  readAll(end: number): RecordBatch[] {
    const out: RecordBatch[] = [];
    for (;;) {
      const from = this.offset;
      out.push(...this.read(end));
      if (this.offset === from) return out;
    }
  }
}
