// Recording identity: a recording id and the host in every trace's metadata and JSON output, derived ids
// for traces that predate them, and -o templates for fleet layouts (created without following symlinks).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTrace } from '../../src/trace/reader.js';
import { importToTrace } from '../../src/import/to-trace.js';
import { uuidFromSha256 } from '../../src/trace/recording.js';
import { expandOutputTemplate, safeComponent } from '../../src/trace/output-path.js';
import { requireRoot, ROOT, runGpo } from '../helpers/gpo.js';
import { normalTrace } from '../score/trace-helpers.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const STRACE = join(ROOT, 'test/fixtures/datasets/strace/ls.strace');
let dir: string;

beforeAll(() => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'gpo-identity-'));
});

function machineId(): string | undefined {
  try {
    return readFileSync('/etc/machine-id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

describe('gpo record -o TEMPLATE', () => {
  it('writes each recording under {host}/{date}/{recording_id}.parquet with that id and the host in its metadata', async () => {
    const template = join(dir, 'fleet', '{host}', '{date}', '{recording_id}-{comm}.parquet');
    for (let i = 0; i < 2; i++) {
      const r = runGpo(['record', '-q', '-o', template, '--', '/bin/true']);
      expect(r.code, r.stderr).toBe(0);
    }
    const day = readdirSync(join(dir, 'fleet', safeComponent(hostname())));
    expect(day).toHaveLength(1);
    expect(day[0]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const files = readdirSync(join(dir, 'fleet', safeComponent(hostname()), day[0]!)).sort();
    expect(files).toHaveLength(2);
    for (const file of files) {
      const trace = await openTrace(join(dir, 'fleet', safeComponent(hostname()), day[0]!, file));
      expect(trace.metadata.recording_id).toMatch(UUID_V4);
      expect(file).toBe(`${trace.metadata.recording_id}-true.parquet`);
      expect(trace.metadata.host.hostname).toBe(hostname());
      if (machineId() !== undefined) expect(trace.metadata.host.machine_id).toBe(machineId());
    }
    expect(files[0]!.slice(0, 36)).not.toBe(files[1]!.slice(0, 36));
  });

  it('refuses {pid} for a command it starts, and unknown fields, with one line and exit 2', () => {
    const r = runGpo(['record', '-q', '-o', join(dir, '{pid}.parquet'), '--', '/bin/true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^gpo: .*\{pid\} needs --pid.*\n$/);
    const unknown = runGpo(['record', '-q', '-o', join(dir, '{user}.parquet'), '--', '/bin/true']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^gpo: .*unknown field \{user\}.*\n$/);
  });

  it('never writes through a symlink planted where a templated folder goes', () => {
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    mkdirSync(join(dir, 'planted'));
    symlinkSync(elsewhere, join(dir, 'planted', safeComponent(hostname())));
    const r = runGpo(['record', '-q', '-o', join(dir, 'planted', '{host}', '{recording_id}.parquet'), '--', '/bin/true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a symbolic link: refusing to write through it\n$/);
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});

describe('template values from the traced world', () => {
  it('become one safe path component each', () => {
    expect(safeComponent('../../etc')).toBe('.._.._etc');
    expect(safeComponent('..')).toBe('__');
    expect(safeComponent('a/b\x1b[31m\u202e')).toBe('a_b__31m_');
    expect(safeComponent('')).toBe('_');
    expect(expandOutputTemplate('out/{comm}/{pid}.parquet', { comm: '../x', pid: 12 })).toBe('out/.._x/12.parquet');
  });
});

describe('recording in JSON outputs', () => {
  it("gpo info --json of a trace without an id derives a stable one from the file's sha256, and says so", async () => {
    // Metadata as gpo wrote it before recording ids (the writer's own output, no recording_id key).
    const old = await normalTrace(join(dir, 'older.parquet'));
    expect((await openTrace(old)).metadata.recording_id).toBeUndefined();
    const first = JSON.parse(runGpo(['info', old, '--json']).stdout);
    const expected = uuidFromSha256(createHash('sha256').update(readFileSync(old)).digest('hex'));
    expect(first.recording).toMatchObject({ id: expected, id_from: 'file-sha256' });
    expect(JSON.parse(runGpo(['info', old, '--json']).stdout).recording.id).toBe(expected);
  });

  it('gpo score --json names the recording, and every anomaly carries its id', () => {
    const trace = join(ROOT, 'recordings', 'ptrace-trainer.parquet');
    const r = runGpo(['score', trace, '-b', join(ROOT, 'recordings', 'baseline.json'), '--json']);
    const report = JSON.parse(r.stdout);
    expect(report.recording.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(report.anomalies.length).toBeGreaterThan(0);
    for (const a of report.anomalies) expect(a.recording_id).toBe(report.recording.id);
  });

  it('gpo import stores --host and --build-id, and derives the id from the inputs and labels', async () => {
    const a = join(dir, 'import-a.parquet');
    const b = join(dir, 'import-b.parquet');
    const c = join(dir, 'import-c.parquet');
    expect(runGpo(['import', 'strace', STRACE, '--host', 'rig-1', '--build-id', 'ab12', '-o', a]).code).toBe(0);
    expect(runGpo(['import', 'strace', STRACE, '--host', 'rig-1', '--build-id', 'ab12', '-o', b]).code).toBe(0);
    expect(runGpo(['import', 'strace', STRACE, '--host', 'rig-2', '--build-id', 'ab12', '-o', c]).code).toBe(0);
    const [ta, tb, tc] = await Promise.all([a, b, c].map((p) => openTrace(p)));
    expect(ta!.metadata.host.hostname).toBe('rig-1');
    expect(ta!.metadata.target.build_id).toBe('ab12');
    expect(ta!.metadata.recording_id).toBe(tb!.metadata.recording_id);
    expect(tc!.metadata.recording_id).not.toBe(ta!.metadata.recording_id);
    expect(readFileSync(a)).toEqual(readFileSync(b));
  });

  it('gives two input files with the same calls two recording ids', async () => {
    const one = join(dir, 'same-1.strace');
    const two = join(dir, 'same-2.strace');
    writeFileSync(one, '5 1.0 getpid() = 5\n');
    writeFileSync(two, '5 1.0 getpid() = 5\n');
    const a = await importToTrace('strace', [one], join(dir, 'same-1.parquet'));
    const b = await importToTrace('strace', [two], join(dir, 'same-2.parquet'));
    expect(a.recording_id).not.toBe(b.recording_id);
  });

  it('gpo import -o expands {host} and {recording_id}', async () => {
    const r = runGpo(['import', 'strace', STRACE, '--host', 'rig/../3', '-o', join(dir, 'imp', '{host}', '{recording_id}.parquet'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.output).toBe(join(dir, 'imp', 'rig_.._3', `${out.recording_id}.parquet`));
    expect(existsSync(out.output)).toBe(true);
  });
});
