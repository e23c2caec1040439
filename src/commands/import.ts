// gpo import FORMAT INPUT... -o trace.parquet: dataset sequences (adfa-ld, unm, strace) as a gpo trace.
import type { Command } from 'commander';
import { SEQUENCE_FORMATS, isSequenceFormat } from '../import/load.js';
import { importToTrace } from '../import/to-trace.js';
import { GpoError } from '../errors.js';
import { escapeJson, escapeTerminal as esc } from '../cli/escape.js';
import { formatCount } from '../cli/format.js';
import { progress } from '../cli/progress.js';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('convert dataset sequences (one thread each) into a gpo trace for train and score')
    .argument('<format>', `input format: ${SEQUENCE_FORMATS.join(', ')}`)
    .argument('<inputs...>', "files or directories (read recursively, in sorted path order); '-' reads standard input")
    .requiredOption('-o, --output <file>', 'trace file to write (.parquet); may hold {host}, {date}, {recording_id}, {comm}, {pid}')
    .option('--host <name>', "the machine the sequences were recorded on (stored as the trace's host)")
    .option('--build-id <hex>', "the build id of the program they are of (stored as the target's build id)")
    .option('--json', 'print a JSON summary')
    .action(async (format: string, inputs: string[], opts: { output: string; host?: string; buildId?: string; json?: boolean }) => {
      if (!isSequenceFormat(format)) throw new GpoError(`unknown format '${format}' (expected one of: ${SEQUENCE_FORMATS.join(', ')})`);
      const status = progress('import');
      status.note(`reading ${format} sequences`);
      const result = await importToTrace(format, inputs, opts.output, { host: opts.host, buildId: opts.buildId });
      status.finish();
      for (const warning of result.warnings) process.stderr.write(`gpo: warning: ${esc(warning)}\n`);
      process.stdout.write(
        opts.json ? escapeJson(result) : `imported ${formatCount(result.sequences)} sequences, ${formatCount(result.rows)} syscalls to ${esc(result.output)}\n`,
      );
    });
}
