// Splits an Arrow IPC stream file into its messages without decoding them, so a recording's batches can
// go straight to the Parquet writer (which takes IPC bytes) with no JavaScript-side copy. Stops at a torn
// tail: a recording killed mid-write leaves every complete message readable.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const CONTINUATION = 0xffffffff;
export const MESSAGE_SCHEMA = 1;
export const MESSAGE_RECORD_BATCH = 3;

export interface IpcMessage {
  /** Message header type: 1 schema, 2 dictionary batch, 3 record batch. */
  type: number;
  /** The requested prefix, then the whole message as it appears in the stream (marker, metadata, body). */
  bytes: Uint8Array;
}

/** Reads the header type and body length from a Message flatbuffer (Message.fbs: fields 1 and 3). */
function parseMessageHeader(meta: Buffer): { type: number; bodyLength: number } {
  const table = meta.readUInt32LE(0);
  const vtable = table - meta.readInt32LE(table);
  const vtableSize = meta.readUInt16LE(vtable);
  const field = (index: number) => {
    const at = 4 + index * 2;
    return at < vtableSize ? meta.readUInt16LE(vtable + at) : 0;
  };
  const typeAt = field(1);
  const lengthAt = field(3);
  return {
    type: typeAt ? meta.readUInt8(table + typeAt) : 0,
    bodyLength: lengthAt ? Number(meta.readBigInt64LE(table + lengthAt)) : 0,
  };
}

/** The messages of the stream at path; each message's bytes are preceded by `prefix` in the same buffer
 * (the schema message, so that each can be handed on as a stream of its own without another copy). */
export function* ipcMessages(path: string, prefix: () => Uint8Array = () => new Uint8Array(0)): Generator<IpcMessage> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(8);
    let at = 0;
    while (at + 8 <= size) {
      readSync(fd, head, 0, 8, at);
      if (head.readUInt32LE(0) !== CONTINUATION) return;
      const metaLength = head.readInt32LE(4);
      if (metaLength <= 0 || at + 8 + metaLength > size) return; // end of stream, or torn
      const meta = Buffer.alloc(metaLength);
      readSync(fd, meta, 0, metaLength, at + 8);
      const { type, bodyLength } = parseMessageHeader(meta);
      const total = 8 + metaLength + bodyLength;
      if (at + total > size) return;
      const before = prefix();
      const bytes = Buffer.allocUnsafe(before.byteLength + total);
      bytes.set(before, 0);
      readSync(fd, bytes, before.byteLength, total, at);
      yield { type, bytes };
      at += total;
    }
  } finally {
    closeSync(fd);
  }
}
