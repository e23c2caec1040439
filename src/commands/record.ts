// gpo record: records a running process (--pid) or a command it starts (-- CMD) into a Parquet trace.
import { type Command, InvalidArgumentError } from 'commander';
import type { RecordOptions, RecordingStatus } from '../capture/session.js';
import { DEFAULT_RING_BUFFER_BYTES, loadRecorder } from '../capture/recorder-load.js';
import { type LibcallSpec, parseLibcall } from '../capture/libcalls.js';
import { type Rotation } from '../trace/recording-output.js';
import { parsePid, recordableProcess } from '../capture/target.js';
import { heldMemoryWarning } from '../capture/memory-holders.js';
import { recordOutput } from '../capture/output.js';
import { checkRecordingRequest } from '../capture/request.js';
import { escapeTerminal } from '../cli/escape.js';
import { formatBytes, formatCount, formatDuration } from '../cli/format.js';

function seconds(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}

function pid(value: string): number {
  const n = parsePid(value);
  if (n === null) throw new InvalidArgumentError('expected a process id in decimal');
  return n;
}

function ringBufferSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 4096 || (n & (n - 1)) !== 0 || n > 1 << 30)
    throw new InvalidArgumentError('expected a power of two between 4096 and 1073741824');
  return n;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1 << 10, m: 1 << 20, g: 1 << 30, t: 2 ** 40 };
const DURATION_UNITS: Record<string, number> = { s: 1, min: 60, h: 3600, d: 86400 };

/** Bytes from 4096, 64K, 100M, 1.5G (powers of 1024; a trailing B or iB is allowed). */
function size(value: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([kmgt]?)(i?b)?$/i.exec(value);
  const bytes = m ? Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new InvalidArgumentError('expected a size such as 500K, 64M or 2G');
  return bytes;
}

/** --rotate: a size (64M) or a duration (30s, 10min, 1h, 1d). */
function rotation(value: string): { bytes: number } | { seconds: number } {
  const m = /^([0-9]+(?:\.[0-9]+)?)(s|min|h|d)$/.exec(value);
  if (m) {
    const seconds = Number(m[1]) * DURATION_UNITS[m[2]!]!;
    if (!(seconds > 0)) throw new InvalidArgumentError('expected a positive duration');
    return { seconds };
  }
  if (/^[0-9.]+m$/.test(value)) throw new InvalidArgumentError(`say ${value.slice(0, -1)}min (minutes) or ${value.slice(0, -1)}M (MiB)`);
  return { bytes: size(value) };
}

/** The segmented trace the options ask for, if any; --max-size alone closes a part every eighth of it. */
export function rotationOf(opts: Record<string, unknown>): Rotation | undefined {
  const rotate = opts.rotate as { bytes: number } | { seconds: number } | undefined;
  const maxSizeBytes = opts.maxSize as number | undefined;
  if (!rotate && maxSizeBytes === undefined) return undefined;
  return { ...(rotate ?? { bytes: Math.max(1 << 20, Math.floor(maxSizeBytes! / 8)) }), ...(maxSizeBytes !== undefined && { maxSizeBytes }) };
}

function statusLine(s: RecordingStatus): string {
  return (
    `recording ${formatDuration(s.elapsedMs)} | ${formatCount(s.eventsPerSecond)} events/s | ` +
    `${formatCount(s.rows)} rows | ${formatCount(s.dropped)} dropped | ${formatBytes(s.bytes)}`
  );
}

/** The options gpo record and gpo watch share: what to record and how. */
export function withRecordOptions(command: Command): Command {
  return command
    .argument('[cmd...]', 'command to start and record from its first instruction (after --)')
    .option('-p, --pid <pid>', 'attach to this running process instead of starting one', pid)
    .option('-d, --duration <seconds>', 'stop after this many seconds', seconds)
    .option('--no-follow-children', 'record only the target process, not the processes it starts')
    .option('--durations', "also record each syscall's duration (a second hook on every syscall)")
    .option('--ring-buffer-size <bytes>', 'kernel ring buffer size', ringBufferSize, DEFAULT_RING_BUFFER_BYTES)
    .option('--syscalls-only', 'record syscalls and process lifecycle only: no tampering, memory or library-call rows')
    .option(
      '--libcall <lib:func[:arg]>',
      'also watch calls of this library function (ARG 1 or 2: argument to record as a string); repeatable',
      (v: string, all: LibcallSpec[]) => [...all, parseLibcall(v)],
      [] as LibcallSpec[],
    )
    .option('-v, --verbose', 'show libbpf messages');
}

/** Those options as the recording session takes them. */
export function recordOptionsOf(cmd: string[], opts: Record<string, unknown>): Omit<RecordOptions, 'output'> {
  return {
    pid: opts.pid as number | undefined,
    command: cmd.length > 0 ? cmd : undefined,
    durationSeconds: opts.duration as number | undefined,
    followChildren: opts.followChildren as boolean,
    durations: (opts.durations as boolean | undefined) ?? false,
    syscallsOnly: (opts.syscallsOnly as boolean | undefined) ?? false,
    ringBufferBytes: opts.ringBufferSize as number,
    libcalls: opts.libcall as LibcallSpec[],
    verbose: opts.verbose as boolean | undefined,
  };
}

/** The recorder, loading; undefined if it cannot even start (the session then says why, in its turn). */
function startLoad(options: Omit<RecordOptions, 'output'>): ReturnType<typeof loadRecorder> | undefined {
  try {
    return loadRecorder(options);
  } catch {
    return undefined;
  }
}

export function registerRecord(program: Command): void {
  withRecordOptions(program.command('record').description('record a process: every syscall, fork, exec and exit, into a Parquet trace'))
    .option('-o, --output <file>', 'trace file to write; may hold {host}, {date}, {recording_id}, {comm}, {pid} (folders are created)', 'trace.parquet')
    .option(
      '--rotate <size|duration>',
      'write a segmented trace: OUTPUT becomes a folder of parts, a new one each SIZE of stream (64M) or DURATION (30s, 10min, 1h)',
      rotation,
    )
    .option('--max-size <size>', 'keep the parts of a segmented trace under SIZE (500M, 2G) by removing the oldest, counted in the metadata', size)
    .option('-q, --quiet', 'print nothing')
    .action(async (cmd: string[], opts) => {
      const live = !opts.quiet && process.stderr.isTTY;
      const target = opts.pid === undefined ? undefined : recordableProcess(opts.pid);
      if (target?.thread && !opts.quiet) process.stderr.write(`gpo: ${target.thread} is a thread of process ${target.pid}: recording process ${target.pid}\n`);
      const { output, recordingId } = recordOutput(opts.output, { pid: target?.pid, command: cmd });
      opts.output = output;
      const options = recordOptionsOf(cmd, opts);
      // A bad request is said before the load starts (an exit waits for a load in flight); then the kernel
      // verifies the programs while the session's modules (Arrow among them) load.
      const rotation = rotationOf(opts);
      const checked = checkRecordingRequest({ ...options, output, segmented: rotation !== undefined });
      const recorder = startLoad(options);
      const [{ RecordingSession }, { totalDropped, totalTruncated }] = await Promise.all([import('../capture/session.js'), import('../trace/metadata.js')]);
      const session = new RecordingSession({
        ...options,
        recorder,
        checked,
        output,
        recordingId,
        rotation,
        pid: target?.pid,
        onStarted: opts.quiet
          ? undefined
          : (t) => {
              process.stderr.write(`gpo: recording ${escapeTerminal(t.comm)} (pid ${t.pid}) to ${escapeTerminal(opts.output)}\n`);
              const held = heldMemoryWarning(t.memoryHolders);
              if (held) process.stderr.write(`gpo: ${escapeTerminal(held)}\n`);
              if (t.unguarded)
                process.stderr.write(`gpo: warning: ${escapeTerminal(t.unguarded)}: should gpo itself be killed, what it launched keeps running\n`);
            },
        onStatus: live ? (s) => process.stderr.write(`\r\x1b[K${statusLine(s)}`) : undefined,
      });
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => session.requestStop(signal));
      const summary = await session.run();
      if (live) process.stderr.write('\r\x1b[K');
      if (!opts.quiet) {
        const m = summary.metadata;
        const dropped = totalDropped(m);
        const lines = [
          `gpo: recorded ${formatCount(summary.rows)} rows of ${escapeTerminal(m.target.comm)} (pid ${m.target.pid}) to ${escapeTerminal(summary.output)}`,
          `gpo: stopped by ${summary.stopReason}; ${formatCount(dropped)} records dropped` +
            (totalTruncated(m) > 0 ? `; ${totalTruncated(m)} strings truncated` : ''),
        ];
        if (dropped > 0) lines.push('gpo: some records were lost: try a larger --ring-buffer-size');
        const removed = m.segment?.dropped;
        if (removed && removed.segments > 0)
          lines.push(
            `gpo: --max-size removed the ${formatCount(removed.segments)} oldest parts (${formatCount(removed.rows)} rows); ${formatCount(summary.rows - removed.rows)} rows kept`,
          );
        if (summary.ended) lines.push(`gpo: ${escapeTerminal(summary.ended)}`);
        process.stderr.write(lines.join('\n') + '\n');
      }
      // Signal handlers keep nothing alive, but a launched target's stdio pipe may: leave now.
      process.exit(0);
    });
}
