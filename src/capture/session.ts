// A recording session: checks, attaches the recorder to a running process or to a command it starts,
// writes batches to the trace as they arrive, and closes into a Parquet file with complete metadata.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { GpoError } from '../errors.js';
import { BTF_PATH, readPrivileges } from '../doctor/system.js';
import { loadAddon, packageRoot, type NativeBatchWritten, type NativeFinalStats, type NativeRecorder } from '../native/addon.js';
import { type TraceMetadata } from '../trace/metadata.js';
import { BATCH_ROWS, TRACE_SCHEMA_VERSION } from '../trace/schema.js';
import { convertIpcToParquet, ipcPathFor, TraceStreamWriter } from '../trace/writer.js';
import { GPO_VERSION } from '../version.js';
import { readBuildId } from './elf.js';
import { DEFAULT_LIBCALLS, type LibcallSpec, resolveLibcalls } from './libcalls.js';
import { hostInfo, loaderEnv, readProcess, resolveCommand, sha256File } from './target.js';

// 8 MiB holds a few hundred milliseconds of a syscall storm between 1 ms drains; it is mapped twice, so
// it is also a fair part of gpo's memory.
export const DEFAULT_RING_BUFFER_BYTES = 8 << 20;
/** How long a launched target gets to exit after gpo is asked to stop, before recording stops anyway. */
const LAUNCHED_EXIT_GRACE_MS = 3000;

// Which hook serves each signal. LSM and fentry hooks would see acts through kernel objects with no
// user-pointer races, but where they load is not where gpo can count on them (refused here): syscall
// tracepoints serve all, reading arguments at syscall exit and resolving procfs files, pidfds and mapped
// files from the kernel's own objects.
export const RECORDER_HOOKS = {
  syscalls: 'tp_btf/sys_exit',
  syscall_entry: 'tp_btf/sys_enter (with --durations)',
  fork: 'tp_btf/sched_process_fork',
  exec: 'tp_btf/sched_process_exec',
  exit: 'tp_btf/sched_process_exit',
  rename: 'tp_btf/task_rename',
  flush: 'tp_btf/sched_switch',
  ptrace: 'tp_btf/sys_exit (ptrace; target resolved in the caller\'s pid namespace)',
  vm_read: 'tp_btf/sys_exit (process_vm_readv)',
  vm_write: 'tp_btf/sys_exit (process_vm_writev)',
  proc_open: 'tp_btf/sys_exit (open, openat, openat2; procfs inode -> struct pid when the open succeeded, path otherwise) and tp_btf/io_uring_complete (IORING_OP_OPENAT)',
  signal: 'tp_btf/sys_exit (kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal)',
  pidfd: 'tp_btf/sys_exit (pidfd_open, pidfd_getfd)',
  perf_open: 'tp_btf/sys_exit (perf_event_open)',
  module_load: 'tp_btf/sys_exit (init_module, finit_module)',
  bpf_load: 'tp_btf/sys_exit (bpf BPF_PROG_LOAD)',
  device_open: 'tp_btf/sys_exit (opens of /dev/uinput, /dev/mem, /dev/kmem, /proc/kcore)',
  mmap_exec: 'tp_btf/sys_exit (mmap with PROT_EXEC of a file; path from the kernel file object)',
  exec_memory: 'tp_btf/sys_exit (anonymous mmap with PROT_EXEC, mprotect adding PROT_EXEC)',
  memfd_create: 'tp_btf/sys_exit (memfd_create)',
  io_uring_setup: 'tp_btf/sys_exit (io_uring_setup; io_uring operations themselves bypass syscall hooks)',
  libcall: 'uprobe (by file offset, filtered by tgid in the program)',
};

function syscallHooksOnly(): Record<string, string> {
  const { syscalls, syscall_entry, fork, exec, exit, rename, flush } = RECORDER_HOOKS;
  return { syscalls, syscall_entry, fork, exec, exit, rename, flush };
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
  /** Called once the programs are attached and the target is followed. */
  onStarted?: (target: { pid: number; comm: string }) => void;
  /** Called about twice a second while recording. */
  onStatus?: (status: RecordingStatus) => void;
  /** Longest wait before the recorder writes a partial batch (default 200 ms; a live scorer wants less). */
  deliveryMs?: number;
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
}

function checkPrivileges(): void {
  const p = readPrivileges();
  if (p.root) return;
  const needed = p.missingCapabilities.includes('CAP_SYS_ADMIN')
    ? p.missingCapabilities.filter((c) => c !== 'CAP_SYS_ADMIN')
    : [];
  if (needed.length > 0 || p.missingCapabilities.length === 3)
    throw new GpoError(`recording needs root, or CAP_BPF and CAP_PERFMON (missing: ${p.missingCapabilities.join(', ')})`);
}

function checkOutput(output: string): void {
  const dir = dirname(resolve(output));
  if (!existsSync(dir)) throw new GpoError(`cannot write ${output}: directory ${dir} does not exist`);
  if (existsSync(output) && statSync(output).isDirectory()) throw new GpoError(`cannot write ${output}: it is a directory`);
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

  /** Asks the session to stop (signal, duration). A launched target is asked to exit first. */
  requestStop(reason: string): void {
    if (this.child && this.live.size > 0 && this.targetExitCode === null) {
      this.child.kill('SIGTERM');
      setTimeout(() => this.stopRequested(reason), LAUNCHED_EXIT_GRACE_MS).unref();
      this.pendingReason ??= reason;
      return;
    }
    this.stopRequested(reason);
  }

  async run(): Promise<RecordingSummary> {
    const o = this.options;
    if ((o.pid === undefined) === (o.command === undefined || o.command.length === 0))
      throw new GpoError('give either --pid PID or -- CMD [ARGS...]');
    checkPrivileges();
    if (!existsSync(BTF_PATH)) throw new GpoError(`this kernel has no BTF (${BTF_PATH} missing): gpo needs CONFIG_DEBUG_INFO_BTF=y`);
    checkOutput(o.output);

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
      host: hostInfo(),
      clock: {
        wall_offset_ns: wallOffset.toString(),
        start_wall: new Date().toISOString(),
        end_wall: null,
        start_ns: startNs.toString(),
        end_ns: null,
      },
      hooks: o.syscallsOnly ? syscallHooksOnly() : RECORDER_HOOKS,
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
    this.writer = new TraceStreamWriter(ipcPath, metadata);
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
    if (o.durationSeconds !== undefined) timers.push(setTimeout(() => this.requestStop('duration'), o.durationSeconds * 1000));
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
    if (this.batchError) throw this.batchError;
    this.writer.close();

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
    metadata.status = 'complete';
    metadata.stop_reason = reason;
    if (o.convert !== false) await convertIpcToParquet(ipcPath, o.output, metadata);
    return {
      output: o.output,
      metadata,
      rows: stats.rows,
      dropped: stats.syscallsDropped + stats.eventsDropped,
      stopReason: reason,
      targetExitCode: this.targetExitCode,
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
      this.stopRequested('error');
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
