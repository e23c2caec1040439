// gpo info TRACE: what a trace holds (metadata, time span, processes, threads, top syscalls, losses).
import type { Command } from 'commander';
import { expandTraceInputs } from '../trace/inputs.js';
import { openTrace } from '../trace/reader.js';
import { totalTruncated } from '../trace/metadata.js';
import { summarizeTrace, type TraceSummary } from '../trace/summary.js';
import { escapeJson, escapeTerminal as esc } from '../cli/escape.js';
import { formatBytes, formatCount, formatTable } from '../cli/format.js';
import { describeMemoryHolders } from '../capture/memory-holders.js';
import { writeStdout } from '../cli/stdout.js';

/** Signals grouped by the hook that served them: "tp_btf/sys_exit: syscalls, ptrace; fentry/taskstats_exit: exit". */
function hooksLine(hooks: Record<string, string>): string {
  const bySection = new Map<string, string[]>();
  for (const [signal, hook] of Object.entries(hooks)) {
    const section = hook.split(' ')[0];
    bySection.set(section, [...(bySection.get(section) ?? []), signal]);
  }
  return [...bySection].map(([section, signals]) => `${section}: ${signals.join(', ')}`).join('; ') || '-';
}

function unavailableLine(unavailable: Record<string, string> | undefined): string {
  if (unavailable === undefined) return 'not recorded (trace from an older gpo)';
  const entries = Object.entries(unavailable);
  return entries.length === 0 ? 'none' : entries.map(([signal, why]) => `${signal} (${why})`).join(', ');
}

function segmentsLine(g: NonNullable<TraceSummary['segments']>): string {
  const limits = [
    g.rotate.bytes !== undefined ? `rotate at ${formatBytes(g.rotate.bytes)} of stream` : '',
    g.rotate.seconds !== undefined ? `rotate every ${g.rotate.seconds} s` : '',
    g.max_size_bytes !== undefined ? `max size ${formatBytes(g.max_size_bytes)}` : '',
  ].filter((x) => x !== '');
  const removed =
    g.removed.segments > 0
      ? `; --max-size removed the ${formatCount(g.removed.segments)} oldest parts (${formatCount(g.removed.rows)} rows not in this trace)`
      : '; no part removed';
  return `segments   ${g.parts} parts${g.journals > 0 ? ` (${g.journals} not closed: read from their journal)` : ''}, ${limits.join(', ')}${removed}`;
}

function formatSummary(s: TraceSummary): string {
  const m = s.metadata;
  const t = m.target;
  const out: string[] = [
    `trace      ${esc(s.path)} (${s.format}${s.incomplete ? ', incomplete: the recording did not close' : ''})`,
    `recording  ${s.recording.id}${s.recording.id_from === 'metadata' ? '' : " (derived from the file's sha256: the trace has no recording id)"}`,
    `target     ${esc(t.comm)} (pid ${t.pid}, ${t.mode}) ${esc(t.exe)}`,
    `command    ${esc(t.cmdline.join(' '))}`,
    `identity   build-id ${t.build_id ?? '-'}, sha256 ${t.exe_sha256 ?? '-'}`,
  ];
  if (Object.keys(t.loader_env).length > 0)
    out.push(
      `loader env ${Object.entries(t.loader_env)
        .map(([k, v]) => `${k}=${esc(v)}`)
        .join(' ')}`,
    );
  if (t.preload_file?.exists)
    out.push(
      `preload    ${esc(t.preload_file.path)}${t.preload_file.link !== null ? ` -> ${esc(t.preload_file.link)}` : ''}: ${esc(t.preload_file.entries.join(' ') || '(no entries)')}${t.preload_file.problem ? ` (${esc(t.preload_file.problem)})` : ''}`,
    );
  if (t.memory_holders?.length) out.push(`memory held at attach: ${esc(describeMemoryHolders(t.memory_holders))}`);
  out.push(
    `host       ${esc(m.host.hostname)}, kernel ${esc(m.host.kernel_release)}${m.host.machine_id ? `, machine ${esc(m.host.machine_id)}` : ''}`,
    `recorded   ${m.clock.start_wall} .. ${m.clock.end_wall ?? '?'} (${s.duration_s.toFixed(3)} s of events), stopped by ${m.stop_reason ?? '?'}`,
    `gpo        ${m.gpo_version}, trace schema ${m.schema_version}`,
    `hooks      ${esc(hooksLine(m.hooks))}`,
    `unavailable ${esc(unavailableLine(m.hooks_unavailable))}`,
    `rows       ${formatCount(s.rows)} (${Object.entries(s.rows_by_kind)
      .map(([k, n]) => `${k} ${formatCount(n)}`)
      .join(', ')})`,
    `dropped    ${formatCount(s.dropped)}` +
      Object.entries(m.counts)
        .filter(([, c]) => c !== undefined && c.dropped > 0)
        .map(([src, c]) => ` (${src} ${formatCount(c!.dropped)})`)
        .join('') +
      (totalTruncated(m) > 0 ? `, truncated strings ${totalTruncated(m)}` : ''),
    ...(s.segments ? [segmentsLine(s.segments)] : []),
    '',
    'processes',
    formatTable(
      ['pid', 'comm', 'threads', 'syscalls', 'exit', 'exe'],
      s.processes.map((p) => [p.pid, esc(p.comm), p.threads, formatCount(p.syscalls), p.exit_code ?? '-', esc(p.exe ?? '')]),
    ),
    '',
    'threads',
    formatTable(
      ['pid', 'tid', 'comm', 'syscalls'],
      s.threads.map((t) => [t.pid, t.tid, esc(t.comm), formatCount(t.syscalls)]),
    ),
    '',
    'top syscalls',
    formatTable(
      ['syscall', 'nr', 'count'],
      s.top_syscalls.map((c) => [c.name, c.nr, formatCount(c.count)]),
    ),
  );
  return out.join('\n');
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show what a trace holds: target, time span, processes, threads, top syscalls, drops')
    .argument('<traces...>', '.parquet traces or .arrows streams of recordings in progress or killed, folders (every *.parquet below) or quoted globs')
    .option('--json', 'print JSON (one object per line when there are several traces)')
    .action(async (args: string[], opts) => {
      const paths = expandTraceInputs(args);
      for (const [index, path] of paths.entries()) {
        const summary = await summarizeTrace(await openTrace(path));
        const text = opts.json ? escapeJson(summary, paths.length > 1 ? 0 : 2).trimEnd() : (index > 0 ? '\n' : '') + formatSummary(summary);
        await writeStdout(text + '\n');
      }
    });
}
