// Arrow IPC messages gpo writes itself: a schema's message (the journal's header, and the ARROW:schema of
// Parquet files) and a batch of no rows carrying metadata, encoded by the addon.
import { DataType, RecordBatchStreamWriter, type Schema } from 'apache-arrow';
import { loadAddon, type NativeIpcNode } from '../native/addon.js';

const schemaMessages = new WeakMap<Schema, Uint8Array>();

/** The stream's first message: the schema (with its metadata). */
export function schemaMessage(schema: Schema): Uint8Array {
  let bytes = schemaMessages.get(schema);
  if (!bytes) {
    const writer = new RecordBatchStreamWriter();
    writer.reset(undefined, schema);
    bytes = writer.toUint8Array(true);
    schemaMessages.set(schema, bytes);
  }
  return bytes;
}

/** A record batch message of no rows for `schema` (flat columns only) whose custom metadata is
 * `metadata`: how a stream carries what changed after its schema message (src/trace/writer.ts). */
export function metadataMessage(schema: Schema, metadata: Record<string, string>): Uint8Array {
  const empty = new Uint8Array(0);
  const nodes: NativeIpcNode[] = schema.fields.map((f) => ({
    length: 0,
    nullCount: 0,
    buffers: DataType.isUtf8(f.type) ? [empty, new Int32Array(1), empty] : [empty, empty],
  }));
  const { encodeRecordBatch } = loadAddon();
  const bytes = new Uint8Array(encodeRecordBatch(new Uint8Array(0), 0, 0, nodes, metadata));
  encodeRecordBatch(bytes, 0, 0, nodes, metadata);
  return bytes;
}
