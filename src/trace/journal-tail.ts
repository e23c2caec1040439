// Reads a recording's Arrow IPC stream (its journal) while the addon appends to it, by positional reads on
// a descriptor of it: each call returns the record batches completed up to a byte offset known to be written,
// expanded to the trace schema. A message still being written is left for the next call; at most
// `chunkBytes` are read per call, so a backlog (the writer fell behind a syscall storm) is taken in bounded
// steps. The one reader of a growing journal: the Parquet worker (src/trace/parquet-segment-worker.ts) and
// gpo watch (src/watch/stream-tail.ts) both read through it.
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
    // A new buffer each call, the schema message first, the chunk read after it: the batches decoded from
    // it are views of it (no copy of the chunk into a stream of its own, which cost a fifth of reading).
    const prefix = this.schemaMessage ?? new Uint8Array(0);
    const stream = Buffer.allocUnsafe(prefix.length + want);
    stream.set(prefix, 0);
    const bytes = stream.subarray(prefix.length);
    let filled = 0;
    while (filled < want) {
      const n = readSync(this.fd, bytes, filled, want - filled, this.offset + filled);
      if (n === 0) break;
      filled += n;
    }
    const batches: Uint8Array[] = [];
    // Whether the chunk's complete messages are its record batches alone (or the schema the stream starts with).
    let contiguous = true;
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
        contiguous &&= at === 0;
      } else if (message.headerType === MessageHeader.RecordBatch) batches.push(bytes.subarray(at, next));
      else contiguous = false;
      at = next;
    }
    this.offset += at;
    if (batches.length === 0 || this.schemaMessage === null) return [];
    // The schema message and the new batches make a stream of their own.
    const messages = contiguous ? stream.subarray(0, prefix.length + at) : Buffer.concat([this.schemaMessage, ...batches]);
    const out = [...RecordBatchReader.from(messages)].filter((b) => b.numRows > 0).map(expandRecordingBatch);
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
