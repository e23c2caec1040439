// The recorder's record decoder (native/record-decoder.cc) on records made byte by byte from bpf/gpo.h's
// layout (test/native/records.ts), through the addon's decodeRecords: every record type and row kind, records
// too short or longer than their struct, strings that are not UTF-8, have no NUL or fill their field, and
// records the decoder does not know. No BPF, no root.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAddon, type NativeDecodeOptions, type NativeDecodedRow } from '../../src/native/addon.js';
import { decodeBytes } from '../../src/trace/bytes.js';
import { ROW_KINDS } from '../../src/trace/schema.js';
import { TraceStreamWriter } from '../../src/trace/writer.js';
import { readRows } from '../helpers/gpo.js';
import { testMetadata } from '../helpers/metadata.js';
import {
  actRecord,
  ARGV_LEN,
  COMM_LEN,
  execRecord,
  exitRecord,
  forkRecord,
  NAME_LEN,
  NAME_PARTS,
  PATH_LEN,
  REC,
  renameRecord,
  SIZE,
  syscallBatch,
  type Header,
} from './records.js';

const addon = loadAddon();
const code = (k: (typeof ROW_KINDS)[number]) => ROW_KINDS.indexOf(k);
const decode = (records: Uint8Array[], options?: NativeDecodeOptions) => addon.decodeRecords(records, options);
const kindOf = (row: NativeDecodedRow) => ROW_KINDS[row.kind];
const text = (b: Buffer | undefined) => b?.toString('latin1');
const H = (tgid: number, tid: number, ts: bigint): Header => ({ tgid, tid, ts });

/** Names the threads no record named, and remembers who asked. */
function threadNames(names: Record<number, string> = {}) {
  const asked: [number, number][] = [];
  const threadName = (tgid: number, tid: number) => {
    asked.push([tgid, tid]);
    return names[tid] ?? `proc-${tid}`;
  };
  return { asked, threadName };
}

describe('record layout', () => {
  it("the hand-made records have the sizes of the addon's structs", () => {
    expect(addon.layout).toMatchObject({
      batchHeader: SIZE.batchHeader,
      syscallRecord: SIZE.syscall,
      syscallTimedRecord: SIZE.syscallTimed,
      eventHeader: SIZE.eventHeader,
      forkEvent: SIZE.fork,
      execEvent: SIZE.exec,
      exitEvent: SIZE.exit,
      renameEvent: SIZE.rename,
      actEvent: SIZE.act,
    });
  });
});

describe('syscall batches', () => {
  it('become syscall rows: time on the base, number from the top 16 bits, threads named once through the callback', () => {
    const names = threadNames({ 11: 'render' });
    const maxTs = (1n << 48n) - 1n;
    const { rows, totals } = decode(
      [
        syscallBatch([
          { ts: 5n, nr: 0, ret: 3n, tgid: 10, tid: 10 },
          { ts: 7n, nr: 257, ret: -2n, tgid: 10, tid: 11 },
          { ts: maxTs, nr: 511, ret: -(2n ** 63n), tgid: 10, tid: 10 },
        ]),
      ],
      { baseNs: 1_000_000n, threadName: names.threadName },
    );
    expect(rows.map((r) => [r.ts, r.pid, r.tid, kindOf(r), r.nr, r.ret, text(r.comm)])).toEqual([
      [1_000_005n, 10, 10, 'syscall', 0, 3n, 'proc-10'],
      [1_000_007n, 10, 11, 'syscall', 257, -2n, 'render'],
      [1_000_000n + maxTs, 10, 10, 'syscall', 511, -(2n ** 63n), 'proc-10'],
    ]);
    expect(rows.every((r) => r.fields === undefined && r.duration === undefined)).toBe(true);
    expect(names.asked).toEqual([
      [10, 10],
      [10, 11],
    ]);
    expect(totals).toEqual({ rows: 3, syscallRows: 3, lifecycleRows: 0, batchesRead: 1, recordsRejected: 0 });
  });

  it('carry durations when recorded (gpo_syscall_timed), and none are read when not', () => {
    const records = [
      { ts: 1n, nr: 1, ret: 0n, tgid: 1, tid: 1, duration: 1234n },
      { ts: 2n, nr: 2, ret: 0n, tgid: 1, tid: 1, duration: 99n },
    ];
    const timed = decode([syscallBatch(records, SIZE.syscallTimed)], { durations: true });
    expect(timed.rows.map((r) => [r.nr, r.duration])).toEqual([
      [1, 1234n],
      [2, 99n],
    ]);
    const untimed = decode([syscallBatch(records, SIZE.syscallTimed)]);
    expect(untimed.rows.map((r) => [r.nr, r.duration])).toEqual([
      [1, undefined],
      [2, undefined],
    ]);
    expect(untimed.totals.batchesRead).toBe(1);
  });

  it('of zero records count as a batch read and add no row', () => {
    const { rows, totals } = decode([syscallBatch([])]);
    expect(rows).toEqual([]);
    expect(totals).toMatchObject({ batchesRead: 1, rows: 0, recordsRejected: 0 });
  });
});

describe('lifecycle records', () => {
  it('fork: a new process or a new thread of the parent, the child named by the record', () => {
    const names = threadNames();
    const { rows, totals } = decode(
      [
        forkRecord(H(10, 10, 100n), { tgid: 20, tid: 20, comm: 'child' }),
        forkRecord(H(10, 10, 101n), { tgid: 10, tid: 12, comm: 'worker' }),
        syscallBatch([
          { ts: 102n, nr: 1, ret: 0n, tgid: 20, tid: 20 },
          { ts: 103n, nr: 1, ret: 0n, tgid: 10, tid: 12 },
        ]),
      ],
      { threadName: names.threadName },
    );
    expect(rows.map((r) => [kindOf(r), r.pid, r.tid, r.nr, r.ret, text(r.comm), r.fields])).toEqual([
      ['fork', 10, 10, -1, 0n, 'proc-10', { child_pid: 20, child_tid: 20 }],
      ['thread', 10, 10, -1, 0n, 'proc-10', { child_pid: 10, child_tid: 12 }],
      ['syscall', 20, 20, 1, 0n, 'child', undefined],
      ['syscall', 10, 12, 1, 0n, 'worker', undefined],
    ]);
    expect(names.asked).toEqual([[10, 10]]);
    expect(totals).toMatchObject({ rows: 4, lifecycleRows: 2, syscallRows: 2 });
  });

  it('exec: path, argv split at NULs (empty arguments kept), flags, file identity; the caller thread forgotten', () => {
    const names = threadNames();
    const { rows } = decode(
      [
        execRecord(H(30, 30, 5n), {
          oldTid: 31,
          comm: 'game',
          path: '/opt/game/bin',
          argv: 'game\0--fast\0\0x\0',
          nlink: 0,
          dev: 2049n,
          inode: 2n ** 40n,
        }),
        syscallBatch([
          { ts: 6n, nr: 1, ret: 0n, tgid: 30, tid: 30 },
          { ts: 7n, nr: 1, ret: 0n, tgid: 30, tid: 31 },
        ]),
      ],
      { threadName: names.threadName },
    );
    expect(kindOf(rows[0]!)).toBe('exec');
    expect(text(rows[0]!.comm)).toBe('game');
    const f = rows[0]!.fields!;
    expect(text(f.path)).toBe('/opt/game/bin');
    expect(f.argv!.map(text)).toEqual(['game', '--fast', '', 'x']);
    expect([f.truncated, f.request, f.dev, f.inode]).toEqual([0, 0n, 2049n, 2n ** 40n]);
    // tid 30 was named by the exec; tid 31 (the thread that called execve) is gone and asked for again.
    expect(rows.slice(1).map((r) => text(r.comm))).toEqual(['game', 'proc-31']);
    expect(names.asked).toEqual([[30, 31]]);
  });

  it('exec: argv cut without its last NUL, argv_len beyond the field, truncation flags', () => {
    const cut = decode([execRecord(H(1, 1, 1n), { oldTid: 1, comm: 'a', path: '/a', argv: 'one\0tw', flags: 2 })]);
    expect(cut.rows[0]!.fields!.argv!.map(text)).toEqual(['one', 'tw']);
    expect(cut.rows[0]!.fields!.truncated).toBe(1);
    const full = Buffer.alloc(ARGV_LEN, 'y');
    full[9] = 0;
    const beyond = decode([execRecord(H(1, 1, 1n), { oldTid: 1, comm: 'a', path: '/a', argv: full, argvLen: 5000 })]);
    expect(beyond.rows[0]!.fields!.argv!.map((a) => a.length)).toEqual([9, ARGV_LEN - 10]);
    const none = decode([execRecord(H(1, 1, 1n), { oldTid: 1, comm: 'a', path: '/a', argv: 'ignored\0', argvLen: 0 })]);
    expect(none.rows[0]!.fields!.argv).toEqual([]);
  });

  it('exit: code and group_dead, named by the record; the thread is forgotten after it', () => {
    const names = threadNames();
    const { rows, totals } = decode(
      [
        renameRecord(H(40, 41, 1n), 'before'),
        exitRecord(H(40, 41, 2n), { exitCode: -9, groupDead: 1, comm: 'dying' }),
        syscallBatch([{ ts: 3n, nr: 1, ret: 0n, tgid: 40, tid: 41 }]),
      ],
      { threadName: names.threadName },
    );
    expect(rows.map((r) => [kindOf(r), text(r.comm), r.fields])).toEqual([
      ['rename', 'before', {}],
      ['exit', 'dying', { exit_code: -9, group_dead: 1 }],
      ['syscall', 'proc-41', undefined],
    ]);
    expect(totals).toMatchObject({ lifecycleRows: 2, syscallRows: 1 });
  });

  it("rename: the thread's rows after it carry the new name", () => {
    const { rows } = decode([renameRecord(H(50, 50, 1n), 'new-name'), syscallBatch([{ ts: 2n, nr: 1, ret: 0n, tgid: 50, tid: 50 }])]);
    expect(rows.map((r) => [kindOf(r), r.nr, text(r.comm)])).toEqual([
      ['rename', -1, 'new-name'],
      ['syscall', 1, 'new-name'],
    ]);
  });
});

describe('act records', () => {
  const actor = (kind: (typeof ROW_KINDS)[number]) =>
    actRecord(H(60, 61, 9n), {
      kind: code(kind),
      uid: 1000,
      targetTgid: 70,
      targetTid: 71,
      ret: -1n,
      request: 16n,
      addr: 0x7fff0000n,
      size: 4096n,
      nr: 101,
      comm: 'cheat',
      nameParts: ['mem', '70', 'proc'],
      exeParts: ['cheat', 'bin', 'tmp'],
    });

  it('an actor row (ptrace to device_open): outcome, actor executable, target, path from its components; nr only on syscall rows', () => {
    const { rows, totals } = decode([actor('ptrace')]);
    expect(rows).toHaveLength(1);
    const r = rows[0]!;
    expect([kindOf(r), r.pid, r.tid, r.ts, r.nr, r.ret, text(r.comm)]).toEqual(['ptrace', 60, 61, 9n, -1, -1n, 'cheat']);
    const { exe, path, ...numbers } = r.fields!;
    expect(numbers).toEqual({ uid: 1000, target_pid: 70, target_tid: 71, truncated: 0, request: 16n, addr: 0x7fff0000n, size: 4096n });
    expect([text(exe), text(path)]).toEqual(['/tmp/bin/cheat', '/proc/70/mem']);
    expect(totals).toMatchObject({ rows: 1, lifecycleRows: 1, recordsRejected: 0 });
  });

  it("every act kind decodes to its own kind; only actor kinds name the executable (loader_env: the program exec'd)", () => {
    const actKinds = ROW_KINDS.slice(code('ptrace'), addon.rowKinds.length);
    const { rows } = decode(actKinds.map((k) => actor(k)));
    expect(rows.map(kindOf)).toEqual(actKinds);
    for (const r of rows) {
      const namesProgram = r.kind <= code('device_open') || kindOf(r) === 'loader_env';
      expect(r.fields!.exe === undefined, kindOf(r)).toBe(!namesProgram);
    }
  });

  it('an actor without its executable\'s components says "?"; no target and no inode leave those fields out', () => {
    const { rows } = decode([actRecord(H(1, 1, 1n), { kind: code('module_load'), comm: 'insmod', name: '/tmp/x.ko' })]);
    const { exe, path, ...rest } = rows[0]!.fields!;
    expect([text(exe), text(path)]).toEqual(['?', '/tmp/x.ko']);
    expect(rest).toEqual({ uid: 0, truncated: 0, request: 0n, addr: 0n, size: 0n });
  });

  it("a file's identity: dev, inode and offset when the inode is known", () => {
    const { rows } = decode([
      actRecord(H(1, 1, 1n), { kind: code('mmap_exec'), comm: 'game', nameParts: ['lib.so'], dev: 7n, inode: 8n, offset: 4096n, flags: 1 }),
    ]);
    expect(rows[0]!.fields).toMatchObject({ dev: 7n, inode: 8n, offset: 4096n, truncated: 1 });
    expect(text(rows[0]!.fields!.path)).toBe('/lib.so');
  });

  it('a file with no name left and an actor whose executable has none are marked " (deleted)"; only flag bit 1 is truncation', () => {
    const { rows } = decode([
      actRecord(H(1, 1, 1n), { kind: code('mmap_exec'), comm: 'game', nameParts: ['memfd:x'], flags: 2 }),
      actRecord(H(2, 2, 2n), { kind: code('ptrace'), comm: 'cheat', exeParts: ['cheat', 'tmp'], targetTgid: 1, targetTid: 1, flags: 4 }),
      actRecord(H(3, 3, 3n), { kind: code('mmap_exec'), comm: 'game', nameParts: ['lib.so'], flags: 1 | 2 }),
    ]);
    expect([text(rows[0]!.fields!.path), rows[0]!.fields!.truncated]).toEqual(['/memfd:x (deleted)', 0]);
    expect([text(rows[1]!.fields!.exe), rows[1]!.fields!.truncated]).toEqual(['/tmp/cheat (deleted)', 0]);
    expect([text(rows[2]!.fields!.path), rows[2]!.fields!.truncated]).toEqual(['/lib.so (deleted)', 1]);
  });

  it('a library call names its function by the uprobe\'s cookie ("?" for an unknown one), without a request', () => {
    const call = (cookie: bigint) => actRecord(H(1, 1, 1n), { kind: code('libcall'), comm: 'game', request: cookie, name: 'libcheat.so' });
    const { rows } = decode([call(1n), call(0n), call(2n)], { libcalls: ['libc.so.6:dlopen', 'libc.so.6:dlsym'] });
    expect(rows.map((r) => text(r.fields!.func))).toEqual(['libc.so.6:dlsym', 'libc.so.6:dlopen', '?']);
    expect(rows.every((r) => r.fields!.request === undefined && r.fields!.exe === undefined)).toBe(true);
    expect(text(rows[0]!.fields!.path)).toBe('libcheat.so');
  });

  it("takes at most GPO_NAME_PARTS components, each up to its field's end without a NUL", () => {
    const part = (c: string) => c.repeat(NAME_LEN);
    const parts = Array.from({ length: NAME_PARTS }, (_, i) => part(String.fromCharCode(97 + i)));
    const { rows } = decode([actRecord(H(1, 1, 1n), { kind: code('proc_open'), comm: 'x', nameParts: parts, namePartsCount: 1000 })]);
    expect(text(rows[0]!.fields!.path)).toBe(
      parts
        .slice()
        .reverse()
        .map((p) => `/${p}`)
        .join(''),
    );
  });

  it('a plain name fills the whole name area when it has no NUL', () => {
    const name = Buffer.alloc(NAME_PARTS * NAME_LEN, 'n');
    const { rows } = decode([actRecord(H(1, 1, 1n), { kind: code('memfd_create'), comm: 'x', name })]);
    expect(rows[0]!.fields!.path!.equals(name)).toBe(true);
  });
});

describe('loader_env records', () => {
  const exec = (tgid: number, path: string) => execRecord(H(tgid, tgid, 1n), { oldTid: tgid, argv: path, comm: 'prog', path });
  const loader = (tgid: number, variable: bigint, value?: Buffer | string, flags = 0) =>
    actRecord(H(tgid, tgid, 2n), { kind: code('loader_env'), comm: 'prog', request: variable, name: value, flags, addr: 5n, size: 6n });

  it("name the variable (func), its value (path) and the program its process exec'd last (exe); no request, addr or size", () => {
    const { rows, totals } = decode([
      exec(10, '/usr/bin/game'),
      loader(10, 0n, '/tmp/hook.so'),
      loader(10, 1n, '/tmp/audit.so'),
      exec(11, '/bin/true'),
      loader(11, 2n, '/opt/lib'),
      loader(10, 0n, ''),
    ]);
    expect(totals.recordsRejected).toBe(0);
    const loaders = rows.filter((r) => kindOf(r) === 'loader_env');
    expect(loaders.map((r) => [r.pid, text(r.fields!.func), text(r.fields!.path), text(r.fields!.exe), r.fields!.truncated])).toEqual([
      [10, 'LD_PRELOAD', '/tmp/hook.so', '/usr/bin/game', 0],
      [10, 'LD_AUDIT', '/tmp/audit.so', '/usr/bin/game', 0],
      [11, 'LD_LIBRARY_PATH', '/opt/lib', '/bin/true', 0],
      [10, 'LD_PRELOAD', undefined, '/usr/bin/game', 0],
    ]);
    for (const r of loaders) expect([r.fields!.request, r.fields!.addr, r.fields!.size]).toEqual([undefined, undefined, undefined]);
  });

  it('a value cut to the name area keeps all of it and is truncated; a process whose exec was not seen says "?"', () => {
    const value = Buffer.alloc(NAME_PARTS * NAME_LEN, 'v');
    const { rows } = decode([loader(12, 0n, value, 1)]);
    expect(rows[0]!.fields!.path!.equals(value)).toBe(true);
    expect([rows[0]!.fields!.truncated, text(rows[0]!.fields!.exe)]).toEqual([1, '?']);
  });

  it('an environment not read to its end (and any unknown variable) has no variable and no value, and is truncated', () => {
    const { rows } = decode([exec(13, '/usr/bin/env'), loader(13, 3n, undefined, 1), loader(13, 99n, 'junk')]);
    const loaders = rows.filter((r) => kindOf(r) === 'loader_env');
    expect(loaders.map((r) => [r.fields!.func, r.fields!.path, text(r.fields!.exe), r.fields!.truncated])).toEqual([
      [undefined, undefined, '/usr/bin/env', 1],
      [undefined, undefined, '/usr/bin/env', 1],
    ]);
  });

  it('the program of a process is forgotten when its last thread exits', () => {
    const { rows } = decode([exec(14, '/usr/bin/game'), exitRecord(H(14, 14, 3n), { exitCode: 0, groupDead: 1, comm: 'game' }), loader(14, 0n, '/x.so')]);
    expect(text(rows.at(-1)!.fields!.exe)).toBe('?');
  });
});

describe('hostile strings', () => {
  const invalid = Buffer.from([0x67, 0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x5c, 0x78, 0x34, 0x31]); // g, bad bytes, "\x41"

  it("keep their bytes: not UTF-8, no NUL at the field's end, the field's full length", () => {
    const comm = Buffer.alloc(COMM_LEN, 0xfe);
    const path = Buffer.alloc(PATH_LEN, 0xe9);
    const argv = Buffer.concat([invalid, Buffer.from([0]), Buffer.alloc(ARGV_LEN - invalid.length - 1, 0xff)]);
    const { rows } = decode([
      forkRecord(H(1, 1, 1n), { tgid: 2, tid: 2, comm: invalid.subarray(0, COMM_LEN) }),
      syscallBatch([{ ts: 2n, nr: 1, ret: 0n, tgid: 2, tid: 2 }]),
      execRecord(H(3, 3, 3n), { oldTid: 3, comm, path, argv }),
      exitRecord(H(4, 4, 4n), { exitCode: 0, groupDead: 0, comm: invalid }),
      actRecord(H(5, 5, 5n), { kind: code('signal'), comm: invalid, name: invalid, exeParts: [invalid] }),
    ]);
    expect(rows[1]!.comm.equals(invalid)).toBe(true);
    expect(rows[2]!.comm.equals(comm)).toBe(true);
    expect(rows[2]!.fields!.path!.equals(path)).toBe(true);
    expect(rows[2]!.fields!.argv!.map((a) => a.toString('hex'))).toEqual([invalid.toString('hex'), argv.subarray(invalid.length + 1).toString('hex')]);
    expect(rows[3]!.comm.equals(invalid)).toBe(true);
    expect(rows[4]!.comm.equals(invalid)).toBe(true);
    expect(rows[4]!.fields!.path!.equals(invalid)).toBe(true);
    expect(rows[4]!.fields!.exe!.equals(Buffer.concat([Buffer.from('/'), invalid]))).toBe(true);
  });

  it('a NUL ends a string inside its field', () => {
    const { rows } = decode([renameRecord(H(1, 1, 1n), Buffer.from('ab\0cd'))]);
    expect(text(rows[0]!.comm)).toBe('ab');
  });

  it('a thread name from the callback keeps its bytes', () => {
    const { rows } = decode([syscallBatch([{ ts: 1n, nr: 1, ret: 0n, tgid: 1, tid: 1 }])], { threadName: () => invalid });
    expect(rows[0]!.comm.equals(invalid)).toBe(true);
  });
});

describe('records the decoder cannot take', () => {
  /** Each kind of record, valid. */
  const valid = (): Buffer[] => [
    syscallBatch([{ ts: 1n, nr: 1, ret: 0n, tgid: 1, tid: 1 }]),
    forkRecord(H(1, 1, 1n), { tgid: 2, tid: 2, comm: 'c' }),
    execRecord(H(1, 1, 1n), { oldTid: 1, comm: 'c', path: '/c', argv: 'c\0' }),
    exitRecord(H(1, 1, 1n), { exitCode: 0, groupDead: 1, comm: 'c' }),
    renameRecord(H(1, 1, 1n), 'c'),
    actRecord(H(1, 1, 1n), { kind: code('ptrace'), comm: 'c' }),
  ];

  it('a record one byte short of its struct adds no row and is counted', () => {
    for (const record of valid()) {
      const { rows, totals } = decode([record.subarray(0, record.length - 1)]);
      expect(rows, `type ${record.readUInt32LE(0)}`).toEqual([]);
      expect(totals, `type ${record.readUInt32LE(0)}`).toMatchObject({ rows: 0, recordsRejected: 1, batchesRead: 0 });
    }
  });

  it('records shorter than a type, or than a header, are counted', () => {
    const { rows, totals } = decode([Buffer.alloc(0), Buffer.from([REC.fork, 0, 0]), Buffer.from([REC.exit, 0, 0, 0])]);
    expect(rows).toEqual([]);
    expect(totals.recordsRejected).toBe(3);
  });

  it('a record longer than its struct decodes as the struct (fields added at the end are ignored)', () => {
    const exact = decode(valid());
    const longer = decode(valid().map((r) => Buffer.concat([r, Buffer.alloc(64, 0xab)])));
    expect(longer.rows).toEqual(exact.rows);
    expect(longer.totals).toEqual(exact.totals);
    expect(exact.totals).toMatchObject({ rows: 6, recordsRejected: 0 });
  });

  it('a syscall batch whose count does not fit the record is rejected whole', () => {
    const records = [
      { ts: 1n, nr: 1, ret: 0n, tgid: 1, tid: 1 },
      { ts: 2n, nr: 2, ret: 0n, tgid: 1, tid: 1 },
    ];
    const { rows, totals } = decode([syscallBatch(records, SIZE.syscall, { count: 3 }), syscallBatch(records, SIZE.syscall, { count: 2 ** 32 - 1 })]);
    expect(rows).toEqual([]);
    expect(totals).toMatchObject({ recordsRejected: 2, batchesRead: 0 });
  });

  it('a syscall batch with records smaller than gpo_syscall is rejected', () => {
    const b = syscallBatch([], 16);
    b.writeUInt32LE(1, 4);
    const { rows, totals } = decode([Buffer.concat([b, Buffer.alloc(16)])]);
    expect(rows).toEqual([]);
    expect(totals.recordsRejected).toBe(1);
  });

  it('a syscall batch without durations is rejected when durations are recorded (never read past its end)', () => {
    // The batch sits in a larger buffer whose next bytes would pass for a duration.
    const batch = syscallBatch([{ ts: 1n, nr: 1, ret: 0n, tgid: 1, tid: 1 }]);
    const memory = Buffer.concat([batch, Buffer.from([0x2a, 0, 0, 0, 0, 0, 0, 0])]);
    const { rows, totals } = decode([memory.subarray(0, batch.length)], { durations: true });
    expect(rows).toEqual([]);
    expect(totals).toMatchObject({ recordsRejected: 1, batchesRead: 0 });
  });

  it('a syscall batch shorter than its header is rejected', () => {
    // Four bytes of type; the bytes after them in memory would make a valid one-record batch.
    const memory = syscallBatch([{ ts: 1n, nr: 1, ret: 0n, tgid: 1, tid: 1 }]);
    memory.writeUInt32LE(0, 4); // count 0: a batch that fits in anything
    const { rows, totals } = decode([memory.subarray(0, 4)]);
    expect(rows).toEqual([]);
    expect(totals).toMatchObject({ recordsRejected: 1, batchesRead: 0 });
  });

  it('unknown record types are counted, and the records around them decode', () => {
    const unknown = (type: number) => {
      const b = Buffer.alloc(SIZE.act);
      b.writeUInt32LE(type, 0);
      return b;
    };
    const { rows, totals } = decode([unknown(0), renameRecord(H(1, 1, 1n), 'ok'), unknown(7), unknown(0xffffffff)]);
    expect(rows.map(kindOf)).toEqual(['rename']);
    expect(totals).toMatchObject({ rows: 1, recordsRejected: 3 });
  });

  it('an act of an unknown row kind is counted, not a row', () => {
    const { rows, totals } = decode([
      actRecord(H(1, 1, 1n), { kind: addon.rowKinds.length, comm: 'x' }),
      actRecord(H(1, 1, 1n), { kind: 0xffffffff, comm: 'x' }),
    ]);
    expect(rows).toEqual([]);
    expect(totals.recordsRejected).toBe(2);
  });

  it('an act record claiming a syscall or lifecycle kind is counted, not a row (those rows have their own records)', () => {
    for (const kind of ['syscall', 'fork', 'thread', 'exec', 'exit', 'rename'] as const) {
      const { rows, totals } = decode([
        syscallBatch([{ ts: 1n, nr: 5, ret: 7n, tgid: 1, tid: 1 }]),
        actRecord(H(1, 1, 2n), { kind: code(kind), comm: 'x', nr: 99, ret: -1n }),
      ]);
      expect(
        rows.map((r) => [kindOf(r), r.nr, r.ret]),
        kind,
      ).toEqual([['syscall', 5, 7n]]);
      expect(totals.recordsRejected, kind).toBe(1);
    }
  });

  it('a record that is not a Uint8Array is a TypeError', () => {
    expect(() => decode(['not bytes' as unknown as Uint8Array])).toThrow(TypeError);
  });
});

describe('decoded rows in a trace', () => {
  it('are what the recorder writes: decoded and encoded with the addon, read back with every byte and column', async () => {
    const hostile = Buffer.from([0x67, 0xff, 0x5c, 0x78, 0x34, 0x31]);
    const { rows } = decode(
      [
        syscallBatch([{ ts: 1n, nr: 0, ret: -11n, tgid: 7, tid: 7 }]),
        forkRecord(H(7, 7, 2n), { tgid: 8, tid: 8, comm: hostile }),
        execRecord(H(8, 8, 3n), { oldTid: 8, comm: 'x', path: hostile, argv: Buffer.concat([hostile, Buffer.from('\0-v\0')]), nlink: 0 }),
        actRecord(H(8, 8, 4n), { kind: code('libcall'), comm: hostile, request: 0n, name: hostile, ret: 5n }),
      ],
      { baseNs: 1000n, libcalls: ['libc.so.6:dlopen'], threadName: () => 'game' },
    );
    const stream = join(mkdtempSync(join(tmpdir(), 'gpo-decoded-')), 'decoded.parquet.arrows');
    const writer = new TraceStreamWriter(stream, testMetadata());
    writer.appended(rows.length, addon.writeRecordingBatch(writer.fd, rows, false));
    writer.close();
    const back = await readRows(stream);
    expect(back.map((r) => [r.ts_ns, r.pid, r.tid, r.kind, r.nr, r.ret])).toEqual([
      [1001n, 7, 7, 'syscall', 0, -11n],
      [1002n, 7, 7, 'fork', null, null],
      [1003n, 8, 8, 'exec', null, null],
      [1004n, 8, 8, 'libcall', null, 5n],
    ]);
    expect(back.map((r) => decodeBytes(r.comm).toString('hex'))).toEqual(['game', 'game', 'x', hostile].map((c) => Buffer.from(c).toString('hex')));
    expect([back[1]!.child_pid, back[1]!.child_tid]).toEqual([8, 8]);
    expect(decodeBytes(back[2]!.path!).equals(hostile)).toBe(true);
    expect(back[2]!.argv!.map((a) => decodeBytes(a).toString('hex'))).toEqual([hostile.toString('hex'), Buffer.from('-v').toString('hex')]);
    expect(back[2]!.request).toBe(0n);
    expect([back[3]!.func, back[3]!.request, decodeBytes(back[3]!.path!).equals(hostile)]).toEqual(['libc.so.6:dlopen', null, true]);
  });
});
