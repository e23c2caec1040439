// Strings from the traced world (issue 13, "Strings"): comm, paths, argv are attacker-chosen bytes. They
// must reach the stream and the Parquet file as valid UTF-8 (Parquet refuses anything else), with the
// original bytes recoverable through the documented escaping (src/trace/bytes.ts, README "Trace files").
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAddon, type NativeTestRow } from '../../src/native/addon.js';
import { decodeBytes, encodeBytes } from '../../src/trace/bytes.js';
import { ROW_KINDS } from '../../src/trace/schema.js';
import { convertIpcToParquet, TraceStreamWriter } from '../../src/trace/writer.js';
import { readRows, requireRoot, runGpo } from '../helpers/gpo.js';
import { testMetadata } from '../helpers/metadata.js';

const code = (k: string) => ROW_KINDS.indexOf(k as never);
const strict = new TextDecoder('utf-8', { fatal: true });
const tmp = () => mkdtempSync(join(tmpdir(), 'gpo-adv-str-'));

const metadata = () => testMetadata();

/** Byte strings a hostile process can give the kernel, and the plain ones that must stay as they are. */
const HOSTILE: Buffer[] = [
  Buffer.from('game\xff', 'latin1'),
  Buffer.from('игровойсервер', 'utf8').subarray(0, 15), // cut inside a character, as comm is
  Buffer.from([0xed, 0xa0, 0x80]), // a UTF-16 surrogate encoded as UTF-8: not UTF-8
  Buffer.from([0xc0, 0xaf, 0xf5, 0x80, 0xf4, 0x90, 0x80, 0x80]), // overlong, out of range
  Buffer.from('C:\\x41 and \\xff written as text, \\\\x41, \\x4, \\', 'utf8'), // text that looks like the escape
  Buffer.from('\\x', 'utf8'),
];

describe('the escaping (src/trace/bytes.ts)', () => {
  it('gives valid UTF-8 and the same bytes back, for hostile and random byte strings', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = [0x5c, 0x78, 0x41, 0x66, 0x30, 0xff, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x8e, 0xae, 0x80, 0x0a];
    const samples = [...HOSTILE];
    for (let i = 0; i < 5000; i++)
      samples.push(Buffer.from(Array.from({ length: Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]!)));
    for (const bytes of samples) {
      const text = encodeBytes(bytes);
      expect(() => strict.decode(Buffer.from(text, 'utf8'))).not.toThrow();
      expect(decodeBytes(text).equals(bytes), `${bytes.toString('hex')} -> ${text}`).toBe(true);
    }
  });

  it('leaves valid UTF-8 without escape-like text unchanged', () => {
    for (const s of ['game', 'игровойсервер', 'C:\\Games\\x.exe', 'a\\b', '🎮 \u202e', '/usr/lib/libc.so.6'])
      expect(encodeBytes(Buffer.from(s, 'utf8'))).toBe(s);
  });
});

describe('recording batches with hostile strings, as the addon encodes them', () => {
  it('convert to Parquet, and every string gives its bytes back', async () => {
    const addon = loadAddon();
    const dir = tmp();
    const ipc = join(dir, 'hostile.parquet.arrows');
    const writer = new TraceStreamWriter(ipc, metadata());
    const rows: NativeTestRow[] = HOSTILE.map((bytes, i) => ({
      ts: BigInt(i + 1),
      pid: 1,
      tid: 1,
      comm: bytes,
      kind: code('exec'),
      nr: -1,
      ret: 0n,
      fields: { path: bytes, exe: bytes, argv: [bytes, Buffer.from('plain')] },
    }));
    writer.appended(rows.length, addon.writeRecordingBatch(writer.fd, rows, false));
    writer.close();
    const parquet = join(dir, 'hostile.parquet');
    await convertIpcToParquet(ipc, parquet, metadata());
    const back = await readRows(parquet);
    expect(back).toHaveLength(HOSTILE.length);
    back.forEach((row, i) => {
      for (const text of [row.comm, row.path!, row.argv![0]!]) expect(decodeBytes(text).equals(HOSTILE[i]!), `${text}`).toBe(true);
      expect(row.argv![1]).toBe('plain');
    });
  });
});

describe('gpo record of a process with hostile names (real kernel)', () => {
  beforeAll(() => requireRoot());

  it('records prctl(PR_SET_NAME, "game\\xff") and a Cyrillic program name the kernel cut, losslessly', async () => {
    const dir = tmp();
    const cyrillic = 'игровойсервер'; // comm keeps 15 bytes: 7 letters, then the first byte of 'с'
    const program = join(dir, cyrillic);
    copyFileSync('/bin/true', program);
    const script = [
      'import ctypes, os',
      'ctypes.CDLL(None).prctl(15, b"game\\xff", 0, 0, 0)',
      `os.execv(${JSON.stringify(program)}.encode(), [b"arg\\xff", b"C:\\\\x41"])`,
    ].join('\n');
    const out = join(dir, 'names.parquet');
    const r = runGpo(['record', '-q', '-o', out, '--', 'python3', '-c', script]);
    expect(r.code, r.stderr).toBe(0);
    const rows = await readRows(out);
    const renamed = rows.find((x) => x.kind === 'rename' && x.comm.startsWith('game'));
    expect(renamed, 'no rename row').toBeDefined();
    expect(decodeBytes(renamed!.comm).equals(Buffer.from('game\xff', 'latin1'))).toBe(true);
    const exec = rows.find((x) => x.kind === 'exec' && x.path === program);
    expect(exec, 'no exec row of the Cyrillic program').toBeDefined();
    expect(exec!.argv!.map((a) => decodeBytes(a))).toEqual([Buffer.from('arg\xff', 'latin1'), Buffer.from('C:\\x41')]);
    expect(decodeBytes(exec!.comm).equals(Buffer.from(cyrillic).subarray(0, 15))).toBe(true);
  });
});
