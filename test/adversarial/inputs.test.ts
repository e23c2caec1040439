// Inputs gpo is given (issue 13, "Inputs"): process ids, durations, traces and baselines made to mislead
// it. What cannot be used is refused with one line on stderr and exit code 2, before any work; a thread id
// is resolved to its process, and gpo says so. The record cases run on the real kernel, as root.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Int64, Schema, type RecordBatch, RecordBatch as Batch, Struct, makeData } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { importMetadata } from '../../src/import/to-trace.js';
import { rowsBatch, type TraceRowInput } from '../../src/import/trace-batches.js';
import type { TraceMetadata } from '../../src/trace/metadata.js';
import { writeParquet } from '../../src/trace/writer.js';
import { GPO, ROOT, requireRoot, runGpo, start, type Finished } from '../helpers/gpo.js';

const BASELINE = join(ROOT, 'recordings', 'baseline.json');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpo-adv-in-'));
});

function oneLineRefusal(r: Finished, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

const syscalls = (n: number, startNs = 1_000_000_000n): TraceRowInput[] =>
  Array.from({ length: n }, (_, i) => ({ ts_ns: startNs + BigInt(i) * 1_000_000n, pid: 7, tid: 7, comm: 'game', kind: 'syscall', nr: i % 5 }));

function metadata(rows: number): TraceMetadata {
  return importMetadata('test', [], { pid: 7, comm: 'game', rows });
}

/** A batch with one column replaced (or removed when `data` is null). */
function withColumn(batch: RecordBatch, name: string, field: Field | null, data?: ReturnType<typeof makeData>): RecordBatch {
  const fields: Field[] = [];
  const children = [];
  for (const f of batch.schema.fields) {
    if (f.name !== name) {
      fields.push(f);
      children.push(batch.getChild(f.name)!.data[0]!);
    } else if (field) {
      fields.push(field);
      children.push(data!);
    }
  }
  return new Batch(new Schema(fields), makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
}

async function trace(name: string, batch: RecordBatch, meta = metadata(batch.numRows)): Promise<string> {
  const path = join(dir, name);
  await writeParquet([batch], path, meta);
  return path;
}

describe('traces made to mislead the readers', () => {
  it('refuses a trace missing a column, in info, score and train', async () => {
    const path = await trace('no-nr.parquet', withColumn(rowsBatch(syscalls(50)), 'nr', null));
    for (const args of [
      ['info', path],
      ['score', path, '--baseline', BASELINE],
      ['train', path, '-o', join(dir, 'b.json')],
    ])
      oneLineRefusal(runGpo(args), /no-nr\.parquet: not a gpo trace: column nr is missing/);
  });

  it('refuses a column of the wrong type', async () => {
    const batch = rowsBatch(syscalls(50));
    const pids = makeData({ type: new Int64(), length: 50, data: new BigInt64Array(50).fill(7n) });
    const path = await trace('pid-int64.parquet', withColumn(batch, 'pid', new Field('pid', new Int64(), false), pids));
    oneLineRefusal(runGpo(['score', path, '--baseline', BASELINE]), /column pid is Int64, expected Int32/);
  });

  it('refuses a time span no recording has, at once instead of scoring for minutes', async () => {
    const rows = [...syscalls(20), ...syscalls(20, 1n << 62n)];
    const path = await trace('span.parquet', rowsBatch(rows));
    const started = Date.now();
    oneLineRefusal(runGpo(['score', path, '--baseline', BASELINE], 30_000), /time span of .* is longer than/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('trains and scores a trace of many processes each spanning weeks in seconds (empty rate windows cost nothing)', async () => {
    // 40 processes, each calling once at the start and once 30 days later: 2.6 million empty one-second
    // rate windows each, which training once kept one by one (out of memory) and scoring walked one by one.
    const day = 86_400_000_000_000n;
    const rows: TraceRowInput[] = [];
    for (let p = 0; p < 40; p++) {
      rows.push({ ts_ns: 1_000_000_001n + BigInt(p), pid: 100 + p, tid: 100 + p, comm: 'game', kind: 'syscall', nr: 0 });
      rows.push({ ts_ns: 30n * day - BigInt(p), pid: 100 + p, tid: 100 + p, comm: 'game', kind: 'syscall', nr: 1 });
    }
    rows.sort((a, b) => (a.ts_ns < b.ts_ns ? -1 : a.ts_ns > b.ts_ns ? 1 : 0));
    const path = await trace('weeks.parquet', rowsBatch(rows));
    const started = Date.now();
    const baseline = join(dir, 'weeks.json');
    const trained = runGpo(['train', path, path, '-o', baseline], 60_000);
    expect(trained.code, trained.stderr).toBe(0);
    const document = JSON.parse(readFileSync(baseline, 'utf8'));
    // Each process counts 30 days of one-second windows but the last partial one, in each of the two traces.
    expect(document.model.frequency.windows).toBe(2 * 40 * (30 * 86_400 - 2));
    expect(document.model.frequency.rates['0']).toEqual({ median: 0, mad: 0, q99: 0, max: 1 });
    const scored = runGpo(['score', path, '--baseline', baseline], 60_000);
    expect(scored.code, scored.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('refuses a negative time', async () => {
    const rows = [{ ...syscalls(1)[0]!, ts_ns: -5n }, ...syscalls(20)];
    oneLineRefusal(runGpo(['info', await trace('negative.parquet', rowsBatch(rows))]), /negative time/);
  });

  it('refuses tampered metadata: negative drops, a count that is not one, a pid that is not one', async () => {
    const cases: [string, (m: TraceMetadata) => void, RegExp][] = [
      ['drops', (m) => (m.counts = { syscall: { rows: 50, dropped: -5 } }), /counts\.syscall\.dropped is -5, expected a count/],
      ['by-nr', (m) => (m.syscalls_dropped_by_nr = { '39': 1.5 }), /syscalls_dropped_by_nr\.39 is 1\.5, expected a count/],
      ['pid', (m) => ((m.target as { pid: unknown }).pid = 'one'), /target\.pid is "one", expected a process id/],
      ['clock', (m) => (m.clock.wall_offset_ns = '1e999'), /clock\.wall_offset_ns is "1e999", expected an integer/],
    ];
    for (const [name, tamper, pattern] of cases) {
      const meta = metadata(50);
      tamper(meta);
      oneLineRefusal(runGpo(['info', await trace(`meta-${name}.parquet`, rowsBatch(syscalls(50)), meta)]), pattern);
    }
  });
});

describe('baselines made to switch detectors off', () => {
  const tampered = (name: string, edit: (b: Record<string, any>) => void, raw?: (text: string) => string): string => {
    const doc = JSON.parse(readFileSync(BASELINE, 'utf8'));
    edit(doc);
    const path = join(dir, `${name}.json`);
    const text = JSON.stringify(doc);
    writeFileSync(path, raw ? raw(text) : text);
    return path;
  };
  const score = (baseline: string) => runGpo(['score', join(ROOT, 'recordings', 'clean-seed-101.parquet'), '--baseline', baseline]);

  it('refuses absurd thresholds: 1e308, infinite, NaN (null in JSON), negative', () => {
    oneLineRefusal(score(tampered('z-huge', (b) => (b.calibration.rate_deviation.z = 1e308))), /calibration\.rate_deviation\.z is 1e\+308/);
    oneLineRefusal(
      score(
        tampered(
          'score-inf',
          () => undefined,
          (t) => t.replace(/"score":[^,}]+/, '"score":1e999'),
        ),
      ),
      /model\.thresholds\.score is Infinity/,
    );
    oneLineRefusal(score(tampered('frame-nan', (b) => (b.model.thresholds.frameNovelty = null))), /model\.thresholds\.frameNovelty is null, expected a number/);
    oneLineRefusal(score(tampered('novelty-neg', (b) => (b.calibration.novel_sequence_high_frame_novelty = -1))), /novel_sequence_high_frame_novelty is -1/);
    oneLineRefusal(score(tampered('rate-window', (b) => (b.model.frequency.options.windowNs = 1))), /model\.frequency\.options\.windowNs is 1/);
  });

  it('still takes the baseline gpo train wrote', () => {
    expect(score(BASELINE).code).toBe(0);
  });

  it('takes the frame novelties training gives when no window may be flagged (one past the most novel frame), refuses beyond', () => {
    // calibrateThresholds answers the histogram's length, frameLength x windowLength + 1, when even the most
    // novel frame is too common among held-out windows (a storm), and the high level follows it there.
    const { frameLength, windowLength } = JSON.parse(readFileSync(BASELINE, 'utf8')).model.options;
    const off = frameLength * windowLength + 1;
    const trained = tampered('frame-off', (b) => {
      b.model.thresholds.frameNovelty = off;
      b.calibration.novel_sequence_high_frame_novelty = off;
    });
    expect(score(trained).stderr).toBe('');
    oneLineRefusal(
      score(tampered('frame-beyond', (b) => (b.model.thresholds.frameNovelty = off + 1))),
      new RegExp(`model\\.thresholds\\.frameNovelty is ${off + 1}`),
    );
  });

  it('takes the rate thresholds training gives a busy program (a robust z is at most a window count)', () => {
    // A storm's held-out windows reach z in the thousands: gpo must read the baselines it writes.
    const busy = tampered('z-busy', (b) => {
      b.calibration.rate_deviation.z = 5000;
      b.calibration.libcall_rate_deviation.z = 250_000;
    });
    const r = score(busy);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('gpo record --pid and --duration (real kernel)', () => {
  beforeAll(() => requireRoot());
  const out = () => join(dir, `rec-${Math.random().toString(36).slice(2)}.parquet`);

  it('takes process ids in decimal only', () => {
    for (const text of ['0x1', '1e0', ' 1', '+1', '01', '1.0', '', '4294967297'])
      oneLineRefusal(runGpo(['record', '--pid', text, '-o', out()]), /--pid.*expected a process id in decimal/);
  });

  it('resolves a thread id to its process, and says so', async () => {
    const script =
      'import threading,time,sys\nt=threading.Thread(target=time.sleep,args=(30,),daemon=True)\nt.start()\nprint(t.native_id, flush=True)\ntime.sleep(30)';
    const py = start('python3', ['-c', script]);
    try {
      const tid = Number((await py.waitFor(/(\d+)/))[1]);
      const path = out();
      const r = runGpo(['record', '--pid', String(tid), '--duration', '0.5', '-o', path]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`${tid} is a thread of process ${py.pid}: recording process ${py.pid}`));
      const info = JSON.parse(runGpo(['info', '--json', path]).stdout);
      expect(info.metadata.target.pid).toBe(py.pid);
    } finally {
      py.child.kill('SIGKILL');
    }
  });

  it('refuses a kernel thread, a zombie and gpo itself', async () => {
    oneLineRefusal(runGpo(['record', '--pid', '2', '-o', out()]), /2 is a kernel thread/);
    const script = 'import os,time\npid=os.fork()\nif pid==0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)';
    const py = start('python3', ['-c', script]);
    try {
      const zombie = Number((await py.waitFor(/(\d+)/))[1]);
      for (let i = 0; i < 50 && !/^State:\s+Z/m.test(readFileSync(`/proc/${zombie}/status`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 20));
      oneLineRefusal(runGpo(['record', '--pid', String(zombie), '-o', out()]), new RegExp(`${zombie} is a zombie`));
    } finally {
      py.child.kill('SIGKILL');
    }
    // The shell execs gpo: $$ is gpo's own pid.
    const self = spawnSync('sh', ['-c', `exec "${process.execPath}" "${GPO}" record --pid $$ -o ${out()}`], { encoding: 'utf8' });
    oneLineRefusal({ code: self.status, signal: null, stdout: self.stdout, stderr: self.stderr }, /is gpo itself/);
  });

  it('keeps a --duration longer than a timer can hold (2147484 s)', async () => {
    const path = out();
    const gpo = spawn(process.execPath, [GPO, 'record', '-q', '--duration', '2147484', '-o', path, '--', 'sleep', '1.5'], { stdio: 'ignore' });
    const code = await new Promise((resolve) => gpo.on('close', resolve));
    expect(code).toBe(0);
    const info = JSON.parse(runGpo(['info', '--json', path]).stdout);
    expect(info.metadata.stop_reason).toBe('target-exited');
  });

  it('refuses a duration that is not a number of seconds', () => {
    for (const text of ['0', '-1', '1e999', 'NaN', '0x10', ' 1'])
      oneLineRefusal(runGpo(['record', '--duration', text, '-o', out(), '--', '/bin/true']), /--duration.*expected/);
  });
});
