// Fast column access for the stages that read traces row by row (info, replay, report, train, score):
// typed arrays and validity checks instead of per-row Vector.get calls.
import type { RecordBatch } from 'apache-arrow';

/** The values of a numeric column as a typed array (BigInt64Array for 64-bit columns). */
export function numericColumn<T extends ArrayLike<number | bigint> = Int32Array>(batch: RecordBatch, name: string): T {
  const vector = batch.getChild(name);
  if (!vector) throw new Error(`trace has no column ${name}`);
  return vector.toArray() as unknown as T;
}

/** isValid(row) for a nullable column, reading its validity bitmap directly. */
export function validity(batch: RecordBatch, name: string): (row: number) => boolean {
  const vector = batch.getChild(name);
  if (!vector) throw new Error(`trace has no column ${name}`);
  if (vector.nullCount === 0) return () => true;
  if (vector.nullCount === vector.length) return () => false;
  if (vector.data.length !== 1) return (row) => vector.isValid(row);
  const { nullBitmap, offset } = vector.data[0];
  if (!nullBitmap || nullBitmap.length === 0) return () => true;
  return (row) => {
    const bit = row + offset;
    return (nullBitmap[bit >> 3] & (1 << (bit & 7))) !== 0;
  };
}

/** A string column read lazily: only the rows asked for are decoded. */
export function stringColumn(batch: RecordBatch, name: string): (row: number) => string | null {
  const vector = batch.getChild(name);
  if (!vector) throw new Error(`trace has no column ${name}`);
  return (row) => vector.get(row) as string | null;
}

/** The columns every row-by-row reader opens: ids and times as typed arrays, syscall rows told apart by
 * their non-null `nr`, kind and comm read lazily. */
export function rowColumns(batch: RecordBatch) {
  return {
    ts: numericColumn<BigInt64Array>(batch, 'ts_ns'),
    pid: numericColumn(batch, 'pid'),
    tid: numericColumn(batch, 'tid'),
    nr: numericColumn<Int16Array>(batch, 'nr'),
    isSyscall: validity(batch, 'nr'),
    kind: stringColumn(batch, 'kind'),
    comm: stringColumn(batch, 'comm'),
  };
}
