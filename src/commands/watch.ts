// gpo watch --baseline B (-- CMD | --pid PID): records as gpo record does and prints anomalies as they are
// found, scored by the detectors of gpo score; at the end the verdict. Exit 0 clean, 1 anomalies at or
// above --fail-on, 2 error.
import type { Command } from 'commander';
import { recordOutput } from '../capture/output.js';
import { recordableProcess } from '../capture/target.js';
import { heldMemoryWarning } from '../capture/memory-holders.js';
import { escapeTerminal as esc } from '../cli/escape.js';
import { loadedWithAllowFile } from '../detectors/allow-file.js';
import { readBaseline } from '../detectors/load-baseline.js';
import type { Severity } from '../detectors/anomaly.js';
import { formatVerdict } from '../score/format-report.js';
import { anomalyJson, anomalyLine, verdictJson } from '../watch/live-output.js';
import { watch } from '../watch/watch-session.js';
import { recordOptionsOf, withRecordOptions } from './record.js';
import { severity } from './score.js';

export function registerWatch(program: Command): void {
  withRecordOptions(program.command('watch').description('record a process and print anomalies against a baseline as they happen, then a verdict'))
    .requiredOption('-b, --baseline <file>', 'baseline written by gpo train')
    .option('--allow <file>', 'user exceptions: acts, libraries, children, loader variables allowed on top of the baseline (docs/baseline.md)')
    .option(
      '-o, --output <file>',
      'also keep the trace here; may hold {host}, {date}, {recording_id}, {comm}, {pid} (default: a temporary trace, removed at the end)',
    )
    .option('--json', 'one JSON object per line: each anomaly, then the verdict')
    .option('--fail-on <severity>', 'exit 1 when an anomaly is at least this severe (low, medium, high, none)', severity, 'high')
    .action(async (cmd: string[], opts) => {
      const baseline = readBaseline(opts.baseline);
      const loaded = opts.allow === undefined ? baseline : loadedWithAllowFile(baseline, opts.allow);
      const target = opts.pid === undefined ? undefined : recordableProcess(opts.pid);
      if (target?.thread) process.stderr.write(`gpo: ${target.thread} is a thread of process ${target.pid}: watching process ${target.pid}\n`);
      const kept = opts.output === undefined ? undefined : recordOutput(opts.output, { pid: target?.pid, command: cmd });
      const recording: string | null = kept?.output ?? null;
      const result = await watch({
        record: {
          ...recordOptionsOf(cmd, opts),
          output: kept?.output,
          recordingId: kept?.recordingId,
          pid: target?.pid,
          onStarted: (t) => {
            process.stderr.write(`gpo: watching ${esc(t.comm)} (pid ${t.pid})${recording ? `, recording to ${esc(recording)}` : ''}\n`);
            const held = heldMemoryWarning(t.memoryHolders);
            if (held) process.stderr.write(`gpo: ${esc(held)}\n`);
            if (t.unguarded) process.stderr.write(`gpo: warning: ${esc(t.unguarded)}: should gpo itself be killed, what it launched keeps running\n`);
          },
        },
        baseline: loaded,
        baselinePath: opts.baseline,
        allowPath: opts.allow,
        failOn: opts.failOn as Severity | 'none',
        onAnomaly: (found, detectedNs, { wallOffsetNs, recordingId }) =>
          process.stdout.write(opts.json ? anomalyJson(found, detectedNs, wallOffsetNs, recordingId, recording) : anomalyLine(found, detectedNs, wallOffsetNs)),
        onSession: (session) => {
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => session.requestStop(signal));
        },
      });
      const { report, summary } = result;
      if (summary.ended) process.stderr.write(`gpo: ${esc(summary.ended)}\n`);
      if (opts.json) process.stdout.write(verdictJson(report, recording));
      else {
        for (const w of report.warnings) process.stdout.write(`warning: ${esc(w)}\n`);
        if (report.program_mismatch) process.stdout.write(`warning: ${esc(report.program_mismatch)}\n`);
        process.stdout.write(`${formatVerdict(report)}\n`);
      }
      // A launched target's stdio pipe may keep the process alive: leave now, once stdout is written.
      process.stdout.write('', () => process.exit(report.exit_code));
    });
}
