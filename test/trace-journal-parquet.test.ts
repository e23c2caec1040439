// The addon's own encoding of a journal (native/journal-parquet.cc: the journal read and its extras expanded
// in C++) against the JavaScript pipeline it replaces (JournalTail + expandRecordingBatch + ParquetEncoder):
// the same Parquet bytes for journals of real recordings (root, real kernel) — execs with argv, bytes that
// are not UTF-8 in comm, path and argv, ptrace and process_vm_readv acts, with and without --durations,
// several row groups — whole and cut in the middle of a message; and a clear error for an extra that
// ExtraJson does not write.
import { spawnSync } from 'node:child_process';
import { closeSync, linkSync, mkdtempSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAddon } from '../src/native/addon.js';
import { reservedMetadata } from '../src/trace/footer-metadata.js';
import { encodeJournal } from '../src/trace/journal-parquet.js';
import { JournalTail } from '../src/trace/journal-tail.js';
import { parquetFileSpec } from '../src/trace/parquet-encoder.js';
import { openTrace } from '../src/trace/reader.js';
import { ROW_KINDS } from '../src/trace/schema.js';
import { streamParquet, TraceStreamWriter, writerProperties } from '../src/trace/writer.js';
import { fixture, requireRoot, startGpo } from './helpers/gpo.js';
import { testMetadata } from './helpers/metadata.js';

let dir: string;
beforeAll(() => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'gpo-journal-parquet-'));
});

const properties = () => writerProperties('test', reservedMetadata(JSON.stringify(testMetadata())));

/** The Parquet file of the journal's first `upTo` bytes, by the JavaScript pipeline. */
async function encodedInJs(journal: string, upTo: number): Promise<Buffer> {
  const fd = openSync(journal, 'r');
  const tail = new JournalTail(fd);
  const parts: Uint8Array[] = [];
  try {
    await streamParquet(tail.readAll(upTo), properties(), (bytes) => parts.push(Uint8Array.from(bytes)));
  } finally {
    closeSync(fd);
  }
  return Buffer.concat(parts);
}

/** The same by the addon (as the segment worker and the main thread run it). */
function encodedNatively(journal: string, upTo: number): { bytes: Buffer; rows: number } {
  const fd = openSync(journal, 'r');
  const out = join(dir, `native-${Math.random().toString(36).slice(2)}.parquet`);
  const parquetFd = openSync(out, 'w');
  try {
    const { rows, bytes } = encodeJournal({ journalFd: fd, parquetFd, file: parquetFileSpec(properties()) }, upTo);
    expect(statSync(out).size).toBe(bytes);
    return { bytes: readFileSync(out), rows };
  } finally {
    closeSync(fd);
    closeSync(parquetFd);
  }
}

// A target that execs a program through a link whose name is not UTF-8 (comm and path), with argv of
// hostile bytes and JSON's special characters, acts on a child of its own with ptrace and
// process_vm_readv, then makes enough syscalls for two row groups.
const HOSTILE = `
d=$(mktemp -d)
name=$(printf 'c\\377\\\\x41\\tz')
ln -s /bin/true "$d/$name"
"$d/$name" "$(printf 'a\\377b')" '\\x41' "$(printf 'q"\\n\\\\u0001\\001\\037')" 'ünï ✓ 日本' ''
${fixture('sleeper')} 10 >/dev/null & p=$!
sleep 0.3
addr=$(grep -m1 ' rw-p ' /proc/$p/maps | cut -d- -f1)
${fixture('tamper')} ptrace-attach $p $addr >/dev/null
${fixture('tamper')} vm-read $p $addr >/dev/null
kill $p; wait
${fixture('storm')} 300000
rm -r "$d"
`;

/** Records the script and returns its journal: linked while gpo writes it, so it outlives gpo's removal. */
async function recordedJournal(name: string, extra: string[]): Promise<string> {
  const out = join(dir, `${name}.parquet`);
  const journal = join(dir, `${name}.journal.arrows`);
  const gpo = startGpo(['record', '-q', '-o', out, ...extra, '--', 'sh', '-c', `sleep 0.5\n${HOSTILE}`]);
  for (let waited = 0; ; waited += 10) {
    try {
      linkSync(`${out}.arrows`, journal);
      break;
    } catch {
      if (waited > 20_000) throw new Error('the journal never appeared');
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const done = await gpo.exited;
  if (done.code !== 0) throw new Error(`gpo record failed: ${done.stderr}`);
  return journal;
}

describe.each([
  ['without durations', []],
  ['with durations', ['--durations']],
])('a real recording %s', (name, extra) => {
  let journal: string;
  beforeAll(async () => {
    journal = await recordedJournal(name.replace(/ /g, '-'), extra);
  }, 60_000);

  it('is encoded to the same bytes by the addon as by the JavaScript pipeline', async () => {
    const size = statSync(journal).size;
    const native = encodedNatively(journal, size);
    const js = await encodedInJs(journal, size);
    expect(native.bytes.equals(js)).toBe(true);
    // What was compared holds what this test is about.
    const out = join(dir, `${name.replace(/ /g, '-')}-check.parquet`);
    writeFileSync(out, native.bytes);
    const trace = await openTrace(out);
    expect(trace.numRows).toBe(native.rows);
    expect(native.rows).toBeGreaterThan(262_144);
    const rows: Record<string, unknown>[] = [];
    for await (const batch of trace.batches({ columns: ['kind', 'path', 'argv', 'size'] }))
      for (const row of batch.toArray()) if (row.kind !== 'syscall') rows.push(row.toJSON());
    const exec = rows.find((r) => r.kind === 'exec' && String(r.path).endsWith('c\\xff\\x5cx41\tz'));
    expect(exec, 'the exec through the link').toBeDefined();
    expect([...(exec!.argv as Iterable<string>)].slice(1)).toEqual(['a\\xffb', '\\x5cx41', 'q"\n\\u0001\u0001\u001f', 'ünï ✓ 日本', '']);
    expect(rows.some((r) => r.kind === 'ptrace')).toBe(true);
    expect(rows.some((r) => r.kind === 'vm_read' && r.size === 8n)).toBe(true);
    expect(rows.some((r) => r.kind === 'exit')).toBe(true);
  });

  it('is encoded to the same bytes when cut in the middle of a message', async () => {
    const size = statSync(journal).size;
    for (const cut of [Math.floor(size / 3), Math.floor(size / 2) + 5, size - 9]) {
      const native = encodedNatively(journal, cut);
      expect(native.bytes.equals(await encodedInJs(journal, cut))).toBe(true);
      expect(native.rows).toBeGreaterThan(0);
    }
  });
});

describe('the segment worker', () => {
  // gpo terminates the worker when a recording fails (a full disk): a termination that lands while the addon
  // encodes made its result unreturnable, and node-addon-api's failed throw aborted the whole process.
  it('can be terminated at any moment of its encoding without taking the process down', async () => {
    const journal = await recordedJournal('terminated', []);
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify(parquetFileSpec(properties())));
    const script = `
      import { Worker } from 'node:worker_threads';
      import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
      const [worker, journal, spec, out] = process.argv.slice(2);
      const file = JSON.parse(readFileSync(spec, 'utf8'));
      for (let i = 0; i < 30; i++) {
        const journalFd = openSync(journal, 'r');
        const parquetFd = openSync(out, 'w');
        const w = new Worker(new URL(worker), { workerData: { journalFd, parquetFd, file } });
        w.postMessage({ upTo: statSync(journal).size });
        // Moments spread over the worker's start and its encoding.
        await new Promise((r) => setTimeout(r, 20 + ((i * 7) % 60)));
        await w.terminate();
        closeSync(journalFd);
        closeSync(parquetFd);
      }
      console.log('survived');`;
    const worker = new URL('../dist/src/trace/parquet-segment-worker.js', import.meta.url).href;
    const runner = join(dir, 'terminate-workers.mjs');
    writeFileSync(runner, script);
    const r = spawnSync(process.execPath, [runner, worker, journal, spec, join(dir, 'terminated.parquet')], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr, 'the process died').toBe('');
    expect([r.status, r.signal, r.stdout.trim()]).toEqual([0, null, 'survived']);
  }, 180_000);

  it('loads no Arrow library: its built module graph imports the addon and node only', () => {
    const seen = new Set<string>();
    const external = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g))
        if (spec!.startsWith('.')) visit(join(dirname(file), spec!));
        else external.add(spec!);
    };
    visit(fileURLToPath(new URL('../dist/src/trace/parquet-segment-worker.js', import.meta.url)));
    expect(seen.size).toBeGreaterThan(2);
    expect([...external].filter((m) => !m.startsWith('node:'))).toEqual([]);
  });
});

describe('an extra that ExtraJson does not write', () => {
  it('is an error that says what is wrong, not a guess', () => {
    const path = join(dir, 'bad-extra.arrows');
    const journal = new TraceStreamWriter(path, testMetadata());
    const exit = ROW_KINDS.indexOf('exit');
    loadAddon().writeRecordingBatch(journal.fd, [{ ts: 1n, pid: 5, tid: 5, comm: 'x', kind: exit, nr: 0, ret: 0n, fields: { uid: 7 } }], false);
    closeSync(journal.fd);
    const bytes = readFileSync(path);
    const at = bytes.indexOf('"uid":7');
    expect(at).toBeGreaterThan(0);
    for (const [bad, error] of [
      ['"uiX":7', /unknown field "uiX"/],
      ['"uid":7.', /uid is not an int32 number/],
    ] as const) {
      bytes.write(bad, at, 'latin1');
      writeFileSync(path, bytes);
      expect(() => encodedNatively(path, bytes.length)).toThrow(error);
    }
  });
});
