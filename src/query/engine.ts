// gpo query's engine: an in-memory DuckDB with the views of views.ts over the given traces and score
// outputs; the query's rows come back chunk by chunk, so output streams whatever the result's size.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { GpoError } from '../errors.js';
import { sha256OfFile } from '../trace/file-hash.js';
import { uuidFromSha256 } from '../trace/recording.js';
import { parquetFilesOf } from '../trace/segment-layout.js';
import { eventsViewSql, metadataTableSql, RECORDINGS_SQL, scoreViewsSql, sqlString, syscallTableSql, traceFilesTableSql } from './views.js';

export interface QueryInputs {
  /** Traces: Parquet files, and segmented traces' folders. */
  traces: readonly string[];
  /** Files written by `gpo score --json`. */
  scores: readonly string[];
}

export interface QueryResult {
  columns: string[];
  /** Column types as DuckDB names them (BIGINT, VARCHAR, TIMESTAMP_NS, ...). */
  types: string[];
  /** Rows as JSON-ready values: integers beyond 2^53 and timestamps as strings. */
  rows: AsyncIterable<unknown[][]>;
}

function fail(err: unknown, what: string): never {
  throw new GpoError(`${what}: ${String((err as Error).message ?? err).split('\n')[0]}`);
}

async function run(connection: DuckDBConnection, sql: string, what: string): Promise<void> {
  try {
    await connection.run(sql);
  } catch (err) {
    fail(err, what);
  }
}

/** 64-bit and wider integer columns arrive as decimal strings: those a JSON reader holds exactly become
 * numbers again, larger ones stay strings. */
const WIDE_INTEGER = new Set(['BIGINT', 'UBIGINT', 'HUGEINT', 'UHUGEINT']);

function exactInteger(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

export async function openQueryEngine(inputs: QueryInputs): Promise<{ query(sql: string): Promise<QueryResult>; close(): void }> {
  // Offline and self-contained: no extension is downloaded; json and parquet are built in.
  const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
  const connection = await instance.connect();
  await run(connection, "SET TimeZone = 'UTC'", 'setting up'); // the same output on every machine
  // A segmented trace with no closed part yet has no Parquet file to read.
  const traces = inputs.traces.map((trace) => ({ trace, files: parquetFilesOf(trace) })).filter((t) => t.files.length > 0);
  if (traces.length > 0) {
    const files = traces.flatMap((t) => t.files);
    await run(connection, metadataTableSql(files), "reading the traces' metadata");
    const withMeta = await connection.runAndReadAll("SELECT path, meta->>'recording_id' AS id FROM gpo_metadata");
    const rows = withMeta.getRowObjectsJson() as { path: string; id: string | null }[];
    const found = new Set(rows.map((r) => r.path));
    const missing = files.find((f) => !found.has(f));
    if (missing !== undefined) throw new GpoError(`${missing}: not a gpo trace (no gpo metadata)`);
    await run(connection, traceFilesTableSql(traces), 'setting up');
    await run(connection, 'CREATE TEMP TABLE derived_ids (path VARCHAR, id VARCHAR)', 'setting up');
    const traceOf = new Map(traces.flatMap(({ trace, files }) => files.map((file) => [file, trace] as const)));
    const withoutId = new Set(rows.filter((r) => r.id === null).map((r) => traceOf.get(r.path)!));
    for (const trace of withoutId) {
      const id = uuidFromSha256(await sha256OfFile(trace));
      await run(connection, `INSERT INTO derived_ids VALUES (${sqlString(trace)}, ${sqlString(id)})`, 'setting up');
    }
    await run(connection, syscallTableSql(), 'setting up');
    await run(connection, RECORDINGS_SQL, 'building the recordings view');
    await run(connection, eventsViewSql(files), 'building the events view');
  }
  if (inputs.scores.length > 0) await run(connection, scoreViewsSql(inputs.scores), 'reading the score outputs');
  return {
    async query(sql: string): Promise<QueryResult> {
      let result;
      try {
        result = await connection.stream(sql);
      } catch (err) {
        fail(err, 'query');
      }
      const columns = result.deduplicatedColumnNames();
      const types = result.columnTypes().map((t) => t.toString());
      async function* rows(): AsyncGenerator<unknown[][]> {
        try {
          const wide = types.map((t) => WIDE_INTEGER.has(t));
          for await (const chunk of result!.yieldRowsJson()) yield chunk.map((row: unknown[]) => row.map((v, i) => (wide[i] ? exactInteger(v) : v)));
        } catch (err) {
          fail(err, 'query');
        }
      }
      return { columns, types, rows: rows() };
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
