// The Parquet file of a recording, written while it records (src/trace/parquet-segment-worker.ts) from the
// journal the addon appends to. The journal stays the crash-safe copy until the Parquet file is published:
// a killed gpo leaves the journal (readable) and a temporary without a footer (never read as a trace).
import { closeSync, existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GpoError } from '../errors.js';
import { reservedMetadata } from './footer-metadata.js';
import { type TraceMetadata } from './metadata.js';
import { checkReplaceable, createNew, publish } from './output-file.js';
import type { SegmentWriterData, SegmentWriterMessage, SegmentWriterRequest } from './parquet-segment-worker.js';
import { readIpcBatches, tmpPathFor, writeParquet } from './writer.js';

/** The worker's script, next to this module once built (not when this module runs from its .ts source). */
const SEGMENT_WORKER = new URL('./parquet-segment-worker.js', import.meta.url);

/** Whether Parquet can be written while recording (the worker is built); otherwise the journal is converted
 * when recording ends. */
export function canWriteWhileRecording(): boolean {
  return existsSync(fileURLToPath(SEGMENT_WORKER));
}

type Outcome = Extract<SegmentWriterMessage, { done: unknown }>['done'] | { error: string };

export class ParquetSegmentWriter {
  private readonly tmp: string;
  private readonly fd: number;
  private readonly worker: Worker;
  private readonly outcome: Promise<Outcome>;
  private ended = false;
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
    const workerData: SegmentWriterData = {
      journalFd,
      parquetFd: this.fd,
      gpoVersion: metadata.gpo_version,
      reservedMetadata: reservedMetadata(JSON.stringify(metadata)),
    };
    this.worker = new Worker(SEGMENT_WORKER, { workerData });
    this.worker.unref();
    this.outcome = new Promise<Outcome>((resolve) => {
      this.worker.on('message', (message: SegmentWriterMessage) => {
        if ('rows' in message) this.rowsEncoded = message.rows;
        else if ('done' in message) resolve(message.done);
        else resolve(message);
      });
      this.worker.on('error', (err) => resolve({ error: String(err).split('\n')[0]! }));
      this.worker.on('exit', (code) => resolve({ error: `the Parquet writer exited (${code})` }));
    });
  }

  /** The journal is complete up to byte `upTo`. */
  appended(upTo: number): void {
    this.worker.postMessage({ upTo } satisfies SegmentWriterRequest);
  }

  /**
   * Encodes what is left of the journal (complete up to `upTo`), ends the file with `metadata` and publishes
   * it at its path. The journal must stay open until then (the worker reads it); it is left to the caller.
   */
  async finish(upTo: number, metadata: TraceMetadata): Promise<void> {
    this.worker.postMessage({ finish: { upTo, metadata: JSON.stringify(metadata) } } satisfies SegmentWriterRequest);
    const outcome = await this.outcome;
    await this.end();
    if ('error' in outcome) {
      rmSync(this.tmp, { force: true });
      throw new GpoError(`cannot write ${this.tmp}: ${outcome.error}`);
    }
    if (!outcome.fits) {
      // The final metadata outgrew the room kept for it: written again from the journal, whole.
      rmSync(this.tmp, { force: true });
      await writeParquet(readIpcBatches(this.journalPath), this.path, metadata);
      return;
    }
    publish(this.tmp, this.path);
  }

  /** Stops writing and removes the temporary (recording failed: the journal is what remains). */
  async abandon(): Promise<void> {
    if (this.ended) return;
    await this.end();
    rmSync(this.tmp, { force: true });
  }

  // The worker is gone before its descriptor is closed: a number reused meanwhile must not be written to.
  private async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.worker.removeAllListeners();
    await this.worker.terminate();
    closeSync(this.fd);
  }
}
