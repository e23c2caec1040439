// The fleet workflow end to end on real data: strace logs of real runs (two hosts, two builds) imported
// one trace each into a {host}/{recording_id} layout by gpo's own writer, trained on as a folder, scored as
// a folder (one JSON line per trace, the worst exit code), and asked SQL questions whose answers the test
// computes from the strace logs themselves.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireRoot, runGpo } from '../helpers/gpo.js';

interface Imported {
  host: string;
  build: string;
  log: string;
  output: string;
  recording_id: string;
  rows: number;
}

let dir: string;
const fleet = () => join(dir, 'fleet');
const imported: Imported[] = [];
let odd: Imported;

/** strace -f -ttt -T of a real command, as a fleet machine would ship it. */
function straceLog(name: string, command: string[]): string {
  const log = join(dir, 'logs', `${name}.strace`);
  const r = spawnSync('strace', ['-f', '-ttt', '-T', '-o', log, ...command], { encoding: 'utf8' });
  // ls exits 2 for the missing folders some runs name; what matters is strace's log.
  if (r.error || r.signal || !existsSync(log) || statSync(log).size === 0) throw new Error(`strace ${command.join(' ')} failed: ${r.stderr}`);
  return log;
}

function importLog(log: string, host: string, build: string, layout = join(fleet(), '{host}', '{recording_id}.parquet')): Imported {
  const r = runGpo(['import', 'strace', log, '--host', host, '--build-id', build, '-o', layout, '--json']);
  if (r.code !== 0) throw new Error(`gpo import failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { output: string; recording_id: string; rows: number };
  return { host, build, log, ...out };
}

function query(sql: string, ...extra: string[]): Record<string, unknown>[] {
  const r = runGpo(['query', sql, fleet(), '--json', ...extra]);
  if (r.code !== 0) throw new Error(`gpo query failed: ${r.stderr}`);
  return r.stdout.trim() === ''
    ? []
    : r.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
}

beforeAll(() => {
  requireRoot(); // strace needs ptrace of its child; the CLI must be built
  dir = mkdtempSync(join(tmpdir(), 'gpo-fleet-'));
  mkdirSync(join(dir, 'logs'));
  // The same program (ls over the same folders) on two hosts; build b2 lists one folder more.
  const runs: [string, string, string[]][] = [
    ['rig-a', 'b1', ['ls', '-la', '/usr/lib']],
    ['rig-a', 'b1', ['ls', '-la', '/usr/lib', '/etc']],
    ['rig-b', 'b1', ['ls', '-la', '/usr/lib']],
    ['rig-b', 'b2', ['ls', '-la', '/usr/lib', '/nonexistent-a']],
    ['rig-b', 'b2', ['ls', '-la', '/etc', '/nonexistent-b', '/nonexistent-c']],
  ];
  runs.forEach(([host, build, command], i) => imported.push(importLog(straceLog(`run-${i}`, command), host, build)));
  // Another host's run that creates a memfd: a syscall training never saw, and a dangerous one.
  odd = importLog(
    straceLog('odd', ['/usr/bin/python3', '-c', "import os; os.memfd_create('x'); os.listdir('/usr/lib')"]),
    'rig-c',
    'b2',
    join(dir, 'odd', '{host}-{recording_id}.parquet'),
  );
});

describe('a fleet folder', () => {
  it('is laid out by the -o template, one file per recording', () => {
    for (const t of imported) expect(t.output).toBe(join(fleet(), t.host, `${t.recording_id}.parquet`));
    expect(new Set(imported.map((t) => t.recording_id)).size).toBe(imported.length);
  });

  it('trains from the folder, and scores it: one JSON line per trace, exit code the worst verdict', () => {
    const baseline = join(dir, 'baseline.json');
    const trained = runGpo(['train', fleet(), '-o', baseline, '--json']);
    expect(trained.code, trained.stderr).toBe(0);
    expect(JSON.parse(trained.stdout).traces).toBe(imported.length);

    const scored = runGpo(['score', fleet(), '-b', baseline, '--json']);
    const reports = scored.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(reports.map((r) => r.recording.id).sort()).toEqual(imported.map((t) => t.recording_id).sort());
    expect(reports.map((r) => r.recording.host).sort()).toEqual(imported.map((t) => t.host).sort());
    expect(scored.code).toBe(Math.max(...reports.map((r) => r.exit_code)));

    // The odd run among them: its memfd_create is a high anomaly, so the whole run exits 1.
    const withOdd = runGpo(['score', fleet(), odd.output, '-b', baseline, '--json']);
    const all = withOdd.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(all).toHaveLength(imported.length + 1);
    const oddReport = all.find((r) => r.recording.id === odd.recording_id);
    expect(
      oddReport.anomalies.some(
        (a: { kind: string; severity: string; summary: string }) => a.kind === 'novel_syscall' && a.severity === 'high' && a.summary.includes('memfd_create'),
      ),
    ).toBe(true);
    expect(withOdd.code).toBe(1);
    writeFileSync(join(dir, 'scores.jsonl'), withOdd.stdout);
  });

  it('merges baselines trained per host into one that scores the folder as the single-pass baseline does', () => {
    const shards = ['rig-a', 'rig-b'].map((host) => {
      const shard = join(dir, `shard-${host}.json`);
      const trained = runGpo(['train', join(fleet(), host), '-o', shard]);
      expect(trained.code, trained.stderr).toBe(0);
      return shard;
    });
    const merged = join(dir, 'merged.json');
    const run = runGpo(['train', '--merge', ...shards, '-o', merged]);
    expect(run.code, run.stderr).toBe(0);
    // What adds up is the same as one pass over the folder: the traces trained on, libraries, the process profile.
    const single = JSON.parse(readFileSync(join(dir, 'baseline.json'), 'utf8'));
    const both = JSON.parse(readFileSync(merged, 'utf8'));
    expect(both.trained_on.traces.map((t: { recording_id?: string; path: string }) => t.path).sort()).toEqual(
      single.trained_on.traces.map((t: { path: string }) => t.path).sort(),
    );
    expect(both.libraries).toEqual(single.libraries);
    expect(both.process).toEqual(single.process);
    // Scored with either, every trace (the odd one included) gets the same verdict and the same anomalies
    // (kind, thread, time); only novel_sequence severities may differ (thresholds calibrated per shard).
    const scoreWith = (baseline: string) =>
      runGpo(['score', fleet(), odd.output, '-b', baseline, '--json', '--fail-on', 'high'])
        .stdout.trim()
        .split('\n')
        .map((line) => JSON.parse(line));
    const shape = (
      reports: { recording: { id: string }; verdict: string; anomalies: { kind: string; severity: string; tid: number; first_ts_ns: string }[] }[],
    ) =>
      reports.map((r) => ({
        id: r.recording.id,
        verdict: r.verdict,
        anomalies: r.anomalies.map((a) => `${a.kind} ${a.tid} ${a.first_ts_ns} ${a.kind === 'novel_sequence' ? '' : a.severity}`),
      }));
    expect(shape(scoreWith(merged))).toEqual(shape(scoreWith(join(dir, 'baseline.json'))));
  });

  it('answers SQL questions with the answers the logs give', () => {
    // Recordings per host and build.
    expect(query('SELECT host, build_id, count(*) AS n FROM recordings GROUP BY ALL ORDER BY ALL')).toEqual([
      { host: 'rig-a', build_id: 'b1', n: 2 },
      { host: 'rig-b', build_id: 'b1', n: 1 },
      { host: 'rig-b', build_id: 'b2', n: 2 },
    ]);
    // Syscalls per build: what each import wrote.
    const perBuild = (build: string) => imported.filter((t) => t.build === build).reduce((s, t) => s + t.rows, 0);
    expect(query("SELECT build_id, count(*) AS calls FROM events WHERE kind = 'syscall' GROUP BY ALL ORDER BY ALL")).toEqual([
      { build_id: 'b1', calls: perBuild('b1') },
      { build_id: 'b2', calls: perBuild('b2') },
    ]);
    // Failed opens per recording: the logs' openat lines that end in -1 ENOENT.
    const failedOpens = (log: string) =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => /\bopenat\(/.test(l) && /= -1 ENOENT /.test(l)).length;
    const rows = query("SELECT recording_id, count(*) FILTER (WHERE ret = -2) AS enoent FROM events WHERE syscall = 'openat' GROUP BY ALL");
    expect(Object.fromEntries(rows.map((r) => [r.recording_id, r.enoent]))).toEqual(
      Object.fromEntries(imported.map((t) => [t.recording_id, failedOpens(t.log)])),
    );
    // Wall-clock time: each recording's first event is its log's first -ttt timestamp.
    const first = query('SELECT recording_id, min(wall_time) AS first FROM events GROUP BY ALL');
    for (const t of imported) {
      const stamp = readFileSync(t.log, 'utf8')
        .split('\n')[0]!
        .split(/\s+/)
        .find((word) => /^\d+\.\d+$/.test(word))!;
      const expected = new Date(Number(stamp.split('.')[0]) * 1000).toISOString().replace('T', ' ').slice(0, 19);
      expect(String(first.find((r) => r.recording_id === t.recording_id)!.first).slice(0, 19)).toBe(expected);
    }
    // Anomalies from the score outputs, joined to the recordings: which hosts had a high anomaly.
    const high = query("SELECT DISTINCT a.host, a.kind FROM anomalies a WHERE a.severity = 'high' ORDER BY ALL", '--scores', join(dir, 'scores.jsonl'));
    expect(high).toContainEqual({ host: 'rig-c', kind: 'novel_syscall' });
    expect(high.filter((r) => r.host !== 'rig-c')).toEqual([]);
  });

  it('escapes traced strings: CSV quoted, terminal escaped', () => {
    const csv = runGpo(['query', "SELECT 'a,\"b' AS s, 1 AS n", '--csv']);
    expect(csv.stdout).toBe('"s","n"\r\n"a,""b",1\r\n');
    const table = runGpo(['query', `SELECT host || chr(27) || '[2J' || chr(8238) AS h FROM recordings LIMIT 1`, fleet()]);
    expect(table.stdout).toContain('\\x1b[2J\\u202e');
    expect(table.stdout).not.toContain('\x1b');
    const json = runGpo(['query', `SELECT chr(8238) || chr(133) AS s`, '--json']);
    expect(json.stdout).toBe('{"s":"\\u202e\\u0085"}\n');
  });

  it('fails with one line for bad SQL or a file that is not a trace', () => {
    const bad = runGpo(['query', 'SELEC 1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^gpo: query: .*Parser Error: syntax error.*\n$/);
    const notTrace = join(dir, 'logs', 'x.parquet');
    writeFileSync(notTrace, 'not parquet');
    const r = runGpo(['query', 'SELECT 1', notTrace]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
