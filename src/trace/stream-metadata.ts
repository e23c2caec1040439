// The metadata a recording's Arrow IPC stream carries after its schema message: each record batch message
// may hold, in its custom metadata under the key `gpo`, top-level fields of the trace metadata that changed
// (the recorder's counters with every batch; the whole final document when the stream ends). Found by
// reading message headers only (bodies are skipped), so a stream of any size is scanned in milliseconds.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Message, MessageHeader } from 'apache-arrow';
import { METADATA_KEY } from './metadata.js';

/**
 * Walks the stream's complete messages (a torn tail ends the walk: gpo killed mid-write, a full disk), calling
 * `visit` with each; returns the offset where the last complete message ends.
 */
export function scanStream(fd: number, visit: (message: Message) => void = () => undefined): number {
  const size = fstatSync(fd).size;
  const prefix = Buffer.alloc(8);
  let at = 0;
  while (at + 8 <= size) {
    if (readSync(fd, prefix, 0, 8, at) < 8 || prefix.readUInt32LE(0) !== 0xffffffff) break;
    const length = prefix.readUInt32LE(4);
    if (length === 0 || at + 8 + length > size) break;
    const head = Buffer.alloc(length);
    if (readSync(fd, head, 0, length, at + 8) < length) break;
    let message: Message;
    try {
      message = Message.decode(head);
    } catch {
      break;
    }
    const end = at + 8 + length + Number(message.bodyLength);
    if (end > size) break;
    visit(message);
    at = end;
  }
  return at;
}

/** The last `gpo` metadata of the stream's record batches, or undefined. */
export function lastBatchMetadata(path: string): string | undefined {
  const fd = openSync(path, 'r');
  try {
    let last: string | undefined;
    scanStream(fd, (message) => {
      const value = message.headerType === MessageHeader.RecordBatch ? message.metadata.get(METADATA_KEY) : undefined;
      if (value !== undefined) last = value;
    });
    return last;
  } finally {
    closeSync(fd);
  }
}
