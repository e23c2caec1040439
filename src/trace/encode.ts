// Arrow IPC bytes of a record batch for parquet-wasm, encoded by the addon straight from the batch's
// buffers into one reused buffer: apache-arrow's tableToIPC (a fresh copy of every batch, then garbage)
// was the slowest step of turning a recording into Parquet.
import { type Data, DataType, type RecordBatch, RecordBatchStreamWriter, type Schema } from 'apache-arrow';
import { loadAddon, type NativeIpcNode } from '../native/addon.js';

const schemaMessages = new WeakMap<Schema, Uint8Array>();
let out = new Uint8Array(1 << 20);

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

/** The field nodes under `data` in depth-first order, each with its buffers in the IPC format's order;
 * false if a buffer is not laid out from its start (a sliced batch). */
function collectNodes(data: Data, nodes: NativeIpcNode[]): boolean {
  if (data.offset !== 0) return false;
  const n = data.length;
  const validity = data.nullCount > 0 ? data.nullBitmap!.subarray(0, (n + 7) >> 3) : new Uint8Array(0);
  if (DataType.isUtf8(data.type)) {
    const offsets = data.valueOffsets.subarray(0, n + 1);
    nodes.push({ length: n, nullCount: data.nullCount, buffers: [validity, offsets, data.values.subarray(0, offsets[n])] });
    return true;
  }
  if (DataType.isList(data.type)) {
    nodes.push({ length: n, nullCount: data.nullCount, buffers: [validity, data.valueOffsets.subarray(0, n + 1)] });
    return collectNodes(data.children[0], nodes);
  }
  if (!DataType.isInt(data.type)) return false;
  nodes.push({ length: n, nullCount: data.nullCount, buffers: [validity, data.values.subarray(0, n)] });
  return true;
}

/** The batch as an Arrow IPC stream (schema message, then the batch), or null if it cannot be encoded
 * this way (sliced, or of a type not in gpo's schemas). Valid until the next call. */
export function encodeIpcStream(batch: RecordBatch): Uint8Array | null {
  const nodes: NativeIpcNode[] = [];
  for (const child of batch.data.children) if (!collectNodes(child, nodes)) return null;
  const head = schemaMessage(batch.schema);
  const { encodeRecordBatch } = loadAddon();
  let end = encodeRecordBatch(out, head.length, batch.numRows, nodes);
  if (end > out.length) {
    out = new Uint8Array(Math.ceil(end * 1.25));
    end = encodeRecordBatch(out, head.length, batch.numRows, nodes);
  }
  out.set(head, 0);
  return out.subarray(0, end);
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
