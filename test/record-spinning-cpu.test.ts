// A CPU that spins in user space (no syscall, no context switch) must not hold its thread's last syscall rows
// back: the recorder stages syscall rows per CPU (bpf/record/staging.h) and flushes a stage when it fills, at
// a context switch, before any other record, and when a timer interrupt finds it waiting. The target is
// SCHED_FIFO, so no ordinary task takes its CPU while it spins; its last rows must still reach the trace's
// stream within a bounded time (the recorder's 200 ms delivery period, plus the stage's flush).
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { RecordingStreamTail } from '../src/watch/stream-tail.js';
import { ipcPathFor } from '../src/trace/writer.js';
import { fixture, readRows, requireRoot, startGpo, TIMEOUT_SCALE } from './helpers/gpo.js';

const GETPPID = 110;
const CALLS = 20; // fewer than a stage holds (64), so only a flush writes them
const SPIN_MS = 2500;
/** Delivery period (200 ms) + stage age (10 ms) + a timer tick + drain + polling, with room for a loaded machine. */
const BOUND_MS = 600;

let dir: string;
beforeAll(() => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'gpo-spin-'));
});

describe('a CPU spinning without syscalls', () => {
  it("does not hold back its thread's staged syscall rows", async () => {
    const out = join(dir, 'spin.parquet');
    const gpo = startGpo(['record', '-q', '-o', out, '--', fixture('spinner'), String(CALLS), String(SPIN_MS)]);
    const [, pid, ns] = await gpo.waitFor(/\{"pid":(\d+),"ns":(\d+)\}/);
    const calledAt = BigInt(ns!);
    let tail: RecordingStreamTail | null = null;
    let seen = 0;
    let waitedMs = -1;
    // Until the rows are in the stream, or the target stops spinning (its exit flushes every stage).
    while (waitedMs < 0 && Number(process.hrtime.bigint() - calledAt) / 1e6 < SPIN_MS) {
      tail ??= new RecordingStreamTail(ipcPathFor(out));
      for (const batch of tail.read()) {
        const tid = batch.getChild('tid')!.toArray() as Int32Array;
        const nr = batch.getChild('nr')!;
        for (let i = 0; i < batch.numRows; i++) if (tid[i] === Number(pid) && nr.get(i) === GETPPID) seen++;
      }
      if (seen >= CALLS) waitedMs = Number(process.hrtime.bigint() - calledAt) / 1e6;
      else await new Promise((r) => setTimeout(r, 5));
    }
    tail?.close();
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(seen, `the ${CALLS} getppid rows were not in the stream while the target spun`).toBe(CALLS);
    expect(waitedMs).toBeLessThan(BOUND_MS * TIMEOUT_SCALE);
    // And the trace holds them once, as always.
    const rows = await readRows(out);
    expect(rows.filter((r) => r.tid === Number(pid) && r.nr === GETPPID).length).toBe(CALLS);
  });
});
