// gpo's metadata in a Parquet file written while recording. The writer takes its key-value metadata when
// it starts, but the final document (counts, end time, stop reason) is known only at the end: the file is
// written with the first document padded by spaces (still the same JSON), and the final one is written
// over it, same byte length, once the footer is on disk. Thrift stores the value as length + bytes, so
// nothing else in the footer moves.
import { readSync, writeSync } from 'node:fs';

/** Room left for what the metadata gains while recording (counters, drops by syscall, segment counts). */
export const METADATA_ROOM_BYTES = 32 << 10;

/** The metadata text a file is started with: `text` and room to grow. */
export function reservedMetadata(text: string): string {
  return text + ' '.repeat(METADATA_ROOM_BYTES);
}

/**
 * Writes `text` over the reserved metadata in the footer of the Parquet file that ends at byte `end` of
 * `fd`. Returns false, writing nothing, when it does not fit the room (the caller writes the file again).
 */
export function rewriteFooterMetadata(fd: number, end: number, reserved: string, text: string): boolean {
  const old = Buffer.from(reserved);
  const next = Buffer.from(text);
  if (next.length > old.length) return false;
  const tail = Buffer.alloc(8);
  readSync(fd, tail, 0, 8, end - 8);
  if (tail.toString('latin1', 4) !== 'PAR1') throw new Error('no Parquet footer');
  const footerLength = tail.readUInt32LE(0);
  const footerStart = end - 8 - footerLength;
  const footer = Buffer.alloc(footerLength);
  readSync(fd, footer, 0, footerLength, footerStart);
  const at = footer.indexOf(old);
  if (at < 0) throw new Error('the reserved metadata is not in the footer');
  const padded = Buffer.alloc(old.length, 0x20);
  next.copy(padded);
  for (let done = 0; done < padded.length;) done += writeSync(fd, padded, done, padded.length - done, footerStart + at + done);
  return true;
}
