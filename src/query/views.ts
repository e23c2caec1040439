// The SQL views `gpo query` offers over a set of traces and score outputs. Plain DuckDB SQL over the files
// themselves (read_parquet, parquet_kv_metadata, read_json): docs/sql.md shows the same views on engines
// that read Parquet from object storage.
import { SYSCALL_NAMES } from '../trace/syscalls.js';

/** A string as a SQL literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function sqlList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}

/** gpo's metadata document of each Parquet file, one row per file (the key 'gpo' of the Parquet key-value
 * metadata): a segmented trace has one per part. */
export function metadataTableSql(files: readonly string[]): string {
  return `CREATE TEMP TABLE gpo_metadata AS
SELECT file_name AS path, decode(value)::JSON AS meta
FROM parquet_kv_metadata(${sqlList(files)})
WHERE decode(key) = 'gpo'`;
}

/** The trace each Parquet file belongs to: a segmented trace's folder for its parts, else the file itself. */
export function traceFilesTableSql(traces: readonly { trace: string; files: readonly string[] }[]): string {
  const rows = traces.flatMap(({ trace, files }) => files.map((file) => `(${sqlString(file)}, ${sqlString(trace)})`));
  return `CREATE TEMP TABLE trace_files (file VARCHAR, trace VARCHAR); INSERT INTO trace_files VALUES ${rows.join(', ')}`;
}

/** x86_64 syscall numbers and names (src/trace/syscalls.ts), for `events.syscall`. */
export function syscallTableSql(): string {
  const rows = SYSCALL_NAMES.map((name, nr) => `(${nr}, ${sqlString(name)})`).join(', ');
  return `CREATE TEMP TABLE syscalls (nr SMALLINT, name VARCHAR); INSERT INTO syscalls VALUES ${rows}`;
}

/** One row per trace. A segmented trace's row is its newest part's metadata (the latest counters, the parts
 * --max-size removed), as gpo's reader takes it. `derived_ids(path, id)` holds the ids made from the file of
 * traces without one. */
export const RECORDINGS_SQL = `CREATE TEMP TABLE recordings AS
WITH parts AS (
  SELECT t.trace AS path, m.meta, count(*) OVER (PARTITION BY t.trace) AS parts,
    row_number() OVER (PARTITION BY t.trace ORDER BY coalesce((m.meta->'segment'->>'index')::BIGINT, 0) DESC) AS newest
  FROM gpo_metadata m JOIN trace_files t ON t.file = m.path)
SELECT
  coalesce(m.meta->>'recording_id', d.id) AS recording_id,
  CASE WHEN m.meta->>'recording_id' IS NULL THEN 'file-sha256' ELSE 'metadata' END AS id_from,
  m.path AS file,
  m.parts::INTEGER AS parts,
  m.meta->'host'->>'hostname' AS host,
  m.meta->'host'->>'machine_id' AS machine_id,
  nullif(m.meta->'host'->>'boot_id', '') AS boot_id,
  m.meta->'host'->>'kernel_release' AS kernel_release,
  m.meta->'target'->>'build_id' AS build_id,
  m.meta->'target'->>'exe' AS exe,
  m.meta->'target'->>'exe_sha256' AS exe_sha256,
  m.meta->'target'->>'comm' AS comm,
  (m.meta->'target'->>'pid')::INTEGER AS pid,
  m.meta->'target'->>'mode' AS mode,
  m.meta->'target'->'loader_env' AS loader_env,
  TRY_CAST(nullif(m.meta->'clock'->>'start_wall', '') AS TIMESTAMPTZ) AS start_wall,
  TRY_CAST(m.meta->'clock'->>'end_wall' AS TIMESTAMPTZ) AS end_wall,
  (m.meta->'clock'->>'wall_offset_ns')::BIGINT AS wall_offset_ns,
  m.meta->>'gpo_version' AS gpo_version,
  (m.meta->>'schema_version')::INTEGER AS schema_version,
  m.meta->>'status' AS status,
  m.meta->>'stop_reason' AS stop_reason,
  (SELECT coalesce(sum((c.value->>'rows')::BIGINT), 0) FROM json_each(m.meta->'counts') c) AS rows,
  coalesce((m.meta->'segment'->'dropped'->>'rows')::BIGINT, 0) AS rows_removed,
  (SELECT coalesce(sum((c.value->>'dropped')::BIGINT), 0) FROM json_each(m.meta->'counts') c) AS dropped,
  m.meta AS metadata
FROM parts m LEFT JOIN derived_ids d ON d.path = m.path
WHERE m.newest = 1`;

/** Every row of every trace, with its recording, host, build and wall-clock time (ts_ns + wall_offset_ns);
 * `file` is the trace (a segmented trace's folder), as in recordings. */
export function eventsViewSql(files: readonly string[]): string {
  return `CREATE TEMP VIEW events AS
SELECT
  r.recording_id, r.host, r.build_id,
  make_timestamp_ns(e.ts_ns + r.wall_offset_ns) AS wall_time,
  s.name AS syscall,
  e.* EXCLUDE (filename),
  t.trace AS file
FROM read_parquet(${sqlList(files)}, filename = true, union_by_name = true) e
JOIN trace_files t ON t.file = e.filename
JOIN recordings r ON r.file = t.trace
LEFT JOIN syscalls s ON e.kind = 'syscall' AND s.nr = e.nr`;
}

/** `gpo score --json` outputs (one report, or one per line): a row per report and a row per anomaly. */
export function scoreViewsSql(files: readonly string[]): string {
  return `CREATE TEMP TABLE gpo_score_reports AS
SELECT * FROM read_json(${sqlList(files)}, format = 'auto', records = true, filename = true,
  columns = {recording: 'JSON', trace: 'JSON', baseline: 'JSON', anomalies: 'JSON[]', counts: 'JSON', fail_on: 'VARCHAR', verdict: 'VARCHAR', passed: 'BOOLEAN', anomalous: 'BOOLEAN', exit_code: 'INTEGER'});
CREATE TEMP VIEW scores AS
SELECT
  recording->>'id' AS recording_id, recording->>'host' AS host, trace->>'path' AS file, baseline->>'path' AS baseline,
  verdict, passed, anomalous, exit_code, fail_on,
  (counts->>'high')::INTEGER AS high, (counts->>'medium')::INTEGER AS medium, (counts->>'low')::INTEGER AS low,
  len(anomalies) AS anomalies, filename AS score_file
FROM gpo_score_reports;
CREATE TEMP VIEW anomalies AS
SELECT
  recording->>'id' AS recording_id, recording->>'host' AS host, recording->>'build_id' AS build_id, trace->>'path' AS file,
  a->>'kind' AS kind, a->>'severity' AS severity,
  (a->>'first_ts_ns')::BIGINT AS first_ts_ns, (a->>'last_ts_ns')::BIGINT AS last_ts_ns,
  (a->>'pid')::INTEGER AS pid, (a->>'tid')::INTEGER AS tid, a->>'comm' AS comm, (a->>'count')::BIGINT AS count,
  a->>'summary' AS summary, a->'evidence' AS evidence
FROM (SELECT recording, trace, unnest(anomalies) AS a FROM gpo_score_reports)`;
}
