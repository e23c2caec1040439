// gpo replay TRACE: the recording as strace-like lines (or JSON lines), filtered.
import { InvalidArgumentError, type Command } from 'commander';
import { formatJsonLine, formatLine, parseKinds, parseSyscallNames, parseTime, replayRows, traceClock, type ReplayFilter } from '../replay/replay.js';
import { openTrace } from '../trace/reader.js';

function ids(value: string, previous: Set<number> | undefined): Set<number> {
  const out = new Set(previous);
  for (const part of value.split(',')) {
    if (!/^\d+$/.test(part.trim())) throw new InvalidArgumentError('expected a number (or numbers separated by commas)');
    out.add(Number(part));
  }
  return out;
}

/** Writes to stdout with backpressure; a closed pipe (`| head`) ends gpo quietly. */
async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('print a recording like strace: time, pid/tid, comm, call, decoded arguments, result')
    .argument('<trace>', 'a .parquet trace, or the .arrows stream of a recording')
    .option('--pid <n>', 'rows of these processes and acts toward them (repeat or use commas)', ids)
    .option('--tid <n>', 'rows of these threads and acts toward them', ids)
    .option('--syscall <names>', 'syscall rows of these syscalls (names or numbers, commas)')
    .option('--kind <kinds>', 'rows of these kinds (syscall, exec, ptrace, mmap_exec, libcall, ...; commas)')
    .option('--since <time>', 'from this time: seconds from the trace start, or an ISO time')
    .option('--until <time>', 'up to this time (inclusive): seconds from the trace start, or an ISO time')
    .option('--json', 'one JSON object per line')
    .action(async (path: string, opts: { pid?: Set<number>; tid?: Set<number>; syscall?: string; kind?: string; since?: string; until?: string; json?: boolean }) => {
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
        throw err;
      });
      const trace = await openTrace(path);
      const clock = traceClock(trace);
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
        for (const row of rows) text += `${format(row, clock)}\n`;
        await write(text);
      }
    });
}
