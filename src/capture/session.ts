// A recording session: checks, attaches the recorder to a running process or to a command it starts,
// writes batches to the trace as they arrive, and closes into a Parquet file with complete metadata.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { GpoError } from '../errors.js';
import { preflightRecording } from '../preflight/index.js';
import { loadAddon, packageRoot, type NativeBatchWritten, type NativeFinalStats, type NativeRecorder, type RecorderHook } from '../native/addon.js';
import { type TraceMetadata } from '../trace/metadata.js';
import { BATCH_ROWS, TRACE_SCHEMA_VERSION } from '../trace/schema.js';
import { checkTraceOutput, convertIpcToParquet, ipcPathFor, TraceStreamWriter } from '../trace/writer.js';
import { GPO_VERSION } from '../version.js';
import { readBuildId } from './elf.js';
import { DEFAULT_LIBCALLS, type LibcallSpec, resolveLibcalls } from './libcalls.js';
import { hostInfo, loaderEnv, readProcess, resolveCommand, sha256File } from './target.js';
import { withMachineId } from './host.js';

// 8 MiB holds a few hundred milliseconds of a syscall storm between 1 ms drains; it is mapped twice, so
// it is also a fair part of gpo's memory.
export const DEFAULT_RING_BUFFER_BYTES = 8 << 20;
/**
 * Nice value of the recorder's consumer thread (gpo's other threads keep theirs). With a syscall storm on
 * every CPU and gpo unpinned, a consumer at the storm's priority was kept off the CPUs long enough for the
 * ring buffer to fill: bench/record's throughput run dropped 334,645 of 20 M records at nice 0, none at -10
 * (README, Performance). It only takes the CPU it needs: it sleeps between 1 ms drains.
 */
export const CONSUMER_NICE = -10;
/** How long a launched target gets to exit after SIGTERM when gpo stops, before it is killed with SIGKILL. */
const LAUNCHED_EXIT_GRACE_MS = 3000;
/** How long the exit of a target killed with SIGKILL may take to reach the trace. */
const KILLED_EXIT_WAIT_MS = 1000;

/** The hook serving each signal on this kernel (the recorder chose it), and the signals none can serve. */
export function hookMetadata(hooks: RecorderHook[]): Pick<TraceMetadata, 'hooks' | 'hooks_unavailable'> {
  const served = hooks.filter((h) => h.hook !== null).map((h) => [h.signal, h.hook!]);
  const unavailable = hooks.filter((h) => h.hook === null).map((h) => [h.signal, h.unavailable ?? 'no hook']);
  return { hooks: Object.fromEntries(served), hooks_unavailable: Object.fromEntries(unavailable) };
}

export interface RecordOptions {
  output: string;
  /** Attach to this running process... */
  pid?: number;
  /** ...or start this command and record it from its first instruction. */
  command?: string[];
  durationSeconds?: number;
  followChildren: boolean;
  durations: boolean;
  /** Only syscalls and lifecycle rows: no acts, no library calls. */
  syscallsOnly?: boolean;
  ringBufferBytes: number;
  /** Library functions to watch besides DEFAULT_LIBCALLS. */
  libcalls?: LibcallSpec[];
  verbose?: boolean;
  /** The trace's recording id (a UUID v4); drawn here when not given (the caller may need it first, for -o). */
  recordingId?: string;
  /** Called once the programs are attached and the target is followed. */
  onStarted?: (target: { pid: number; comm: string }) => void;
  /** Called about twice a second while recording. */
  onStatus?: (status: RecordingStatus) => void;
  /** Longest wait before the recorder writes a partial batch (default 200 ms; a live scorer wants less). */
  deliveryMs?: number;
  /** The same for a batch holding a row that is not a syscall: an act, a library load (default: deliveryMs). */
  eventDeliveryMs?: number;
  /** Called after each batch is appended to the stream (`streamPath`), e.g. to read it back live. */
  onBatch?: (streamPath: string) => void;
  /** false: the closed stream is left as it is, not converted to `output` (a live session's temporary trace). */
  convert?: boolean;
}

export interface RecordingStatus {
  elapsedMs: number;
  rows: number;
  eventsPerSecond: number;
  dropped: number;
  bytes: number;
}

export interface RecordingSummary {
  output: string;
  metadata: TraceMetadata;
  rows: number;
  dropped: number;
  stopReason: string;
  /** Exit status of a launched target (null when attached, or still running). */
  targetExitCode: number | null;
  /** The strongest signal gpo had to send the target it launched to end it, if any. */
  targetSignal: 'SIGTERM' | 'SIGKILL' | null;
}

function checkOutput(output: string): void {
  const dir = dirname(resolve(output));
  if (!existsSync(dir)) throw new GpoError(`cannot write ${output}: directory ${dir} does not exist`);
  checkTraceOutput(output);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new GpoError(`cannot write ${output}: directory ${dir} is not writable`);
  }
}

function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

export class RecordingSession {
  private recorder!: NativeRecorder;
  private writer!: TraceStreamWriter;
  private readonly live = new Set<number>();
  private child: ChildProcess | null = null;
  private targetExitCode: number | null = null;
  private stopReason: string | null = null;
  private stopRequested!: (reason: string) => void;
  private readonly stopped: Promise<string>;
  private batchError: unknown = null;
  /** Why stopping was asked for while a launched target is given time to exit. */
  private pendingReason: string | null = null;
  private targetSignal: 'SIGTERM' | 'SIGKILL' | null = null;
  /** Rows drained after the stream could not be written any more. */
  private unwrittenRows = 0;

  constructor(private readonly options: RecordOptions) {
    this.stopped = new Promise((resolveStop) => {
      this.stopRequested = (reason) => {
        if (this.stopReason === null) {
          this.stopReason = reason;
          resolveStop(reason);
        }
      };
    });
  }

  /** Asks the session to stop (signal, duration, a write error). gpo ends what it started: a launched
   * target gets SIGTERM, and SIGKILL if it has not exited 3 s later; recording goes on until its exit. */
  requestStop(reason: string): void {
    if (this.child && this.live.size > 0 && this.targetExitCode === null) {
      this.pendingReason ??= reason;
      if (this.targetSignal !== null) return;
      this.child.kill('SIGTERM');
      this.targetSignal = 'SIGTERM';
      setTimeout(() => {
        if (this.targetExitCode === null) {
          this.child!.kill('SIGKILL');
          this.targetSignal = 'SIGKILL';
        }
        setTimeout(() => this.stopRequested(this.pendingReason!), KILLED_EXIT_WAIT_MS).unref();
      }, LAUNCHED_EXIT_GRACE_MS).unref();
      return;
    }
    this.stopRequested(this.pendingReason ?? reason);
  }

  async run(): Promise<RecordingSummary> {
    try {
      return await this.record();
    } catch (err) {
      // The output is given back if nothing was recorded; a stream with rows stays for gpo info.
      this.writer?.abandon();
      throw err;
    }
  }

  private async record(): Promise<RecordingSummary> {
    const o = this.options;
    if ((o.pid === undefined) === (o.command === undefined || o.command.length === 0))
      throw new GpoError('give either --pid PID or -- CMD [ARGS...]');
    preflightRecording();
    checkOutput(o.output);
    // Creating the stream takes the output: a second recording to it is refused here, before anything runs.
    this.writer = new TraceStreamWriter(ipcPathFor(o.output));

    const launcherPath = join(packageRoot(), 'out', 'bin', 'gpo-launch');
    const resolvedCommand = o.command ? resolveCommand(o.command[0]) : null;
    const attached = o.pid !== undefined ? readProcess(o.pid) : null;
    if (o.command && !existsSync(launcherPath)) throw new GpoError(`launcher not built (${launcherPath} missing): run npm run build`);
    const exe = resolvedCommand ?? attached!.exe;
    const exeHash = sha256File(exe);

    const addon = loadAddon();
    try {
      this.recorder = new addon.Recorder({
        ringBufferBytes: o.ringBufferBytes,
        followChildren: o.followChildren,
        durations: o.durations,
        observeActs: !o.syscallsOnly,
        batchRows: BATCH_ROWS,
        deliveryMs: o.deliveryMs,
        eventDeliveryMs: o.eventDeliveryMs,
        consumerNice: CONSUMER_NICE,
        verbose: o.verbose ?? false,
      });
    } catch (err) {
      throw new GpoError((err as Error).message);
    }

    const libcalls = o.syscallsOnly ? { attached: [], failed: [] } : this.attachLibcalls(attached ? o.pid! : null);

    const cpuAtStart = process.cpuUsage();
    const startNs = monotonicNs();
    const wallOffset = BigInt(Date.now()) * 1_000_000n - startNs;
    const metadata: TraceMetadata = {
      gpo_version: GPO_VERSION,
      schema_version: TRACE_SCHEMA_VERSION,
      recording_id: o.recordingId ?? randomUUID(),
      target: {
        pid: o.pid ?? 0,
        comm: attached?.comm ?? '',
        exe,
        cmdline: attached?.cmdline ?? o.command!,
        exe_sha256: null,
        build_id: readBuildId(exe),
        mode: attached ? 'attach' : 'launch',
        loader_env: loaderEnv(attached ? attached.environ : process.env),
      },
      host: withMachineId(hostInfo()),
      clock: {
        wall_offset_ns: wallOffset.toString(),
        start_wall: new Date().toISOString(),
        end_wall: null,
        start_ns: startNs.toString(),
        end_ns: null,
      },
      ...hookMetadata(this.recorder.hooks()),
      libcalls,
      options: {
        follow_children: o.followChildren,
        durations: o.durations,
        syscalls_only: o.syscallsOnly ?? false,
        ring_buffer_bytes: o.ringBufferBytes,
      },
      counts: {},
      syscalls_dropped_by_nr: {},
      truncated: { exec_path: 0, exec_argv: 0 },
      status: 'recording',
      stop_reason: null,
    };

    const ipcPath = ipcPathFor(o.output);
    if (o.command) {
      // The launcher waits for one byte on fd 3 before it execs CMD; we set the pid and attach first.
      this.child = spawn(launcherPath, ['3', resolvedCommand!, ...o.command.slice(1)], {
        stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
        argv0: o.command[0],
      });
      const pid = this.child.pid;
      if (pid === undefined) throw new GpoError(`cannot start ${o.command[0]}`);
      metadata.target.pid = pid;
      metadata.target.comm = o.command[0].split('/').pop()!.slice(0, 15);
      this.child.on('exit', (code, signal) => {
        this.targetExitCode = code ?? 128 + (signal ? osConstants.signals[signal] : 0);
      });
      this.recorder.setLauncher(pid);
    }
    const targetPid = metadata.target.pid;
    this.writer.writeHeader(metadata);
    this.recorder.track(targetPid);
    this.live.add(targetPid);
    if (attached && readProcess(targetPid).startTicks !== attached.startTicks)
      throw new GpoError(`process ${targetPid} exited before recording started`);

    let resolveDone!: (stats: NativeFinalStats) => void;
    const done = new Promise<NativeFinalStats>((resolve) => (resolveDone = resolve));
    try {
      this.recorder.start(this.writer.fd, (batch) => this.onBatch(batch), resolveDone);
    } catch (err) {
      this.child?.kill('SIGKILL');
      throw new GpoError((err as Error).message);
    }
    if (this.child) {
      const control = this.child.stdio[3] as NodeJS.WritableStream;
      control.end('g');
    }
    o.onStarted?.({ pid: targetPid, comm: metadata.target.comm });

    const timers: NodeJS.Timeout[] = [];
    if (o.durationSeconds !== undefined) {
      // A timer holds at most 2^31-1 ms (24.8 days; more fires at once): longer durations re-arm it.
      const end = Date.now() + o.durationSeconds * 1000;
      const arm = (): void => {
        const left = end - Date.now();
        if (left <= 0) this.requestStop('duration');
        else timers.push(setTimeout(arm, Math.min(left, 2 ** 31 - 1)));
      };
      arm();
    }
    timers.push(setInterval(() => this.pruneDeadProcesses(), 1000));
    let lastRows = 0;
    let lastAt = Date.now();
    const startedAt = lastAt;
    if (o.onStatus)
      timers.push(
        setInterval(() => {
          const now = Date.now();
          const rows = this.writer.rowCount;
          const c = this.recorder.counters();
          o.onStatus!({
            elapsedMs: now - startedAt,
            rows,
            eventsPerSecond: ((rows - lastRows) * 1000) / Math.max(1, now - lastAt),
            dropped: c.syscallsDropped + c.eventsDropped,
            bytes: this.writer.bytesWritten,
          });
          lastRows = rows;
          lastAt = now;
        }, 500),
      );

    const reason = await this.stopped;
    for (const t of timers) clearInterval(t);
    this.recorder.stop();
    const stats = await done;
    this.recorder.close();

    const endNs = monotonicNs();
    metadata.target.exe_sha256 = await exeHash;
    metadata.clock.end_ns = endNs.toString();
    metadata.clock.end_wall = new Date().toISOString();
    metadata.counts = {
      syscall: { rows: stats.syscallRows, dropped: stats.syscallsDropped },
      lifecycle: { rows: stats.lifecycleRows, dropped: stats.eventsDropped },
    };
    metadata.syscalls_dropped_by_nr = stats.syscallsDroppedByNr;
    metadata.truncated = { exec_path: stats.pathTruncated, exec_argv: stats.argvTruncated, act_path: stats.nameTruncated };
    const cpu = process.cpuUsage(cpuAtStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    metadata.recorder = { cpu_s: cpuSeconds, rows_per_cpu_s: cpuSeconds > 0 ? Math.round(stats.rows / cpuSeconds) : null };
    if (this.unwrittenRows > 0) metadata.counts.not_written = { rows: 0, dropped: this.unwrittenRows };
    if (this.targetSignal) metadata.target_signal = this.targetSignal;
    metadata.status = this.batchError ? 'failed' : 'complete';
    metadata.stop_reason = reason;
    // The final counters end the stream too: they survive a failed conversion, and a full disk (the torn
    // batch is cut first, which gives its space back).
    const endError = this.writer.close(metadata);
    if (this.batchError) {
      const ended = this.targetSignal === 'SIGKILL' ? `; the target ignored SIGTERM and was killed with SIGKILL`
        : this.targetSignal ? `; the target was stopped with SIGTERM` : '';
      const counted = endError ? `; the final counters could not be written (${endError})` : '; the counters are in the stream';
      throw new GpoError(`${(this.batchError as Error).message}: recording stopped, ${this.unwrittenRows} rows not written${ended}${counted}`);
    }
    if (o.convert !== false) await convertIpcToParquet(ipcPath, o.output, metadata);
    return {
      output: o.output,
      metadata,
      rows: stats.rows,
      dropped: stats.syscallsDropped + stats.eventsDropped,
      stopReason: reason,
      targetExitCode: this.targetExitCode,
      targetSignal: this.targetSignal,
    };
  }

  // Default functions that cannot be found are noted; the user's own must all attach.
  private attachLibcalls(pid: number | null): NonNullable<TraceMetadata['libcalls']> {
    const extra = this.options.libcalls ?? [];
    const { resolved, missing } = resolveLibcalls([...DEFAULT_LIBCALLS, ...extra], pid);
    const wanted = new Set(extra.map((l) => `${l.library}:${l.func}`));
    const missingWanted = missing.filter((m) => wanted.has(m));
    if (missingWanted.length > 0) throw new GpoError(`--libcall ${missingWanted[0]}: no such library or function`);
    const attached: string[] = [];
    const failed = [...missing];
    for (const l of resolved) {
      const err = this.recorder.attachLibcall(l.path, l.offset, `${l.path.split('/').pop()}:${l.func}`, l.stringArg);
      if (err === undefined) attached.push(`${l.path}:${l.func}`);
      else if (wanted.has(`${l.library}:${l.func}`)) throw new GpoError(`--libcall ${l.library}:${l.func}: cannot attach: ${err}`);
      else failed.push(`${l.path}:${l.func}: ${err}`);
    }
    return { attached, failed };
  }

  private onBatch(batch: NativeBatchWritten): void {
    if (batch.error !== undefined) {
      this.batchError ??= new GpoError(`cannot write ${this.writer.path}: ${batch.error}`);
      this.unwrittenRows += batch.rows;
      this.requestStop('error');
    }
    this.writer.appended(batch.rows, batch.bytes);
    this.options.onBatch?.(this.writer.path);
    // Keeps the set of followed processes, to stop when the last one has exited.
    if (this.options.followChildren) for (const pid of batch.forked) this.live.add(pid);
    for (const pid of batch.exited) this.live.delete(pid);
    if (this.live.size === 0) this.stopRequested(this.pendingReason ?? 'target-exited');
  }

  // A lost exit record must not keep the recording open forever.
  private pruneDeadProcesses(): void {
    for (const pid of this.live) {
      if (!existsSync(`/proc/${pid}`)) this.live.delete(pid);
      else if (this.child?.pid === pid && this.targetExitCode !== null) this.live.delete(pid);
    }
    if (this.live.size === 0) this.stopRequested(this.pendingReason ?? 'target-exited');
  }

}
