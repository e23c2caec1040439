// One demo recording in a child process of `gpo demo` (started with fork, job as JSON in argv[2]). Why a
// child: the recorder launches the game with gpo's own stdio and environment, and the demo needs the game's
// output kept off its table and loader variables (LD_PRELOAD) set for the game alone, not for gpo.
import { RecordingSession, DEFAULT_RING_BUFFER_BYTES, type RecordingSummary } from '../capture/session.js';
import { readBaseline } from '../detectors/load-baseline.js';
import { watch } from '../watch/watch-session.js';

export interface RecordJob {
  output: string;
  command: string[];
  /** Set in this process's environment before launching: the recorder records and passes them on. */
  env: Record<string, string>;
  durationSeconds: number;
  /** With a baseline, the run is watched live (gpo watch) and each anomaly is reported as it is printed. */
  baseline?: string;
}

/** Messages to the parent: when the game starts (CLOCK_MONOTONIC ns, as a decimal string), then the end. */
export type WorkerMessage =
  | { type: 'started'; pid: number; ns: string }
  | { type: 'done'; rows: number; dropped: number; exitCode: number | null }
  /** Live: an anomaly as gpo watch printed it (detected: CLOCK_MONOTONIC ns, decimal). */
  | { type: 'alert'; kind: string; severity: string; firstNs: string; detectedNs: string }
  | { type: 'error'; message: string };

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '') as RecordJob;
  // Only after node has started: node itself must not load a preloaded cheat.
  for (const [name, value] of Object.entries(job.env)) process.env[name] = value;
  const send = (message: WorkerMessage) => process.send?.(message);
  const record = {
    output: job.output,
    command: job.command,
    durationSeconds: job.durationSeconds,
    followChildren: true,
    durations: false,
    ringBufferBytes: DEFAULT_RING_BUFFER_BYTES,
    onStarted: (target: { pid: number }) => send({ type: 'started', pid: target.pid, ns: process.hrtime.bigint().toString() }),
  };
  let summary: RecordingSummary;
  if (job.baseline === undefined) {
    const session = new RecordingSession(record);
    process.on('SIGTERM', () => session.requestStop('SIGTERM'));
    summary = await session.run();
  } else {
    ({ summary } = await watch({
      record,
      baseline: readBaseline(job.baseline),
      baselinePath: job.baseline,
      failOn: 'none',
      onAnomaly: ({ anomaly }, detectedNs) =>
        send({ type: 'alert', kind: anomaly.kind, severity: anomaly.severity, firstNs: anomaly.first_ts_ns.toString(), detectedNs: detectedNs.toString() }),
      onSession: (session) => process.on('SIGTERM', () => session.requestStop('SIGTERM')),
    }));
  }
  finish({ type: 'done', rows: summary.rows, dropped: summary.dropped, exitCode: summary.targetExitCode }, 0);
}

function finish(message: WorkerMessage, code: number): void {
  // Exit explicitly: the launched game's stdio pipes would keep this process alive.
  if (process.send) process.send(message, () => process.exit(code));
  else process.exit(code);
}

main().catch((err: unknown) => finish({ type: 'error', message: err instanceof Error ? err.message : String(err) }, 1));
