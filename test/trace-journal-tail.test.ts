// The one reader of a growing journal (src/trace/journal-tail.ts), which the Parquet worker and gpo watch's
// stream tail both use: messages still being written are left for the next read, a message larger than one
// read is read whole, batches of no rows (final metadata) are skipped, nothing is read past the end of the
// stream, and a corrupt stream is an error naming where (and, through the watch tail, the file).
import { closeSync, mkdtempSync, openSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAddon, type NativeTestRow } from '../src/native/addon.js';
import { GpoError } from '../src/errors.js';
import { JournalTail } from '../src/trace/journal-tail.js';
import { METADATA_KEY } from '../src/trace/metadata.js';
import { ROW_KINDS } from '../src/trace/schema.js';
import { TraceStreamWriter } from '../src/trace/writer.js';
import { RecordingStreamTail } from '../src/watch/stream-tail.js';
import { testMetadata } from './helpers/metadata.js';

const addon = loadAddon();
const syscall = ROW_KINDS.indexOf('syscall');

function rowsOf(batch: number, n: number): NativeTestRow[] {
  return Array.from({ length: n }, (_, i) => ({ ts: BigInt(1000 + batch * n + i), pid: 7, tid: 7, comm: 't', kind: syscall, nr: i % 300, ret: BigInt(i) }));
}

/** A journal of `sizes.length` batches of those many rows; the offset where each batch ends. */
function journalOf(sizes: number[]) {
  const path = join(mkdtempSync(join(tmpdir(), 'gpo-journal-tail-')), 't.parquet.arrows');
  const journal = new TraceStreamWriter(path, testMetadata({ status: 'recording', stop_reason: null }));
  const ends: number[] = [];
  sizes.forEach((n, b) => {
    journal.appended(n, addon.writeRecordingBatch(journal.fd, rowsOf(b, n), false));
    ends.push(journal.bytesWritten);
  });
  return { path, journal, ends };
}

const rowCounts = (batches: { numRows: number }[]) => batches.map((b) => b.numRows);

describe('JournalTail', () => {
  it('returns the batches complete up to the offset given, leaving a message still being written for the next read', () => {
    const { journal, ends } = journalOf([10, 20, 30]);
    const tail = new JournalTail(journal.fd);
    expect(tail.read(ends[1]! - 1)).toHaveLength(1);
    expect(tail.offset).toBe(ends[0]);
    expect(tail.schema?.metadata.get(METADATA_KEY)).toContain('"status":"recording"');
    expect(rowCounts(tail.read(ends[2]!))).toEqual([20, 30]);
    expect(tail.offset).toBe(ends[2]);
    expect(tail.rows).toBe(60);
    expect(tail.read(ends[2]!)).toEqual([]);
    journal.abandon();
  });

  it('reads a message larger than one chunk whole, and a backlog in chunks with readAll', () => {
    const { journal, ends } = journalOf([5000, 10, 5000, 10]);
    const chunk = 4096;
    expect(ends[2]! - ends[1]!).toBeGreaterThan(chunk);
    const one = new JournalTail(journal.fd, chunk);
    // The first chunk holds the schema message and the start of the first batch, the second that batch whole.
    expect(one.read(ends[3]!)).toEqual([]);
    expect(one.schema).not.toBeNull();
    expect(rowCounts(one.read(ends[3]!))).toEqual([5000]);
    expect(one.offset).toBe(ends[0]);
    const all = new JournalTail(journal.fd, chunk);
    expect(rowCounts(all.readAll(ends[3]!))).toEqual([5000, 10, 5000, 10]);
    expect(all.offset).toBe(ends[3]);
    journal.abandon();
  });

  it('skips the final metadata batch (no rows) and reads nothing past the end of the stream', () => {
    const { path, journal } = journalOf([10, 20]);
    expect(journal.close(testMetadata())).toBeNull();
    const size = statSync(path).size;
    const fd = openSync(path, 'r');
    const tail = new JournalTail(fd);
    expect(rowCounts(tail.readAll(size))).toEqual([10, 20]);
    expect(tail.offset).toBe(size - 8);
    expect(tail.readAll(size)).toEqual([]);
    closeSync(fd);
  });

  it('names the byte where a stream is corrupt; the watch tail names the file too, as a GpoError', () => {
    const { path, journal, ends } = journalOf([10, 20]);
    writeSync(journal.fd, Buffer.from([0x12, 0x34, 0x56, 0x78]), 0, 4, ends[0]);
    const tail = new JournalTail(journal.fd);
    expect(() => tail.read(ends[1]!)).toThrow(`corrupt Arrow IPC stream at byte ${ends[0]}`);
    const watched = new RecordingStreamTail(path);
    let thrown: unknown;
    try {
      watched.read();
    } catch (err) {
      thrown = err;
    }
    watched.close();
    expect(thrown).toBeInstanceOf(GpoError);
    expect((thrown as Error).message).toBe(`${path}: corrupt Arrow IPC stream at byte ${ends[0]}`);
    journal.abandon();
  });

  it('gives the watch tail the metadata the recording started with and every batch so far', () => {
    const { path, journal } = journalOf([10, 20]);
    const watched = new RecordingStreamTail(path);
    expect(rowCounts(watched.read())).toEqual([10, 20]);
    expect(watched.metadata?.status).toBe('recording');
    journal.appended(5, addon.writeRecordingBatch(journal.fd, rowsOf(2, 5), false));
    expect(rowCounts(watched.read())).toEqual([5]);
    watched.close();
    journal.abandon();
  });
});
