// Ring-buffer records made byte by byte, laid out as bpf/gpo.h's structs (x86-64: little-endian, natural
// alignment). The offsets are written here by hand on purpose: the decoder must agree with the header, not
// with a copy of the decoder's view of it. test/native/record-decoder.test.ts pins the sizes to the addon's.

export const COMM_LEN = 16;
export const PATH_LEN = 256;
export const ARGV_LEN = 1024;
export const NAME_PARTS = 10;
export const NAME_LEN = 48;
export const TS_BITS = 48n;

/** enum gpo_record_type */
export const REC = { syscalls: 1, fork: 2, exec: 3, exit: 4, rename: 5, act: 6 } as const;

/** struct sizes */
export const SIZE = {
  batchHeader: 16,
  syscall: 24,
  syscallTimed: 32,
  eventHeader: 24,
  fork: 48,
  exec: 1352,
  exit: 48,
  rename: 40,
  act: 1096,
} as const;

type Bytes = Buffer | string;
const bytesOf = (s: Bytes) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s);

/** Writes s into the fixed-size char field at offset; longer than max is a test bug. */
function putChars(b: Buffer, offset: number, max: number, s: Bytes): void {
  const bytes = bytesOf(s);
  if (bytes.length > max) throw new Error(`test bug: ${bytes.length} bytes in a ${max}-byte field`);
  bytes.copy(b, offset);
}

export interface SyscallRecord {
  ts: bigint;
  nr: number;
  ret: bigint;
  tgid: number;
  tid: number;
  duration?: bigint;
}

/** struct gpo_batch_header and count records of recordSize bytes (24: gpo_syscall, 32: gpo_syscall_timed). */
export function syscallBatch(records: SyscallRecord[], recordSize: number = SIZE.syscall, header: { count?: number } = {}): Buffer {
  const b = Buffer.alloc(SIZE.batchHeader + records.length * recordSize);
  b.writeUInt32LE(REC.syscalls, 0);
  b.writeUInt32LE(header.count ?? records.length, 4);
  b.writeUInt32LE(recordSize, 8);
  records.forEach((r, i) => {
    const at = SIZE.batchHeader + i * recordSize;
    b.writeBigUInt64LE(r.ts | (BigInt(r.nr) << TS_BITS), at);
    b.writeBigInt64LE(r.ret, at + 8);
    b.writeUInt32LE(r.tgid, at + 16);
    b.writeUInt32LE(r.tid, at + 20);
    if (recordSize >= SIZE.syscallTimed) b.writeBigUInt64LE(r.duration ?? 0n, at + 24);
  });
  return b;
}

/** struct gpo_event_header */
function event(size: number, type: number, h: { tgid: number; tid: number; ts: bigint }): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(h.tgid, 4);
  b.writeUInt32LE(h.tid, 8);
  b.writeBigUInt64LE(h.ts, 16);
  return b;
}

export interface Header {
  tgid: number;
  tid: number;
  ts: bigint;
}

export function forkRecord(h: Header, child: { tgid: number; tid: number; comm: Bytes }): Buffer {
  const b = event(SIZE.fork, REC.fork, h);
  b.writeUInt32LE(child.tgid, 24);
  b.writeUInt32LE(child.tid, 28);
  putChars(b, 32, COMM_LEN, child.comm);
  return b;
}

export interface ExecFields {
  oldTid: number;
  /** argv bytes (NUL-separated); argvLen defaults to their length. */
  argv: Bytes;
  argvLen?: number;
  flags?: number;
  nlink?: number;
  dev?: bigint;
  inode?: bigint;
  comm: Bytes;
  path: Bytes;
}

export function execRecord(h: Header, e: ExecFields): Buffer {
  const b = event(SIZE.exec, REC.exec, h);
  const argv = bytesOf(e.argv);
  b.writeUInt32LE(e.oldTid, 24);
  b.writeUInt32LE(e.argvLen ?? argv.length, 28);
  b.writeUInt32LE(e.flags ?? 0, 32);
  b.writeUInt32LE(e.nlink ?? 1, 36);
  b.writeBigUInt64LE(e.dev ?? 0n, 40);
  b.writeBigUInt64LE(e.inode ?? 0n, 48);
  putChars(b, 56, COMM_LEN, e.comm);
  putChars(b, 72, PATH_LEN, e.path);
  putChars(b, 328, ARGV_LEN, argv);
  return b;
}

export function exitRecord(h: Header, e: { exitCode: number; groupDead: number; comm: Bytes }): Buffer {
  const b = event(SIZE.exit, REC.exit, h);
  b.writeInt32LE(e.exitCode, 24);
  b.writeUInt32LE(e.groupDead, 28);
  putChars(b, 32, COMM_LEN, e.comm);
  return b;
}

export function renameRecord(h: Header, comm: Bytes): Buffer {
  const b = event(SIZE.rename, REC.rename, h);
  putChars(b, 24, COMM_LEN, comm);
  return b;
}

export interface ActFields {
  kind: number;
  uid?: number;
  targetTgid?: number;
  targetTid?: number;
  ret?: bigint;
  request?: bigint;
  addr?: bigint;
  size?: bigint;
  dev?: bigint;
  inode?: bigint;
  offset?: bigint;
  nr?: number;
  flags?: number;
  comm: Bytes;
  /** A plain string in the name area (name_parts 0)... */
  name?: Bytes;
  /** ...or path components, leaf first; nameParts defaults to their count. */
  nameParts?: Bytes[];
  namePartsCount?: number;
  exeParts?: Bytes[];
  exePartsCount?: number;
}

export function actRecord(h: Header, a: ActFields): Buffer {
  const b = event(SIZE.act, REC.act, h);
  b.writeUInt32LE(a.kind, 24);
  b.writeUInt32LE(a.uid ?? 0, 28);
  b.writeUInt32LE(a.targetTgid ?? 0, 32);
  b.writeUInt32LE(a.targetTid ?? 0, 36);
  b.writeBigInt64LE(a.ret ?? 0n, 40);
  b.writeBigUInt64LE(a.request ?? 0n, 48);
  b.writeBigUInt64LE(a.addr ?? 0n, 56);
  b.writeBigUInt64LE(a.size ?? 0n, 64);
  b.writeBigUInt64LE(a.dev ?? 0n, 72);
  b.writeBigUInt64LE(a.inode ?? 0n, 80);
  b.writeBigUInt64LE(a.offset ?? 0n, 88);
  b.writeUInt32LE(a.nr ?? 0, 96);
  b.writeUInt32LE(a.namePartsCount ?? a.nameParts?.length ?? 0, 100);
  b.writeUInt32LE(a.flags ?? 0, 104);
  putChars(b, 112, COMM_LEN, a.comm);
  if (a.name !== undefined) putChars(b, 128, NAME_PARTS * NAME_LEN, a.name);
  a.nameParts?.forEach((p, i) => putChars(b, 128 + i * NAME_LEN, NAME_LEN, p));
  b.writeUInt32LE(a.exePartsCount ?? a.exeParts?.length ?? 0, 608);
  a.exeParts?.forEach((p, i) => putChars(b, 616 + i * NAME_LEN, NAME_LEN, p));
  return b;
}
