// gpo info TRACE: what a trace holds (metadata, time span, processes, threads, top syscalls, losses).
import type { Command } from 'commander';
import { openTrace } from '../trace/reader.js';
import { totalTruncated } from '../trace/metadata.js';
import { summarizeTrace, type TraceSummary } from '../trace/summary.js';
import { escapeJson, escapeTerminal as esc } from '../cli/escape.js';
import { formatCount, formatTable } from '../cli/format.js';

function formatSummary(s: TraceSummary): string {
  const m = s.metadata;
  const t = m.target;
  const out: string[] = [
    `trace      ${esc(s.path)} (${s.format}${s.incomplete ? ', incomplete: the recording did not close' : ''})`,
    `target     ${esc(t.comm)} (pid ${t.pid}, ${t.mode}) ${esc(t.exe)}`,
    `command    ${esc(t.cmdline.join(' '))}`,
    `identity   build-id ${t.build_id ?? '-'}, sha256 ${t.exe_sha256 ?? '-'}`,
  ];
  if (Object.keys(t.loader_env).length > 0)
    out.push(`loader env ${Object.entries(t.loader_env).map(([k, v]) => `${k}=${esc(v)}`).join(' ')}`);
  out.push(
    `host       ${esc(m.host.hostname)}, kernel ${esc(m.host.kernel_release)}`,
    `recorded   ${m.clock.start_wall} .. ${m.clock.end_wall ?? '?'} (${s.duration_s.toFixed(3)} s of events), stopped by ${m.stop_reason ?? '?'}`,
    `gpo        ${m.gpo_version}, trace schema ${m.schema_version}`,
    `rows       ${formatCount(s.rows)} (${Object.entries(s.rows_by_kind).map(([k, n]) => `${k} ${formatCount(n)}`).join(', ')})`,
    `dropped    ${formatCount(s.dropped)}` +
      Object.entries(m.counts)
        .filter(([, c]) => c !== undefined && c.dropped > 0)
        .map(([src, c]) => ` (${src} ${formatCount(c!.dropped)})`)
        .join('') +
      (totalTruncated(m) > 0 ? `, truncated strings ${totalTruncated(m)}` : ''),
    '',
    'processes',
    formatTable(
      ['pid', 'comm', 'threads', 'syscalls', 'exit', 'exe'],
      s.processes.map((p) => [p.pid, esc(p.comm), p.threads, formatCount(p.syscalls), p.exit_code ?? '-', esc(p.exe ?? '')]),
    ),
    '',
    'threads',
    formatTable(['pid', 'tid', 'comm', 'syscalls'], s.threads.map((t) => [t.pid, t.tid, esc(t.comm), formatCount(t.syscalls)])),
    '',
    'top syscalls',
    formatTable(['syscall', 'nr', 'count'], s.top_syscalls.map((c) => [c.name, c.nr, formatCount(c.count)])),
  );
  return out.join('\n');
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show what a trace holds: target, time span, processes, threads, top syscalls, drops')
    .argument('<trace>', 'a .parquet trace, or the .arrows stream of a recording in progress or killed')
    .option('--json', 'print JSON')
    .action(async (path: string, opts) => {
      const summary = await summarizeTrace(await openTrace(path));
      process.stdout.write(opts.json ? escapeJson(summary) : formatSummary(summary) + '\n');
    });
}
