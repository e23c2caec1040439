// A recording session: checks, attaches the recorder to a running process or to a command it starts,
// writes batches to the trace as they arrive, and closes into a Parquet file with complete metadata.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { GpoError } from '../errors.js';
import { type NativeBatchWritten, type NativeFinalStats, type NativeRecorder, type RecorderHook } from '../native/addon.js';
import { type MemoryHolder, type TraceMetadata } from '../trace/metadata.js';
import { TRACE_SCHEMA_VERSION } from '../trace/schema.js';
import { RecordingOutput, type Rotation } from '../trace/recording-output.js';
import { GPO_VERSION } from '../version.js';
import { readBuildId } from './elf.js';
import { DEFAULT_LIBCALLS, type LibcallSpec, resolveLibcalls } from './libcalls.js';
import { hostInfo, loaderEnv, readProcess, sha256File } from './target.js';
import { type CheckedRequest, checkRecordingRequest } from './request.js';
import { describeEnding, LaunchedTree, type TreeEnding } from './launched-tree.js';
import { TreeCgroup } from './tree-cgroup.js';
import { findMemoryHolders } from './memory-holders.js';
import { readPreloadFile } from './preload-file.js';
import { withMachineId } from './host.js';
import { loadRecorder } from './recorder-load.js';

export { CONSUMER_NICE, DEFAULT_RING_BUFFER_BYTES } from './recorder-load.js';

/** How long the tree gpo launched gets to exit after SIGTERM when gpo stops, before it is killed with SIGKILL. */
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
  /** Called once the programs are attached and the target is followed (attached: with who already held
   * its memory, see memory-holders.ts; launched: why the tree is ended only while gpo lives, should no cgroup
   * guard it, see tree-cgroup.ts). */
  onStarted?: (target: { pid: number; comm: string; memoryHolders?: MemoryHolder[]; unguarded?: string }) => void;
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
  /** A segmented trace: `output` becomes a folder of parts (src/trace/segment-layout.ts). */
  rotation?: Rotation;
  /** The recorder, already loading with these options (loadRecorder): gpo record starts it before the
   * session's modules load, once checkRecordingRequest has passed (given here as `checked`). Made here when
   * not given. */
  recorder?: NativeRecorder;
  checked?: CheckedRequest;
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
  /** What gpo ended of the tree it launched when recording stopped, and its cgroup if it could not be removed,
   * in one line (null: nothing). */
  ended: string | null;
}

function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

/** What gpo ended of the tree it launched, and a cgroup of it left behind, in one line; null: nothing to say. */
function endingLine(ending: TreeEnding | null, cgroupLeft: string | null): string | null {
  const said = [ending && ending.ended.length + ending.survivors.length > 0 ? describeEnding(ending) : null, cgroupLeft].filter((s) => s !== null);
  return said.length > 0 ? said.join('; ') : null;
}

/** What gpo ended of the tree it launched: the target's strongest signal, and the one line that says it all. */
type Ended = Pick<RecordingSummary, 'targetSignal' | 'ended'>;

/** What prepare() found out before anything runs. */
interface PreparedTarget {
  launcherPath: string;
  guardPath: string;
  /** The command's executable as found on PATH (launch). */
  resolvedCommand: string | null;
  /** The running process (attach). */
  attached: ReturnType<typeof readProcess> | null;
  exe: string;
  /** Its sha256, computed while recording starts. */
  exeHash: Promise<string | null>;
  libcalls: NonNullable<TraceMetadata['libcalls']>;
}

export class RecordingSession {
  private recorder!: NativeRecorder;
  private output!: RecordingOutput;
  private readonly live = new Set<number>();
  private child: ChildProcess | null = null;
  /** The processes gpo started (launch mode), and their ending once begun. */
  private tree: LaunchedTree | null = null;
  private ending: Promise<TreeEnding> | null = null;
  /** The cgroup that ends the launched tree should gpo itself be killed (launch mode, where cgroup v2 serves). */
  private cgroup: TreeCgroup | null = null;
  private targetExitCode: number | null = null;
  private stopReason: string | null = null;
  private stopRequested!: (reason: string) => void;
  private readonly stopped: Promise<string>;
  private batchError: unknown = null;
  /** Why stopping was asked for while a launched target is given time to exit. */
  private pendingReason: string | null = null;
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

  /** Asks the session to stop (signal, duration, a write error). gpo ends what it started: the tree it
   * launched gets SIGTERM, and SIGKILL what is left of it 3 s later; recording goes on until then. */
  requestStop(reason: string): void {
    if (this.tree) {
      this.pendingReason ??= reason;
      void this.endTree().then(() => this.stopRequested(this.pendingReason!));
      return;
    }
    this.stopRequested(this.pendingReason ?? reason);
  }

  /** Ends the launched tree once (see launched-tree.ts); exits of killed processes get time to reach the trace. */
  private endTree(): Promise<TreeEnding> {
    this.ending ??= this.tree!.end(LAUNCHED_EXIT_GRACE_MS).then(async (ending) => {
      if (ending.ended.some((e) => e.signal === 'SIGKILL'))
        for (const deadline = Date.now() + KILLED_EXIT_WAIT_MS; this.live.size > 0 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
      this.tree!.reapOrphans(this.child!.pid!);
      return ending;
    });
    return this.ending;
  }

  async run(): Promise<RecordingSummary> {
    try {
      return await this.record();
    } catch (err) {
      // The output is given back if nothing was recorded; a stream with rows stays for gpo info.
      await this.output?.abandon();
      const ending = this.tree ? await this.endTree() : null;
      const left = await this.releaseCgroup();
      const said = endingLine(ending, left);
      if (said !== null && err instanceof GpoError && !this.batchError) throw new GpoError(`${err.message}; ${said}`);
      throw err;
    }
  }

  /** The steps of a recording, in order. */
  private async record(): Promise<RecordingSummary> {
    const target = await this.prepare();
    const cpuAtStart = process.cpuUsage();
    const metadata = this.startMetadata(target);
    if (this.options.command) await this.guardTree(metadata, target);
    this.startTarget(metadata, target);
    const done = this.startRecorder(metadata, target);
    const timers = this.armTimers();

    const reason = await this.stopped;
    const ending = this.tree ? await this.endTree() : null;
    const left = await this.releaseCgroup();
    for (const t of timers) clearInterval(t);
    this.recorder.stop();
    const stats = await done;
    this.recorder.close();

    const ended = this.endMetadata(metadata, stats, reason, await target.exeHash, cpuAtStart, ending, left);
    return this.close(metadata, stats, reason, ended);
  }

  /** Checks the request and the machine, takes the output, identifies the target and loads the recorder
   * with its library-call probes: everything that can fail before anything runs. */
  private async prepare(): Promise<PreparedTarget> {
    const o = this.options;
    const { resolvedCommand, launcherPath, guardPath } = o.checked ?? checkRecordingRequest({ ...o, segmented: o.rotation !== undefined });
    // Creating the stream takes the output: a second recording to it is refused here, before anything runs.
    this.output = new RecordingOutput(o.output, o.rotation ?? null, o.convert !== false);
    const attached = o.pid !== undefined ? readProcess(o.pid) : null;
    const exe = resolvedCommand ?? attached!.exe;
    const exeHash = sha256File(exe);

    // Found while the programs load (reading ELF files); attached once they are loaded.
    const wantedLibcalls = o.syscallsOnly ? null : this.resolveLibcalls(attached ? o.pid! : null);
    const recorder = o.recorder ?? loadRecorder(o);
    try {
      await recorder.ready();
    } catch (err) {
      throw new GpoError((err as Error).message);
    }
    this.recorder = recorder;

    const libcalls = wantedLibcalls ? this.attachLibcalls(wantedLibcalls) : { attached: [], failed: [] };
    return { launcherPath, guardPath, resolvedCommand, attached, exe, exeHash, libcalls };
  }

  /** The metadata known at the start (the stream's header). */
  private startMetadata(target: PreparedTarget): TraceMetadata {
    const o = this.options;
    const { attached, exe } = target;
    const startNs = monotonicNs();
    const wallOffset = BigInt(Date.now()) * 1_000_000n - startNs;
    return {
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
        preload_file: readPreloadFile(),
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
      libcalls: target.libcalls,
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
  }

  /** Makes the cgroup whose guardian ends the tree about to be launched should gpo itself be killed
   * (tree-cgroup.ts), before the launcher exists; where there can be none, says why in the metadata. */
  private async guardTree(metadata: TraceMetadata, target: PreparedTarget): Promise<void> {
    const cgroup = await TreeCgroup.create(target.guardPath);
    if (typeof cgroup === 'string') {
      metadata.tree_guard = { cgroup: null, problem: cgroup };
      return;
    }
    this.cgroup = cgroup;
    metadata.tree_guard = { cgroup: cgroup.dir, problem: null };
  }

  /** Once gpo has ended the tree (or nothing was launched): the guardian removes the cgroup and exits. */
  private async releaseCgroup(): Promise<string | null> {
    const cgroup = this.cgroup;
    this.cgroup = null;
    return cgroup ? cgroup.release() : null;
  }

  /** Starts the launcher of a command (held before exec) or checks the attached process is still the one
   * identified; writes the stream's header and follows the target. */
  private startTarget(metadata: TraceMetadata, target: PreparedTarget): void {
    const o = this.options;
    const { attached } = target;
    if (o.command) {
      LaunchedTree.prepare();
      // The launcher waits for one byte on fd 3 before it execs CMD; we set the pid and attach first.
      this.child = spawn(target.launcherPath, ['3', target.resolvedCommand!, ...o.command.slice(1)], {
        stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
        argv0: o.command[0],
      });
      const pid = this.child.pid;
      if (pid === undefined) throw new GpoError(`cannot start ${o.command[0]}`);
      this.tree = new LaunchedTree(pid, this.cgroup ? [this.cgroup.guardianPid] : []);
      // Into the tree's cgroup before it execs: from then on no process of the tree can be outside it.
      const refused = this.cgroup?.adopt(pid);
      if (refused !== undefined) {
        metadata.tree_guard = { cgroup: null, problem: refused };
        void this.releaseCgroup();
      }
      metadata.target.pid = pid;
      metadata.target.comm = o.command[0].split('/').pop()!.slice(0, 15);
      this.child.on('exit', (code, signal) => {
        this.targetExitCode = code ?? 128 + (signal ? osConstants.signals[signal] : 0);
      });
      this.recorder.setLauncher(pid);
    }
    const targetPid = metadata.target.pid;
    // Who holds the target's memory goes into the header, where a live scorer reads the target from; looked
    // for again once the hooks are on (startRecorder), so that nothing opened in between is missed.
    if (attached) metadata.target.memory_holders = findMemoryHolders(targetPid);
    this.output.start(metadata);
    this.recorder.track(targetPid);
    this.live.add(targetPid);
    if (attached && readProcess(targetPid).startTicks !== attached.startTicks) throw new GpoError(`process ${targetPid} exited before recording started`);
  }

  /** Attaches the programs and starts draining, then lets a launched command exec; resolves with the
   * recorder's final counters once it has drained everything after stop(). */
  private startRecorder(metadata: TraceMetadata, { attached }: PreparedTarget): Promise<NativeFinalStats> {
    let resolveDone!: (stats: NativeFinalStats) => void;
    const done = new Promise<NativeFinalStats>((resolve) => (resolveDone = resolve));
    try {
      this.recorder.start(this.output.fd, (batch) => this.onBatch(batch), resolveDone);
    } catch (err) {
      throw new GpoError((err as Error).message);
    }
    if (this.child) {
      const control = this.child.stdio[3] as NodeJS.WritableStream;
      control.end('g');
    }
    // Once the hooks are on, a new open of the target's memory is a row: what was opened before is found here.
    const targetPid = metadata.target.pid;
    if (attached) metadata.target.memory_holders = findMemoryHolders(targetPid, metadata.target.memory_holders);
    const unguarded = metadata.tree_guard?.problem ?? undefined;
    this.options.onStarted?.({ pid: targetPid, comm: metadata.target.comm, memoryHolders: metadata.target.memory_holders, unguarded });
    return done;
  }

  /** --duration, the check for processes whose exit was lost, and the status line. */
  private armTimers(): NodeJS.Timeout[] {
    const o = this.options;
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
          const rows = this.output.rowCount;
          const c = this.recorder.counters();
          o.onStatus!({
            elapsedMs: now - startedAt,
            rows,
            eventsPerSecond: ((rows - lastRows) * 1000) / Math.max(1, now - lastAt),
            dropped: c.syscallsDropped + c.eventsDropped,
            bytes: this.output.bytesWritten,
          });
          lastRows = rows;
          lastAt = now;
        }, 500),
      );
    return timers;
  }

  /** The final metadata: end time, counters, gpo's CPU time, what gpo ended, status and why recording stopped. */
  private endMetadata(
    metadata: TraceMetadata,
    stats: NativeFinalStats,
    reason: string,
    exeSha256: string | null,
    cpuAtStart: NodeJS.CpuUsage,
    ending: TreeEnding | null,
    cgroupLeft: string | null,
  ): Ended {
    const endNs = monotonicNs();
    metadata.target.exe_sha256 = exeSha256;
    metadata.clock.end_ns = endNs.toString();
    metadata.clock.end_wall = new Date().toISOString();
    metadata.counts = {
      syscall: { rows: stats.syscallRows, dropped: stats.syscallsDropped },
      lifecycle: { rows: stats.lifecycleRows, dropped: stats.eventsDropped },
    };
    metadata.syscalls_dropped_by_nr = stats.syscallsDroppedByNr;
    metadata.truncated = { exec_path: stats.pathTruncated, exec_argv: stats.argvTruncated, act_path: stats.nameTruncated, exec_env: stats.envUnscanned };
    const cpu = process.cpuUsage(cpuAtStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    metadata.recorder = { cpu_s: cpuSeconds, rows_per_cpu_s: cpuSeconds > 0 ? Math.round(stats.rows / cpuSeconds) : null };
    if (stats.recordsRejected > 0) metadata.counts.rejected = { rows: 0, dropped: stats.recordsRejected };
    if (this.unwrittenRows > 0) metadata.counts.not_written = { rows: 0, dropped: this.unwrittenRows };
    const targetSignal = ending?.ended.find((e) => e.pid === metadata.target.pid)?.signal ?? null;
    if (targetSignal) metadata.target_signal = targetSignal;
    if (ending && ending.ended.length > 0) metadata.ended = ending.ended;
    if (ending && ending.survivors.length > 0) metadata.not_ended = ending.survivors;
    const ended = endingLine(ending, cgroupLeft);
    metadata.status = this.batchError ? 'failed' : 'complete';
    metadata.stop_reason = reason;
    return { targetSignal, ended };
  }

  /** Ends the trace with the final metadata, or, after a write error, ends the stream and says what was lost. */
  private async close(metadata: TraceMetadata, stats: NativeFinalStats, reason: string, { targetSignal, ended }: Ended): Promise<RecordingSummary> {
    if (this.batchError) {
      // The final counters end the stream: a full disk loses only the torn batch (cut first, which gives
      // its space back).
      const endError = await this.output.fail(metadata);
      const counted = endError ? `; the final counters could not be written (${endError})` : '; the counters are in the stream';
      throw new GpoError(
        `${(this.batchError as Error).message}: recording stopped, ${this.unwrittenRows} rows not written${ended ? `; ${ended}` : ''}${counted}`,
      );
    }
    // What is left of the Parquet file is encoded from the journal, which stays (crash-safe) until the
    // file is published; the final counters end the journal too, so a failed write still leaves them.
    const written = await this.output.finish(metadata);
    return {
      output: this.options.output,
      metadata: written,
      rows: stats.rows,
      dropped: stats.syscallsDropped + stats.eventsDropped,
      stopReason: reason,
      targetExitCode: this.targetExitCode,
      targetSignal,
      ended,
    };
  }

  /** The library functions to watch (the defaults and --libcall) in the files the target uses. */
  private resolveLibcalls(pid: number | null): ReturnType<typeof resolveLibcalls> {
    return resolveLibcalls([...DEFAULT_LIBCALLS, ...(this.options.libcalls ?? [])], pid);
  }

  // Default functions that cannot be found are noted; the user's own must all attach.
  private attachLibcalls({ resolved, missing }: ReturnType<typeof resolveLibcalls>): NonNullable<TraceMetadata['libcalls']> {
    const extra = this.options.libcalls ?? [];
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
      this.batchError ??= new GpoError(`cannot write ${this.output.shown(this.output.journalPath)}: ${batch.error}`);
      this.unwrittenRows += batch.rows;
      this.requestStop('error');
    }
    this.output.appended(batch);
    if (batch.error === undefined && this.output.full()) this.output.rotate((fd) => this.recorder.redirect(fd));
    this.options.onBatch?.(this.output.journalPath);
    // Keeps the set of followed processes, to stop when the last one has exited.
    if (this.options.followChildren) for (const pid of batch.forked) this.live.add(pid);
    for (const pid of batch.exited) this.live.delete(pid);
    if (this.live.size === 0) this.stopRequested(this.pendingReason ?? 'target-exited');
  }

  // A lost exit record must not keep the recording open forever.
  private pruneDeadProcesses(): void {
    if (this.child?.pid !== undefined) this.tree?.reapOrphans(this.child.pid);
    for (const pid of this.live) {
      if (!existsSync(`/proc/${pid}`)) this.live.delete(pid);
      else if (this.child?.pid === pid && this.targetExitCode !== null) this.live.delete(pid);
    }
    if (this.live.size === 0) this.stopRequested(this.pendingReason ?? 'target-exited');
  }
}
