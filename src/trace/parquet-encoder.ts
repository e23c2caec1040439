// Encodes trace-schema record batches as a Parquet file with the addon's writer (native/parquet-writer.cc):
// batches are gathered into row groups of ROW_GROUP_ROWS rows (a batch may be split between two), and each
// row group's columns are handed to C++ as the batches' own Arrow buffers, without a copy.
import { type Data, DataType, type RecordBatch, Schema } from 'apache-arrow';
import { type NativeArrowArray, type NativeArrowSlice, type NativeParquetColumn, type NativeParquetWriter, loadAddon } from '../native/addon.js';
import { schemaMessage } from './encode.js';
import { traceSchema } from './schema.js';

/** Rows per Parquet row group: large enough for good compression, small enough to stream when reading. */
export const ROW_GROUP_ROWS = 1 << 18;

export interface ParquetProperties {
  /** Encodings by column name; plain for the others. */
  encodings: Record<string, 'dictionary' | 'delta'>;
  keyValueMetadata: [string, string][];
  createdBy: string;
  rowGroupRows: number;
  /** Column chunk statistics (null count, min/max) in the footer; readers skip columns by them. */
  statistics: boolean;
}

function kindOf(type: DataType): NativeParquetColumn['kind'] {
  if (DataType.isUtf8(type)) return 'utf8';
  if (DataType.isList(type) && DataType.isUtf8(type.children[0]!.type)) return 'list<utf8>';
  if (DataType.isInt(type) && type.isSigned && type.bitWidth >= 16) return `int${type.bitWidth}` as 'int16' | 'int32' | 'int64';
  throw new Error(`no Parquet encoding for ${String(type)}`);
}

/** The Arrow schema as arrow-rs stores it in Parquet metadata (base64 of its IPC message), so Arrow readers
 * give back exactly the batches' types. */
function arrowSchemaMetadata(schema: Schema): [string, string] {
  return ['ARROW:schema', Buffer.from(schemaMessage(new Schema(schema.fields))).toString('base64')];
}

/** A Parquet file as the addon writes it, as plain data (it is handed to the segment worker): its columns
 * and what its footer holds besides the row groups. */
export interface ParquetFileSpec {
  columns: NativeParquetColumn[];
  statistics: boolean;
  rowGroupRows: number;
  keyValueMetadata: [string, string][];
  createdBy: string;
}

/** The file of batches of `schema` written with these properties. */
export function parquetFileSpec(properties: ParquetProperties, schema: Schema = traceSchema): ParquetFileSpec {
  const { encodings, statistics, rowGroupRows, keyValueMetadata, createdBy } = properties;
  return {
    columns: schema.fields.map((f) => ({ name: f.name, kind: kindOf(f.type), nullable: f.nullable, encoding: encodings[f.name] ?? 'plain' })),
    statistics,
    rowGroupRows,
    keyValueMetadata: [...keyValueMetadata, arrowSchemaMetadata(schema)],
    createdBy,
  };
}

function arrayOf(data: Data): NativeArrowArray {
  return {
    bitOffset: data.offset,
    validity: data.nullCount > 0 ? data.nullBitmap : undefined,
    values: data.values as ArrayBufferView | undefined,
    offsets: data.valueOffsets as Int32Array | undefined,
  };
}

interface Piece {
  batch: RecordBatch;
  from: number;
  count: number;
}

/** Writes batches as Parquet: the file's schema is the first batch's (the trace schema if there is none). */
export class ParquetEncoder {
  private writer: NativeParquetWriter | undefined;
  private file!: ParquetFileSpec;
  private pieces: Piece[] = [];
  private rows = 0;

  constructor(private readonly properties: ParquetProperties) {}

  private open(schema: Schema): NativeParquetWriter {
    this.file = parquetFileSpec(this.properties, schema);
    return (this.writer = new (loadAddon().ParquetWriter)(this.file.columns, this.file.statistics));
  }

  /** Takes a batch; returns the bytes of the row groups it completed (none, usually). */
  add(batch: RecordBatch): Uint8Array[] {
    const writer = this.writer ?? this.open(batch.schema);
    const out: Uint8Array[] = [];
    for (let from = 0; from < batch.numRows;) {
      const count = Math.min(batch.numRows - from, this.properties.rowGroupRows - this.rows);
      this.pieces.push({ batch, from, count });
      this.rows += count;
      from += count;
      if (this.rows === this.properties.rowGroupRows) out.push(this.flush(writer));
    }
    return out;
  }

  /** The last row group (if any rows wait) and the footer. */
  finish(): Uint8Array[] {
    const writer = this.writer ?? this.open(traceSchema);
    const out = this.rows > 0 ? [this.flush(writer)] : [];
    out.push(writer.finish(this.file.keyValueMetadata, this.file.createdBy));
    return out;
  }

  private flush(writer: NativeParquetWriter): Uint8Array {
    const columns = this.file.columns.map((column): NativeArrowSlice[] =>
      this.pieces.map(({ batch, from, count }) => {
        const data = batch.getChild(column.name)?.data;
        if (!data || data.length !== 1 || kindOf(data[0]!.type) !== column.kind) throw new Error(`batch column ${column.name} is not ${column.kind}`);
        const array = data[0]!;
        return { from, count, ...arrayOf(array), ...(column.kind === 'list<utf8>' && { child: arrayOf(array.children[0]!) }) };
      }),
    );
    const bytes = writer.rowGroup(this.rows, columns);
    this.pieces = [];
    this.rows = 0;
    return bytes;
  }
}
