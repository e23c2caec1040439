// A CPU that spins in user space (no syscall, no context switch) must not hold its thread's last syscall rows
// back: the recorder stages syscall rows per CPU (bpf/record/staging.h) and flushes a stage when it fills, at
// a context switch, before any other record, and when a timer interrupt finds it waiting. The target is
// SCHED_FIFO, so no ordinary task takes its CPU while it spins; its last rows must still reach the trace's
// stream within a bounded time (the recorder's 200 ms delivery period, plus the stage's flush), and so must
// an act against it by another process meanwhile.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { getPriority, setPriority, tmpdir } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { RecordingStreamTail } from '../src/watch/stream-tail.js';
import { ipcPathFor } from '../src/trace/output-file.js';
import { fixture, readRows, requireRoot, startGpo, TIMEOUT_SCALE } from './helpers/gpo.js';

const GETPPID = 110;
const CALLS = 20; // fewer than a stage holds (64), so only a flush writes them
const SPIN_MS = 2500;
/** Delivery period (200 ms) + stage age (10 ms) + a timer tick + drain + polling, with room for a loaded machine. */
const BOUND_MS = 600;

let dir: string;
beforeAll(() => {
  requireRoot();
  // This thread is the stopwatch: run under nice (a suite started with nice 19), its polling lost the CPU
  // the SCHED_FIFO spinner leaves to everything else, and the bound measured the stopwatch's wait.
  if (getPriority() > 0) setPriority(0);
  dir = mkdtempSync(join(tmpdir(), 'gpo-spin-'));
});

describe('a CPU spinning without syscalls', () => {
  it("does not hold back its thread's staged syscall rows, nor an act against it meanwhile", async () => {
    const out = join(dir, 'spin.parquet');
    const gpo = startGpo(['record', '-q', '-o', out, '--', fixture('spinner'), String(CALLS), String(SPIN_MS)]);
    const [, pid, ns] = await gpo.waitFor(/\{"pid":(\d+),"ns":(\d+)\}/);
    const calledAt = BigInt(ns!);
    let tail: RecordingStreamTail | null = null;
    let seen = 0;
    const actors = new Set<number>(); // pids of the processes whose proc_open rows were read
    const msSince = (ns: bigint) => Number(process.hrtime.bigint() - ns) / 1e6;
    const poll = () => {
      tail ??= new RecordingStreamTail(ipcPathFor(out));
      for (const batch of tail.read()) {
        const tid = batch.getChild('tid')!.toArray() as Int32Array;
        const nr = batch.getChild('nr')!;
        const kind = batch.getChild('kind')!;
        for (let i = 0; i < batch.numRows; i++) {
          if (tid[i] === Number(pid) && nr.get(i) === GETPPID) seen++;
          if (kind.get(i) === 'proc_open') actors.add(batch.getChild('pid')!.get(i) as number);
        }
      }
    };
    /** Ms from `since` until `done` holds, or -1 if the target stopped spinning first (its exit flushes every stage). */
    const waitUntil = async (done: () => boolean, since: bigint): Promise<number> => {
      while (msSince(calledAt) < SPIN_MS) {
        poll();
        if (done()) return msSince(since);
        await new Promise((r) => setTimeout(r, 5));
      }
      return -1;
    };
    const rowsWaited = await waitUntil(() => seen >= CALLS, calledAt);
    // An act by another process meanwhile (an open of the target's memory, from the other CPU): its row is
    // not staged, and nothing holds it back either.
    const act = JSON.parse(execFileSync(fixture('watch-act'), ['proc-mem', pid!], { encoding: 'utf8' })) as { pid: number; ns: number };
    const actWaited = await waitUntil(() => actors.has(act.pid), BigInt(act.ns));
    (tail as RecordingStreamTail | null)?.close();
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(rowsWaited, `the ${CALLS} getppid rows were not in the stream while the target spun`).toBeGreaterThanOrEqual(0);
    expect(rowsWaited).toBeLessThan(BOUND_MS * TIMEOUT_SCALE);
    expect(actWaited, 'the proc_open row was not in the stream while the target spun').toBeGreaterThanOrEqual(0);
    expect(actWaited).toBeLessThan(BOUND_MS * TIMEOUT_SCALE);
    // And the trace holds them once, as always.
    const rows = await readRows(out);
    expect(rows.filter((r) => r.tid === Number(pid) && r.nr === GETPPID).length).toBe(CALLS);
  });
});
