// Stopping (issue 13, "Output files" and "nothing lost silently"): whatever stops a recording, gpo ends
// what it started, and the counters of what was lost reach the file, even when gpo itself is killed or
// the disk is full. Real kernel, as root.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import * as parquet from 'parquet-wasm/node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openTrace } from '../../src/trace/reader.js';
import { scanStream } from '../../src/trace/stream-metadata.js';
import { syscallNumber } from '../../src/trace/syscalls.js';
import { alive, fixture, readRows, requireRoot, runGpo, startGpo } from '../helpers/gpo.js';

const GETPPID = syscallNumber('getppid')!;
let dir: string;
const leftovers: number[] = [];

beforeAll(() => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'gpo-adv-stop-'));
});

afterEach(() => {
  for (const pid of leftovers.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

async function gone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

function info(path: string) {
  const r = runGpo(['info', '--json', path]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('disk full', () => {
  it('stops the target gpo launched, and the stream ends with the counters of what was lost', async () => {
    const small = mkdtempSync(join(tmpdir(), 'gpo-adv-full-'));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', small]).status).toBe(0);
    try {
      const out = join(small, 'full.parquet');
      const r = runGpo(['record', '-q', '-o', out, '--', fixture('storm'), '400000000'], 120_000);
      const target = (await openTrace(`${out}.arrows`)).metadata.target.pid;
      leftovers.push(target);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(
        /No space left on device: recording stopped, [0-9]+ rows not written; ended 1 process gpo started: 1 on SIGTERM \(pids [0-9]+\); the counters are in the stream/,
      );
      expect(await gone(target, 2000), `target ${target} still running`).toBe(true);

      const s = info(`${out}.arrows`);
      const counts = s.metadata.counts;
      expect(s.metadata.status).toBe('failed');
      expect(s.metadata.stop_reason).toBe('error');
      expect(counts.not_written.dropped).toBeGreaterThan(0);
      // Every row drained is in the file or counted as not written.
      expect(s.rows + counts.not_written.dropped).toBe(counts.syscall.rows + counts.lifecycle.rows);
      expect(s.dropped).toBe(counts.syscall.dropped + counts.lifecycle.dropped + counts.not_written.dropped);
    } finally {
      spawnSync('umount', [small]);
    }
  });
});

describe('a target that ignores SIGTERM', () => {
  it('is killed with SIGKILL after the grace period, and gpo says so', async () => {
    const out = join(dir, 'stubborn.parquet');
    const script = 'import signal,sys,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print("ready", flush=True); time.sleep(120)';
    const gpo = startGpo(['record', '-o', out, '--', 'python3', '-c', script]);
    await gpo.waitFor(/ready/);
    const started = Date.now();
    gpo.child.kill('SIGINT');
    const done = await gpo.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(done.stderr).toMatch(/^gpo: ended 1 process gpo started: 1 killed with SIGKILL after 3 s \(pids [0-9]+\)$/m);
    const trace = await openTrace(out);
    leftovers.push(trace.metadata.target.pid);
    expect(trace.metadata.target_signal).toBe('SIGKILL');
    expect(trace.metadata.stop_reason).toBe('SIGINT');
    expect(alive(trace.metadata.target.pid)).toBe(false);
    const exit = (await readRows(out)).find((x) => x.kind === 'exit' && x.group_dead === 1 && x.pid === trace.metadata.target.pid);
    expect(exit?.exit_code! & 0x7f).toBe(9);
  });
});

describe('gpo killed with SIGKILL', () => {
  it('leaves a stream whose counters say what was lost up to its last batch', async () => {
    const out = join(dir, 'killed.parquet');
    const gpo = startGpo(['record', '--ring-buffer-size', '8192', '-o', out, '--', fixture('storm'), '400000000']);
    await gpo.waitFor(/recording/, 'stderr');
    const target = (await openTrace(`${out}.arrows`)).metadata.target.pid;
    leftovers.push(target);
    await new Promise((r) => setTimeout(r, 2000));
    gpo.child.kill('SIGKILL');
    // The target holds gpo's stdout and stderr open: gpo's pipes close once gpo's guardian has ended it too
    // (test/adversarial/ending.test.ts).
    await gpo.exited;
    expect(existsSync(out)).toBe(false);
    const s = info(`${out}.arrows`);
    expect(s.incomplete).toBe(true);
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.dropped).toBe(s.metadata.counts.syscall.dropped + s.metadata.counts.lifecycle.dropped);
    expect(s.metadata.syscalls_dropped_by_nr[String(GETPPID)]).toBeGreaterThan(0);
    // The counters are those of the last batch in the file: its rows are exactly the rows there.
    expect(s.metadata.counts.syscall.rows).toBe(s.rows_by_kind.syscall);
    // The batches carrying them are standard Arrow IPC: another reader (arrow-rs, which verifies every
    // message) reads the same rows from the stream's complete messages (SIGKILL may tear the last write).
    const fd = openSync(`${out}.arrows`, 'r');
    const complete = scanStream(fd);
    closeSync(fd);
    const table = parquet.Table.fromIPCStream(readFileSync(`${out}.arrows`).subarray(0, complete));
    expect(table.recordBatches().reduce((n, b) => n + b.numRows, 0)).toBe(s.rows);
    table.free();
  });
});
