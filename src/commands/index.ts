// One file per command; each exports a register function that adds its subcommand. Only the command asked
// for is loaded: each brings its own libraries (Arrow, Parquet, DuckDB, the recorder), and loading them all
// cost every run of gpo about half a second. Help and unknown names load every command; --version none.
import type { Command } from 'commander';

type Register = (program: Command) => void;

/** In the order `gpo --help` lists them. */
const COMMANDS: Record<string, () => Promise<Register>> = {
  record: async () => (await import('./record.js')).registerRecord,
  info: async () => (await import('./info.js')).registerInfo,
  doctor: async () => (await import('./doctor.js')).registerDoctor,
  eval: async () => (await import('./eval.js')).registerEval,
  import: async () => (await import('./import.js')).registerImport,
  train: async () => (await import('./train.js')).registerTrain,
  score: async () => (await import('./score.js')).registerScore,
  watch: async () => (await import('./watch.js')).registerWatch,
  replay: async () => (await import('./replay.js')).registerReplay,
  query: async () => (await import('./query.js')).registerQuery,
  report: async () => (await import('./report.js')).registerReport,
  demo: async () => (await import('./demo.js')).registerDemo,
};

/** Registers the command named by `args` (the arguments after `gpo`), or every command when none is. */
export async function registerCommands(program: Command, args: readonly string[]): Promise<void> {
  const name = args.find((arg) => !arg.startsWith('-'));
  if (name === undefined && (args.includes('--version') || args.includes('-V'))) return;
  const wanted = name !== undefined && Object.hasOwn(COMMANDS, name) ? [name] : Object.keys(COMMANDS);
  for (const register of await Promise.all(wanted.map((command) => COMMANDS[command]!()))) register(program);
}
