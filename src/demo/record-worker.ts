// One demo recording in a child process of `gpo demo` (started with fork, job as JSON in argv[2]). Why a
// child: the recorder launches the game with gpo's own stdio and environment, and the demo needs the game's
// output kept off its table and loader variables (LD_PRELOAD) set for the game alone, not for gpo.
import { RecordingSession, DEFAULT_RING_BUFFER_BYTES } from '../capture/session.js';

export interface RecordJob {
  output: string;
  command: string[];
  /** Set in this process's environment before launching: the recorder records and passes them on. */
  env: Record<string, string>;
  durationSeconds: number;
}

/** Messages to the parent: when the game starts (CLOCK_MONOTONIC ns, as a decimal string), then the end. */
export type WorkerMessage =
  | { type: 'started'; pid: number; ns: string }
  | { type: 'done'; rows: number; dropped: number; exitCode: number | null }
  | { type: 'error'; message: string };

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as RecordJob;
  // Only after node has started: node itself must not load a preloaded cheat.
  for (const [name, value] of Object.entries(job.env)) process.env[name] = value;
  const send = (message: WorkerMessage) => process.send?.(message);
  const session = new RecordingSession({
    output: job.output,
    command: job.command,
    durationSeconds: job.durationSeconds,
    followChildren: true,
    durations: false,
    ringBufferBytes: DEFAULT_RING_BUFFER_BYTES,
    onStarted: (target) => send({ type: 'started', pid: target.pid, ns: process.hrtime.bigint().toString() }),
  });
  process.on('SIGTERM', () => session.requestStop('SIGTERM'));
  const summary = await session.run();
  finish({ type: 'done', rows: summary.rows, dropped: summary.dropped, exitCode: summary.targetExitCode }, 0);
}

function finish(message: WorkerMessage, code: number): void {
  // Exit explicitly: the launched game's stdio pipes would keep this process alive.
  if (process.send) process.send(message, () => process.exit(code));
  else process.exit(code);
}

main().catch((err: unknown) => finish({ type: 'error', message: err instanceof Error ? err.message : String(err) }, 1));
