// Entry point: registers one subcommand per file in src/commands and turns GpoError into a one-line message.
import { Command, CommanderError } from 'commander';
import { escapeTerminal } from './cli/escape.js';
import { GpoError } from './errors.js';
import { GPO_VERSION } from './version.js';
import { registerCommands } from './commands/index.js';

const program = new Command('gpo')
  .description('gpo, the game process observer: record, train on and score what a process does and what is done to it')
  .version(GPO_VERSION)
  .exitOverride();

function fail(err: unknown): never {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  const message = err instanceof GpoError ? err.message : err instanceof Error ? err.message : String(err);
  // gpo's messages quote input (file names, a trace's lines): escaped whole, so they stay one inert line.
  // Other errors show their first line only.
  process.stderr.write(`gpo: ${escapeTerminal(err instanceof GpoError ? message : message.split('\n')[0]!)}\n`);
  if (process.env.GPO_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(err instanceof GpoError ? err.exitCode : 2);
}

registerCommands(program, process.argv.slice(2))
  .then(() => program.parseAsync(process.argv))
  .catch(fail);
