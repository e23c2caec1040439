// Reads the column chunk statistics of a Parquet file from its footer (Thrift compact protocol), which
// parquet-wasm does not expose: per row group and column, how many values are null and, for string columns,
// whether every value is the same. Readers use them to skip decoding columns that are entirely null or
// constant in a row group (src/trace/reader.ts). Anything missing or unexpected yields no statistics, and
// the reader then decodes as before (files written without statistics, older gpo).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ChunkStats {
  /** Null values in the chunk, when the writer recorded it. */
  nullCount?: number;
  /** min_value and max_value, when recorded and exact. */
  min?: Uint8Array;
  max?: Uint8Array;
}

export interface RowGroupStats {
  rows: number;
  /** By top-level column name; only flat (not nested) columns. */
  columns: Map<string, ChunkStats>;
}

class Compact {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  byte(): number {
    if (this.at >= this.bytes.length) throw new Error('footer truncated');
    return this.bytes[this.at++]!;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('bad varint');
    }
  }
  int(): number {
    const v = this.varint();
    return Number((v >> 1n) ^ -(v & 1n));
  }
  binary(): Uint8Array {
    const n = Number(this.varint());
    if (this.at + n > this.bytes.length) throw new Error('footer truncated');
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  /** Calls `field` for each field of a struct; the callback must consume the value (or call skip). */
  struct(field: (id: number, type: number) => void): void {
    let last = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === 0) return;
      const delta = header >> 4;
      const id = delta === 0 ? this.int() : last + delta;
      last = id;
      field(id, type);
    }
  }
  list(element: (type: number) => void): void {
    const header = this.byte();
    let size = header >> 4;
    if (size === 15) size = Number(this.varint());
    const type = header & 0x0f;
    for (let i = 0; i < size; i++) element(type);
  }
  skip(type: number, inList = false): void {
    switch (type) {
      case 1:
      case 2:
        if (inList) this.byte();
        return;
      case 3:
        this.byte();
        return;
      case 4:
      case 5:
      case 6:
        this.varint();
        return;
      case 7:
        this.at += 8;
        return;
      case 8:
        this.binary();
        return;
      case 9:
      case 10:
        this.list((t) => this.skip(t, true));
        return;
      case 11: {
        const size = Number(this.varint());
        if (size === 0) return;
        const kv = this.byte();
        for (let i = 0; i < size; i++) {
          this.skip(kv >> 4, true);
          this.skip(kv & 0x0f, true);
        }
        return;
      }
      case 12:
        this.struct((_, t) => this.skip(t));
        return;
      default:
        throw new Error(`unknown thrift type ${type}`);
    }
  }
}

function statistics(c: Compact): ChunkStats {
  const stats: ChunkStats = {};
  let min: Uint8Array | undefined;
  let max: Uint8Array | undefined;
  let exact = true;
  c.struct((id, type) => {
    if (id === 3 && type === 6) stats.nullCount = c.int();
    else if (id === 5 && type === 8) max = c.binary();
    else if (id === 6 && type === 8) min = c.binary();
    else if ((id === 7 || id === 8) && (type === 1 || type === 2)) exact &&= type === 1;
    else c.skip(type);
  });
  if (exact && min && max) Object.assign(stats, { min, max });
  return stats;
}

function columnChunk(c: Compact): { path: string[]; stats: ChunkStats } | undefined {
  let path: string[] = [];
  let stats: ChunkStats = {};
  let external = false;
  c.struct((id, type) => {
    if (id === 1 && type === 8) {
      c.binary();
      external = true;
    } else if (id === 3 && type === 12)
      c.struct((mid, mtype) => {
        if (mid === 3 && mtype === 9) {
          const names: string[] = [];
          c.list((t) => (t === 8 ? names.push(Buffer.from(c.binary()).toString('utf8')) : c.skip(t, true)));
          path = names;
        } else if (mid === 12 && mtype === 12) stats = statistics(c);
        else c.skip(mtype);
      });
    else c.skip(type);
  });
  return external || path.length === 0 ? undefined : { path, stats };
}

function rowGroup(c: Compact): RowGroupStats {
  const chunks: ({ path: string[]; stats: ChunkStats } | undefined)[] = [];
  let rows = -1;
  c.struct((id, type) => {
    if (id === 1 && type === 9) c.list((t) => (t === 12 ? chunks.push(columnChunk(c)) : c.skip(t, true)));
    else if (id === 3 && type === 6) rows = c.int();
    else c.skip(type);
  });
  const columns = new Map<string, ChunkStats>();
  const nested = new Set<string>();
  for (const chunk of chunks) {
    if (!chunk) continue;
    if (chunk.path.length !== 1) nested.add(chunk.path[0]!);
    else columns.set(chunk.path[0]!, chunk.stats);
  }
  for (const name of nested) columns.delete(name);
  if (rows < 0) throw new Error('row group without num_rows');
  return { rows, columns };
}

/** The row groups' statistics of a FileMetaData structure (the footer's Thrift bytes). */
export function parseFooterStats(footer: Uint8Array): RowGroupStats[] {
  const c = new Compact(footer);
  const groups: RowGroupStats[] = [];
  c.struct((id, type) => {
    if (id === 4 && type === 9) c.list((t) => (t === 12 ? groups.push(rowGroup(c)) : c.skip(t, true)));
    else c.skip(type);
  });
  return groups;
}

/** The statistics of a Parquet file's row groups, or undefined when they cannot be read. */
export function readFooterStats(path: string): RowGroupStats[] | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    if (size < 12) return undefined;
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, size - 8);
    if (tail.toString('latin1', 4, 8) !== 'PAR1') return undefined;
    const length = tail.readUInt32LE(0);
    if (length + 12 > size) return undefined;
    const footer = Buffer.alloc(length);
    readSync(fd, footer, 0, length, size - 8 - length);
    return parseFooterStats(footer);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
