// gpo query "SQL" [TRACES|FOLDERS|GLOBS...] [--scores FILE...] [--json|--csv]: SQL over many recordings on
// an embedded DuckDB, with the views events, recordings, syscalls, scores and anomalies (docs/sql.md).
import type { Command } from 'commander';
import { GpoError } from '../errors.js';
import { csvLines, formatQueryTable, jsonLines } from '../query/output.js';
import { expandTraceInputs } from '../trace/inputs.js';
import { writeStdout } from '../cli/stdout.js';

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('run SQL over traces and score outputs (views: events, recordings, syscalls, scores, anomalies; docs/sql.md)')
    .argument('<sql>', 'one SQL query (DuckDB dialect)')
    .argument('[traces...]', 'traces, folders (every *.parquet below) or quoted globs')
    .option('--scores <files...>', 'outputs of gpo score --json (one report, or one per line): the scores and anomalies views')
    .option('--json', 'one JSON object per row')
    .option('--csv', 'CSV with a header row (RFC 4180)')
    .action(async (sql: string, args: string[], opts: { scores?: string[]; json?: boolean; csv?: boolean }) => {
      if (opts.json && opts.csv) throw new GpoError('give --json or --csv, not both');
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
        throw err;
      });
      // DuckDB loads only for this command: the other commands start without its native library.
      const { openQueryEngine } = await import('../query/engine.js');
      const engine = await openQueryEngine({ traces: expandTraceInputs(args), scores: opts.scores ?? [] });
      try {
        const result = await engine.query(sql);
        if (opts.json || opts.csv) for await (const text of (opts.json ? jsonLines : csvLines)(result)) await writeStdout(text);
        else await writeStdout(await formatQueryTable(result));
      } finally {
        engine.close();
      }
    });
}
