// gpo import: dataset sequences as gpo traces, each sequence its own thread, then train and score on them.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIRST_PID, importToTrace } from '../src/import/to-trace.js';
import { importSequences } from '../src/import/load.js';
import { openTrace } from '../src/trace/reader.js';
import { GPO, readRows, ROOT, runGpo } from './helpers/gpo.js';
import { tempDir } from './score/trace-helpers.js';

const fixtures = join(ROOT, 'test/fixtures/datasets');
const dir = tempDir();

describe('gpo import', () => {
  it('imports ADFA-LD: one thread per file, synthetic times 1 ms apart, file name as comm', async () => {
    const out = join(dir, 'adfa.parquet');
    const result = await importToTrace('adfa-ld', [join(fixtures, 'adfa-ld')], out);
    const sequences = importSequences('adfa-ld', [join(fixtures, 'adfa-ld')]);
    expect(result.sequences).toBe(sequences.length);
    const rows = await readRows(out);
    expect(rows).toHaveLength(sequences.reduce((n, s) => n + s.syscalls.length, 0));
    expect(rows.every((r) => r.kind === 'syscall')).toBe(true);
    sequences.forEach((sequence, i) => {
      const thread = rows.filter((r) => r.tid === FIRST_PID + i);
      expect(thread.map((r) => r.nr)).toEqual([...sequence.syscalls]);
      expect(thread.every((r) => r.pid === FIRST_PID + i && r.comm === `UTD-000${i + 1}.txt`)).toBe(true);
    });
    expect(rows.slice(0, 3).map((r) => r.ts_ns)).toEqual([1_000_000_000n, 1_001_000_000n, 1_002_000_000n]);
    const meta = (await openTrace(out)).metadata;
    expect(meta.target.mode).toBe('import');
    expect(meta.status).toBe('complete');
    expect(meta.source).toEqual({ format: 'adfa-ld', inputs: [join(fixtures, 'adfa-ld/UTD-0001.txt'), join(fixtures, 'adfa-ld/UTD-0002.txt')] });
  });

  it('imports UNM: every process of a file is its own thread', async () => {
    const out = join(dir, 'unm.parquet');
    await importToTrace('unm', [join(fixtures, 'unm/trace.int')], out);
    const rows = await readRows(out);
    expect([...new Set(rows.map((r) => r.tid))]).toEqual([FIRST_PID, FIRST_PID + 1]);
    expect(rows.filter((r) => r.tid === FIRST_PID).map((r) => r.nr)).toEqual([2, 66, 5]);
  });

  it('imports strace -f -ttt: per pid threads, strace timestamps, rows in time order', async () => {
    const out = join(dir, 'strace.parquet');
    await importToTrace('strace', [join(fixtures, 'strace/ls.strace')], out);
    const rows = await readRows(out);
    const ts = rows.map((r) => r.ts_ns);
    expect([...ts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(ts);
    expect(rows[0]).toMatchObject({ ts_ns: 1_700_000_000_000_001_000n, nr: 59, pid: 4242, tid: 4242, comm: 'ls.strace', ret: 0n });
    expect(new Set(rows.map((r) => r.tid))).toEqual(new Set([4242, 4243]));
    // Return values: an fd, the split read's result from its resumed line, -ENOSYS, and exit_group's '?'.
    expect(rows.map((r) => [r.tid, r.nr, r.ret])).toEqual([
      [4242, 59, 0n],
      [4242, 257, 3n],
      [4243, 0, 3n],
      [4242, 3, 0n],
      [4243, 231, null],
      [4242, 0x1c7, -38n],
      [4242, 1, 2n],
    ]);
  });

  it('imports strace -T durations, and pids renumbered when two inputs share one', async () => {
    const log = join(dir, 'timed.strace');
    writeFileSync(
      log,
      '77 1.000000 getpid() = 77 <0.000012>\n77 1.000100 openat(AT_FDCWD, "/x", O_RDONLY) = -1 ENOENT (No such file or directory) <0.000003>\n',
    );
    const out = join(dir, 'timed.parquet');
    const result = await importToTrace('strace', [log], out);
    expect(result.warnings).toEqual([]);
    expect((await readRows(out)).map((r) => [r.pid, r.ret, (r as unknown as { duration_ns: bigint }).duration_ns])).toEqual([
      [77, 77n, 12_000n],
      [77, -2n, 3_000n],
    ]);
    expect((await openTrace(out)).metadata.options.durations).toBe(true);
    // Logs of one day, as ls.strace's (a trace spanning more than 31 days is refused on read).
    const late = join(dir, 'timed-late.strace');
    writeFileSync(late, '77 1700000001.000000 getpid() = 77 <0.000012>\n');
    const twice = await importToTrace('strace', [late, join(fixtures, 'strace/ls.strace'), late], join(dir, 'twice.parquet'));
    expect(twice.warnings).toEqual(['process ids repeat across the inputs: every sequence was renumbered from 1000']);
    expect(new Set((await readRows(join(dir, 'twice.parquet'))).map((r) => r.pid))).toEqual(new Set([FIRST_PID, FIRST_PID + 1, FIRST_PID + 2, FIRST_PID + 3]));
  });

  it("reads '-' as standard input", async () => {
    const out = join(dir, 'stdin.parquet');
    const r = spawnSync(process.execPath, [GPO, 'import', 'strace', '-', '-o', out, '--json'], { input: '9 2.5 getppid() = 1\n', encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sequences: 1, rows: 1 });
    expect((await readRows(out)).map((r) => [r.ts_ns, r.pid, r.nr, r.ret, r.comm])).toEqual([[2_500_000_000n, 9, 110, 1n, 'stdin']]);
  });

  it('reproduces dataset scoring through traces: import, train, score (CLI)', () => {
    const mini = join(fixtures, 'adfa-mini');
    const train = join(dir, 'mini-train.parquet');
    const attack = join(dir, 'mini-attack.parquet');
    const normal = join(dir, 'mini-normal.parquet');
    expect(runGpo(['import', 'adfa-ld', join(mini, 'train'), '-o', train]).code).toBe(0);
    expect(runGpo(['import', 'adfa-ld', join(mini, 'attack'), '-o', attack]).code).toBe(0);
    expect(runGpo(['import', 'adfa-ld', join(mini, 'normal'), '-o', normal]).code).toBe(0);
    const baseline = join(dir, 'mini.json');
    expect(runGpo(['train', train, '-o', baseline]).code).toBe(0);
    const attacked = JSON.parse(runGpo(['score', attack, '-b', baseline, '--json']).stdout);
    const attackThreads = new Set(attacked.anomalies.filter((a: { kind: string }) => a.kind === 'novel_sequence').map((a: { tid: number }) => a.tid));
    expect(attackThreads.size).toBe(2); // both attack sequences have unseen windows
    expect(runGpo(['import', 'nope', mini, '-o', join(dir, 'x.parquet')]).stderr).toMatch(/unknown format 'nope'/);
  });
});
