// The Parquet file of a recording, written while it records (src/trace/parquet-segment-worker.ts) from the
// journal the addon appends to. The journal stays the crash-safe copy until the Parquet file is published:
// a killed gpo leaves the journal (readable) and a temporary without a footer (never read as a trace).
import { closeSync, existsSync, fsyncSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { failureReason, GpoError } from '../errors.js';
import { reservedMetadata, rewriteFooterMetadata } from './footer-metadata.js';
import { type TraceMetadata } from './metadata.js';
import { checkReplaceable, createNew, publish, tmpPathFor } from './output-file.js';
import { encodeJournal } from './journal-parquet.js';
import { parquetFileSpec } from './parquet-encoder.js';
import type { SegmentWriterData, SegmentWriterMessage, SegmentWriterRequest } from './parquet-segment-worker.js';
import { readIpcBatches, writeParquet, writerProperties } from './writer.js';

/** The worker's script, next to this module once built (not when this module runs from its .ts source). */
const SEGMENT_WORKER = new URL('./parquet-segment-worker.js', import.meta.url);

/** Journal bytes (about 80,000 rows) before the worker starts: starting it (a thread loading the addon)
 * costs more than the main thread's encoding of a smaller journal when the recording ends. */
const WORKER_START_BYTES = 4 << 20;

/** Whether Parquet can be written while recording (the worker is built); otherwise the journal is converted
 * when recording ends. */
export function canWriteWhileRecording(): boolean {
  return existsSync(fileURLToPath(SEGMENT_WORKER));
}

type Outcome = Extract<SegmentWriterMessage, { done: unknown }>['done'] | { error: string };

export class ParquetSegmentWriter {
  private readonly tmp: string;
  private readonly fd: number;
  private readonly workerData: SegmentWriterData;
  private worker: Worker | null = null;
  private outcome!: Promise<Outcome>;
  private readonly reserved: string;
  private closed = false;
  /** The file's size once complete. */
  private bytes = 0;
  /** Rows encoded so far (for status lines and tests). */
  rowsEncoded = 0;

  /** Starts writing `path` (through its temporary, created new) from the journal at `journalPath`, open as
   * `journalFd`; `metadata` is the document the recording started with. */
  constructor(
    readonly path: string,
    private readonly journalPath: string,
    journalFd: number,
    metadata: TraceMetadata,
  ) {
    checkReplaceable(path);
    this.tmp = tmpPathFor(path);
    this.fd = createNew(this.tmp);
    this.reserved = reservedMetadata(JSON.stringify(metadata));
    this.workerData = { journalFd, parquetFd: this.fd, file: parquetFileSpec(writerProperties(metadata.gpo_version, this.reserved)) };
  }

  /** The worker, started once the journal is large enough: loading its libraries then overlaps the target's
   * run instead of delaying its start. */
  private started(): Worker {
    if (this.worker) return this.worker;
    // Not unref'd: while gpo waits for the end of the file, the worker is what keeps it running.
    const worker = new Worker(SEGMENT_WORKER, { workerData: this.workerData });
    this.worker = worker;
    this.outcome = new Promise<Outcome>((resolve) => {
      worker.on('message', (message: SegmentWriterMessage) => {
        if ('rows' in message) this.rowsEncoded = message.rows;
        else if ('done' in message) resolve(message.done);
        else resolve(message);
      });
      worker.on('error', (err) => resolve({ error: String(err).split('\n')[0]! }));
      worker.on('exit', (code) => resolve({ error: `the Parquet writer exited (${code})` }));
    });
    return worker;
  }

  /** The journal is complete up to byte `upTo`. */
  appended(upTo: number): void {
    if (this.worker || upTo >= WORKER_START_BYTES) this.started().postMessage({ upTo } satisfies SegmentWriterRequest);
  }

  /**
   * Encodes what is left of the journal (complete up to `upTo`) and ends the file (its footer holding the
   * first metadata); returns its rows and size. The journal must stay open until then (the worker reads it).
   */
  async complete(upTo: number): Promise<{ rows: number; bytes: number }> {
    let outcome: Outcome;
    if (this.worker) {
      this.worker.postMessage({ finish: { upTo } } satisfies SegmentWriterRequest);
      outcome = await this.outcome;
      await this.stopWorker();
    } else {
      // A journal that never grew worth a worker is encoded here.
      try {
        outcome = encodeJournal(this.workerData, upTo);
      } catch (err) {
        outcome = { error: failureReason(err) };
      }
    }
    if ('error' in outcome) {
      await this.abandon();
      throw new GpoError(`cannot write ${this.tmp}: ${outcome.error}`);
    }
    this.bytes = outcome.bytes;
    return outcome;
  }

  /** After complete(): writes the final metadata into the footer and publishes the file at its path. */
  async publish(metadata: TraceMetadata): Promise<void> {
    const fits = rewriteFooterMetadata(this.fd, this.bytes, this.reserved, JSON.stringify(metadata));
    if (fits) fsyncSync(this.fd);
    this.closeFile();
    if (!fits) {
      // The final metadata outgrew the room kept for it: written again from the journal, whole.
      rmSync(this.tmp, { force: true });
      await writeParquet(readIpcBatches(this.journalPath), this.path, metadata);
      return;
    }
    publish(this.tmp, this.path);
  }

  /** complete() then publish(). */
  async finish(upTo: number, metadata: TraceMetadata): Promise<void> {
    await this.complete(upTo);
    await this.publish(metadata);
  }

  /** Stops writing and removes the temporary (recording failed: the journal is what remains). */
  async abandon(): Promise<void> {
    await this.stopWorker();
    if (this.closeFile()) rmSync(this.tmp, { force: true });
  }

  // The worker is gone before its descriptor is closed: a number reused meanwhile must not be written to.
  private async stopWorker(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    worker.removeAllListeners();
    await worker.terminate();
  }

  private closeFile(): boolean {
    if (this.closed) return false;
    this.closed = true;
    closeSync(this.fd);
    return true;
  }
}
