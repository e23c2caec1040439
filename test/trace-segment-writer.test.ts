// Parquet written while recording (src/trace/parquet-segment.ts and its worker): batches the addon appends
// to the journal are encoded before the recording ends, the file ends with the final metadata (written into
// the room the footer kept for it, or the file written again when it outgrows it), and its rows are the
// journal's. The worker runs from the build (dist/), as gpo runs it.
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { loadAddon, type NativeTestRow } from '../src/native/addon.js';
import { openTrace } from '../src/trace/reader.js';
import { ROW_KINDS } from '../src/trace/schema.js';
import { TraceStreamWriter } from '../src/trace/writer.js';
import { METADATA_ROOM_BYTES } from '../src/trace/footer-metadata.js';
import { testMetadata } from './helpers/metadata.js';

const BUILT = new URL('../dist/src/trace/parquet-segment.js', import.meta.url);
const addon = loadAddon();
const syscall = ROW_KINDS.indexOf('syscall');

async function segmentWriter(): Promise<typeof import('../src/trace/parquet-segment.js')> {
  if (!existsSync(BUILT)) throw new Error('dist/ is not built: run bash scripts/build.sh');
  return (await import(BUILT.href)) as typeof import('../src/trace/parquet-segment.js');
}

function rowsOf(batch: number, n: number): NativeTestRow[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: BigInt(1000 + batch * n + i),
    pid: 7,
    tid: 7 + (i % 3),
    comm: `t${i % 3}`,
    kind: syscall,
    nr: i % 300,
    ret: BigInt(i),
  }));
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 30_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A journal and its Parquet writer after one batch of 1000 rows. */
async function oneBatchRecorded() {
  const { ParquetSegmentWriter } = await segmentWriter();
  const out = join(mkdtempSync(join(tmpdir(), 'gpo-segment-')), 't.parquet');
  const journal = new TraceStreamWriter(`${out}.arrows`, testMetadata());
  const parquet = new ParquetSegmentWriter(out, `${out}.arrows`, journal.fd, testMetadata());
  journal.appended(1000, addon.writeRecordingBatch(journal.fd, rowsOf(0, 1000), false));
  parquet.appended(journal.bytesWritten);
  return { out, journal, parquet };
}

describe('Parquet written while recording', () => {
  it('encodes batches as they are appended, then ends the file with the final metadata', async () => {
    const { ParquetSegmentWriter } = await segmentWriter();
    const dir = mkdtempSync(join(tmpdir(), 'gpo-segment-'));
    const out = join(dir, 't.parquet');
    const journal = new TraceStreamWriter(`${out}.arrows`, testMetadata({ status: 'recording', stop_reason: null }));
    const parquet = new ParquetSegmentWriter(out, `${out}.arrows`, journal.fd, testMetadata({ status: 'recording', stop_reason: null }));
    const batches = 6;
    const perBatch = 100_000;
    for (let b = 0; b < batches; b++) {
      journal.appended(perBatch, addon.writeRecordingBatch(journal.fd, rowsOf(b, perBatch), false));
      parquet.appended(journal.bytesWritten);
    }
    // Before the end is asked for, every row is encoded and whole row groups are on disk.
    await until(() => parquet.rowsEncoded === batches * perBatch, 'every row encoded');
    expect(statSync(`${out}.tmp`).size).toBeGreaterThan(1000);
    expect(existsSync(out)).toBe(false);

    const final = testMetadata({ counts: { syscall: { rows: batches * perBatch, dropped: 3 } }, syscalls_dropped_by_nr: { '110': 3 } });
    await parquet.finish(journal.bytesWritten, final);
    journal.close(final);
    expect(existsSync(`${out}.tmp`)).toBe(false);

    const trace = await openTrace(out);
    expect(trace.metadata).toEqual(final);
    expect(trace.numRows).toBe(batches * perBatch);
    let at = 0;
    for await (const batch of trace.batches({ columns: ['ts_ns', 'tid', 'nr'] })) {
      const ts = batch.getChild('ts_ns')!.toArray() as BigInt64Array;
      for (let i = 0; i < batch.numRows; i++, at++) expect(ts[i]).toBe(BigInt(1000 + at));
    }
    expect(at).toBe(batches * perBatch);
    // Another reader sees the same file: the final metadata in the footer, valid JSON.
    const file = await asyncBufferFromFile(out);
    const meta = await parquetMetadataAsync(file);
    expect(JSON.parse(meta.key_value_metadata!.find((kv) => kv.key === 'gpo')!.value!)).toEqual(final);
    const firstRows = await parquetReadObjects({ file, columns: ['tid', 'comm'], rowEnd: 3, compressors });
    expect(firstRows).toEqual([
      { tid: 7, comm: 't0' },
      { tid: 8, comm: 't1' },
      { tid: 9, comm: 't2' },
    ]);
  });

  it('writes the file again from the journal when the final metadata outgrows the room kept for it', async () => {
    const { out, journal, parquet } = await oneBatchRecorded();
    const huge = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [String(i), i]));
    const final = testMetadata({ syscalls_dropped_by_nr: huge });
    expect(JSON.stringify(final).length).toBeGreaterThan(METADATA_ROOM_BYTES);
    await parquet.finish(journal.bytesWritten, final);
    journal.close(final);
    const trace = await openTrace(out);
    expect(trace.metadata).toEqual(final);
    expect(trace.numRows).toBe(1000);
    expect(readFileSync(out).includes(Buffer.from(' '.repeat(1000)))).toBe(false);
  });

  it('leaves no temporary when recording is abandoned', async () => {
    const { out, journal, parquet } = await oneBatchRecorded();
    await parquet.abandon();
    journal.close();
    expect(existsSync(`${out}.tmp`)).toBe(false);
    expect(existsSync(out)).toBe(false);
  });
});
