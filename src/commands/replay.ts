// gpo replay TRACE: the recording as strace-like lines (or JSON lines), filtered.
import { InvalidArgumentError, type Command } from 'commander';
import { formatJsonLine, formatLine, parseKinds, parseSyscallNames, parseTime, replayRows, traceClock, type ReplayFilter } from '../replay/replay.js';
import { openTrace } from '../trace/reader.js';
import { expandTraceInputs } from '../trace/inputs.js';
import { recordingOf } from '../trace/recording.js';
import { escapeTerminal as esc } from '../cli/escape.js';
import { writeStdout } from '../cli/stdout.js';

function ids(value: string, previous: Set<number> | undefined): Set<number> {
  const out = new Set(previous);
  for (const part of value.split(',')) {
    if (!/^\d+$/.test(part.trim())) throw new InvalidArgumentError('expected a number (or numbers separated by commas)');
    out.add(Number(part));
  }
  return out;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('print a recording like strace: time, pid/tid, comm, call, decoded arguments, result')
    .argument('<traces...>', '.parquet traces or .arrows streams, folders (every *.parquet below) or quoted globs; several: one after another')
    .option('--pid <n>', 'rows of these processes and acts toward them (repeat or use commas)', ids)
    .option('--tid <n>', 'rows of these threads and acts toward them', ids)
    .option('--syscall <names>', 'syscall rows of these syscalls (names or numbers, commas)')
    .option('--kind <kinds>', 'rows of these kinds (syscall, exec, ptrace, mmap_exec, libcall, ...; commas)')
    .option('--since <time>', 'from this time: seconds from the trace start, or an ISO time')
    .option('--until <time>', 'up to this time (inclusive): seconds from the trace start, or an ISO time')
    .option('--json', 'one JSON object per line (with several traces, each names its recording_id)')
    .action(async (args: string[], opts: ReplayFlags) => {
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
        throw err;
      });
      const paths = expandTraceInputs(args);
      for (const path of paths) await replayTrace(path, opts, paths.length > 1);
    });
}

type ReplayFlags = { pid?: Set<number>; tid?: Set<number>; syscall?: string; kind?: string; since?: string; until?: string; json?: boolean };

/** One trace's lines; with several traces, a header line before each (text) or the recording id first in
 * every object (JSON). */
async function replayTrace(path: string, opts: ReplayFlags, several: boolean): Promise<void> {
  const trace = await openTrace(path);
  const clock = traceClock(trace);
  const recording = several ? await recordingOf(trace) : null;
  if (recording && !opts.json) await writeStdout(`== ${esc(path)} (recording ${recording.id}) ==\n`);
  const tag = recording && opts.json ? `{"recording_id":${JSON.stringify(recording.id)},` : null;
  const filter: ReplayFilter = {
    pids: opts.pid,
    tids: opts.tid,
    syscalls: opts.syscall === undefined ? undefined : parseSyscallNames(opts.syscall),
    kinds: opts.kind === undefined ? undefined : parseKinds(opts.kind),
    sinceNs: opts.since === undefined ? undefined : parseTime(opts.since, clock),
    untilNs: opts.until === undefined ? undefined : parseTime(opts.until, clock),
  };
  const format = opts.json ? formatJsonLine : formatLine;
  for await (const rows of replayRows(trace, filter)) {
    let text = '';
    for (const row of rows) text += tag ? `${tag}${format(row, clock).slice(1)}\n` : `${format(row, clock)}\n`;
    await writeStdout(text);
  }
}
