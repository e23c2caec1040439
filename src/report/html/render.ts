// The report as one self-contained HTML page: inline SVG charts drawn here, one small inline script (for
// linking anomalies to the charts) and one style block, both allowed by hash in a strict
// Content-Security-Policy, so the page makes no request of any kind. Every trace string goes through html().
import { createHash } from 'node:crypto';
import type { BaselineDocument } from '../../baseline/document.js';
import type { Anomaly } from '../../detectors/anomaly.js';
import type { ScoreReport } from '../../score/score-trace.js';
import type { TraceMetadata } from '../../trace/metadata.js';
import { syscallName } from '../../trace/syscalls.js';
import { escapeTerminal } from '../../cli/escape.js';
import { formatCount } from '../../cli/format.js';
import type { Lane, ReportData } from './collect.js';
import { escapeHtml, html, scriptJson } from './escape.js';

export interface ReportInput {
  tracePath: string;
  metadata: TraceMetadata;
  data: ReportData;
  baselinePath: string | null;
  baseline: BaselineDocument | null;
  score: ScoreReport | null;
}

// Chart geometry shared by every timeline, so one time is one x position in all of them.
const WIDTH = 1100;
const LEFT = 190;
const RIGHT = 20;
const PLOT = WIDTH - LEFT - RIGHT;
const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#0891b2', '#db2777', '#65a30d', '#64748b'];
// prettier-ignore
const KIND_COLOURS: Record<string, string> = {
  mmap_exec: '#2563eb', libcall: '#0891b2', exec: '#16a34a', exec_memory: '#dc2626', memfd_create: '#dc2626', io_uring_setup: '#d97706', loader_env: '#dc2626',
  ptrace: '#dc2626', vm_read: '#ea580c', vm_write: '#dc2626', proc_open: '#d97706', signal: '#9333ea', pidfd: '#9333ea',
  perf_open: '#9333ea', module_load: '#b91c1c', bpf_load: '#b91c1c', device_open: '#b45309',
};
const THREAD_LINES = 7;

const fixed = (n: number, digits = 1): string => (Number.isInteger(n) ? String(n) : n.toFixed(digits));

class Timeline {
  constructor(readonly data: ReportData) {}
  get spanS(): number {
    return Number(this.data.endNs - this.data.startNs) / 1e9;
  }
  x(ts: bigint): number {
    const f = Number(ts - this.data.startNs) / Number(this.data.endNs - this.data.startNs);
    return LEFT + Math.min(1, Math.max(0, f)) * PLOT;
  }
  binX(bin: number): number {
    return LEFT + (bin / this.data.bins) * PLOT;
  }
  /** Trace time at the start of a bin. */
  binStart(bin: number): bigint {
    return this.data.startNs + BigInt(Math.round(bin * this.data.binNs));
  }
  seconds(ts: bigint): string {
    return `+${(Number(ts - this.data.startNs) / 1e9).toFixed(3)} s`;
  }
  /** Gridlines and labels of the time axis. */
  axis(top: number, bottom: number): string {
    const span = this.spanS;
    const step = niceStep(span / 8);
    const out: string[] = [];
    for (let s = 0; s <= span + 1e-9; s += step) {
      const x = LEFT + (s / span) * PLOT;
      out.push(`<line class="grid" x1="${fixed(x)}" y1="${top}" x2="${fixed(x)}" y2="${bottom}"/>`);
      out.push(`<text class="tick" x="${fixed(x)}" y="${bottom + 14}" text-anchor="middle">${fixed(Number(s.toFixed(6)), 3)} s</text>`);
    }
    return out.join('');
  }
  /** Shaded time ranges of the anomalies, each linked to its row of the anomaly table. */
  bands(anomalies: readonly Anomaly[], top: number, bottom: number): string {
    return anomalies
      .map((a, i) => {
        const x1 = this.x(a.first_ts_ns);
        const x2 = Math.max(x1 + 3, this.x(a.last_ts_ns));
        return `<rect class="band sev-${a.severity}" data-a="${i}" x="${fixed(x1)}" y="${top}" width="${fixed(x2 - x1)}" height="${bottom - top}"><title>${html(`${a.severity} ${a.kind}: ${a.summary}`)}</title></rect>`;
      })
      .join('');
  }
}

function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * power >= value) return m * power;
  return 10 * power;
}

function svg(id: string, height: number, label: string, body: string): string {
  return `<svg id="${id}" class="chart" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${escapeHtml(label)}">${body}</svg>`;
}

function rateChart(t: Timeline, data: ReportData, anomalies: readonly Anomaly[]): { svg: string; legend: string } {
  const top = 12;
  const bottom = 232;
  const height = bottom + 24;
  const binS = data.binNs / 1e9;
  const shown = data.threads.slice(0, THREAD_LINES);
  const series = shown.map((thread, i) => ({ label: `${thread.comm} (tid ${thread.tid})`, colour: PALETTE[i]!, bins: thread.bins, total: thread.total }));
  if (data.threads.length > THREAD_LINES) {
    const rest = new Float64Array(data.bins);
    let total = 0;
    for (const thread of data.threads.slice(THREAD_LINES)) {
      total += thread.total;
      for (let b = 0; b < data.bins; b++) rest[b]! += thread.bins[b]!;
    }
    series.push({ label: `${data.threads.length - THREAD_LINES} other threads`, colour: PALETTE[THREAD_LINES]!, bins: rest, total });
  }
  const rates: number[] = [];
  for (const s of series) for (const v of s.bins) if (v > 0) rates.push(v / binS);
  rates.sort((a, b) => a - b);
  const peak = rates.at(-1) ?? 0;
  const typical = rates[Math.floor(rates.length * 0.95)] ?? 0;
  // A burst (the loader's startup, a storm) would flatten everything else on a linear axis: use a log axis then.
  const log = peak > 20 * Math.max(typical, 1);
  const max = log ? 10 ** Math.ceil(Math.log10(peak + 1)) : niceMax(peak);
  const scale = (rate: number) => (log ? Math.log10(1 + rate) / Math.log10(1 + max) : rate / max);
  const y = (rate: number) => bottom - scale(rate) * (bottom - top);
  const parts = [t.axis(top, bottom), t.bands(anomalies, top, bottom)];
  const ticks = log ? Array.from({ length: Math.round(Math.log10(max)) + 1 }, (_, i) => (i === 0 ? 0 : 10 ** i)) : [0, 1, 2, 3, 4].map((i) => (max * i) / 4);
  for (const v of ticks) {
    parts.push(
      `<line class="grid" x1="${LEFT}" y1="${fixed(y(v))}" x2="${WIDTH - RIGHT}" y2="${fixed(y(v))}"/><text class="tick" x="${LEFT - 8}" y="${fixed(y(v) + 4)}" text-anchor="end">${formatCount(v)}/s</text>`,
    );
  }
  for (const s of [...series].reverse()) {
    let d = '';
    for (let b = 0; b < data.bins; b++) d += `${b === 0 ? 'M' : 'L'}${fixed(t.binX(b + 0.5))} ${fixed(y(s.bins[b]! / binS))}`;
    parts.push(`<path class="series" d="${d}" stroke="${s.colour}"><title>${html(s.label)}</title></path>`);
  }
  parts.push(
    `<text class="axis-title" x="14" y="${(top + bottom) / 2}" transform="rotate(-90 14 ${(top + bottom) / 2})" text-anchor="middle">syscalls per second${log ? ' (log scale)' : ''}</text>`,
  );
  const legend = series
    .map(
      (s) =>
        `<span class="key"><svg width="14" height="10" aria-hidden="true"><rect width="14" height="10" rx="2" fill="${s.colour}"/></svg>${html(s.label)} <small>${formatCount(s.total)}</small></span>`,
    )
    .join('');
  return { svg: svg('chart-rates', height, 'syscall rate per thread over time', parts.join('')), legend };
}

function noveltyChart(t: Timeline, data: ReportData, anomalies: readonly Anomaly[]): string {
  const top = 10;
  const bottom = 120;
  const { windows, unseen } = data.novelty;
  const y = (share: number) => bottom - share * (bottom - top);
  const parts = [t.axis(top, bottom), t.bands(anomalies, top, bottom)];
  for (const v of [0, 0.5, 1])
    parts.push(
      `<line class="grid" x1="${LEFT}" y1="${y(v)}" x2="${WIDTH - RIGHT}" y2="${y(v)}"/><text class="tick" x="${LEFT - 8}" y="${y(v) + 4}" text-anchor="end">${v * 100}%</text>`,
    );
  let d = `M${LEFT} ${bottom}`;
  const bars: string[] = [];
  for (let b = 0; b < data.bins; b++) {
    const share = windows[b]! > 0 ? unseen[b]! / windows[b]! : 0;
    d += `L${fixed(t.binX(b))} ${fixed(y(share))}L${fixed(t.binX(b + 1))} ${fixed(y(share))}`;
    if (unseen[b]! > 0)
      bars.push(
        `<rect class="hit" x="${fixed(t.binX(b))}" y="${top}" width="${fixed(PLOT / data.bins)}" height="${bottom - top}"><title>${formatCount(unseen[b]!)} of ${formatCount(windows[b]!)} windows unseen</title></rect>`,
      );
  }
  d += `L${WIDTH - RIGHT} ${bottom}Z`;
  parts.push(`<path class="novelty" d="${d}"/>`, ...bars);
  parts.push(`<text class="axis-title" x="14" y="${(top + bottom) / 2}" transform="rotate(-90 14 ${(top + bottom) / 2})" text-anchor="middle">unseen</text>`);
  return svg('chart-novelty', bottom + 24, 'share of syscall windows not seen in the baseline, over time', parts.join(''));
}

function laneChart(id: string, label: string, t: Timeline, lanes: readonly Lane[], anomalies: readonly Anomaly[]): string {
  const laneHeight = 30;
  const top = 6;
  const bottom = top + Math.max(1, lanes.length) * laneHeight;
  const parts = [t.axis(top, bottom), t.bands(anomalies, top, bottom)];
  lanes.forEach((lane, i) => {
    const cy = top + i * laneHeight + laneHeight / 2;
    const name = lane.label.length > 24 ? `${lane.label.slice(0, 23)}…` : lane.label;
    parts.push(`<line class="lane" x1="${LEFT}" y1="${cy}" x2="${WIDTH - RIGHT}" y2="${cy}"/>`);
    parts.push(
      `<text class="lane-label" x="${LEFT - 8}" y="${cy + 4}" text-anchor="end">${html(name)}<title>${html(`${lane.label}: ${lane.rows} rows`)}</title></text>`,
    );
    for (const bin of [...lane.bins.keys()].sort((a, b) => a - b)) {
      const cell = lane.bins.get(bin)!;
      const r = Math.min(10, 3.5 + 2 * Math.log10(cell.count));
      const colour = KIND_COLOURS[cell.kinds[0]!] ?? '#475569';
      const more = cell.count > cell.labels.length ? `\n… ${cell.count - cell.labels.length} more` : '';
      const tip = `${t.seconds(t.binStart(bin))}: ${cell.count} row${cell.count === 1 ? '' : 's'}\n${cell.labels.join('\n')}${more}`;
      parts.push(
        `<circle class="mark" cx="${fixed(t.binX(bin + 0.5))}" cy="${cy}" r="${fixed(r)}" fill="${colour}"><title>${html(tip).replace(/\\x0a/g, '\n')}</title></circle>`,
      );
    }
  });
  if (lanes.length === 0) parts.push(`<text class="empty" x="${LEFT + PLOT / 2}" y="${top + laneHeight / 2 + 4}" text-anchor="middle">none recorded</text>`);
  return svg(id, bottom + 24, label, parts.join(''));
}

function syscallBars(data: ReportData, baseline: BaselineDocument | null, targetPid: number): string {
  const seconds = Math.max(1e-9, Number(data.endNs - data.startNs) / 1e9);
  const counts = baseline ? data.targetSyscallCounts : data.syscallCounts;
  const top = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 16);
  const frequency = baseline?.model.frequency;
  const perSecond = frequency ? 1e9 / frequency.options.windowNs : 1;
  const known = new Set(baseline?.model.windows.vocabulary ?? []);
  const stats = (nr: number) => frequency?.rates[String(nr)];
  let peak = 0;
  for (const [nr, count] of top) peak = Math.max(peak, count / seconds, (stats(nr)?.q99 ?? 0) * perSecond);
  const max = niceMax(peak);
  const rowHeight = 22;
  const left = 150;
  const width = 760;
  const plot = width - left - 150;
  const x = (rate: number) => left + (rate / max) * plot;
  const parts: string[] = [];
  top.forEach(([nr, count], i) => {
    const y = 8 + i * rowHeight;
    const rate = count / seconds;
    const s = stats(nr);
    const isNew = baseline !== null && !known.has(nr);
    const high = s !== undefined && rate > s.q99 * perSecond;
    const cls = isNew ? 'bar new' : high ? 'bar high' : 'bar';
    const note = isNew ? 'never seen in the baseline' : s ? `baseline median ${fixed(s.median * perSecond)}/s, 99% ${fixed(s.q99 * perSecond)}/s` : '';
    parts.push(`<text class="tick" x="${left - 8}" y="${y + 14}" text-anchor="end">${escapeHtml(syscallName(nr))}</text>`);
    parts.push(
      `<rect class="${cls}" x="${left}" y="${y + 3}" width="${fixed(Math.max(1, x(rate) - left))}" height="${rowHeight - 8}"><title>${escapeHtml(`${syscallName(nr)}: ${formatCount(count)} calls, ${fixed(rate)}/s${note ? `; ${note}` : ''}`)}</title></rect>`,
    );
    if (s) {
      parts.push(`<line class="q99" x1="${fixed(x(s.median * perSecond))}" y1="${y + 10}" x2="${fixed(x(s.q99 * perSecond))}" y2="${y + 10}"/>`);
      parts.push(
        `<line class="median" x1="${fixed(x(s.median * perSecond))}" y1="${y + 1}" x2="${fixed(x(s.median * perSecond))}" y2="${y + rowHeight - 3}"/>`,
      );
    }
    parts.push(
      `<text class="value" x="${fixed(Math.max(x(rate), s ? x(s.q99 * perSecond) : 0) + 6)}" y="${y + 14}">${fixed(rate)}/s${isNew ? ' · new' : high ? ' · above 99%' : ''}</text>`,
    );
  });
  const height = 16 + top.length * rowHeight;
  const who = baseline ? `the target process (pid ${targetPid})` : 'all processes';
  return `<svg id="chart-syscalls" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="top syscalls of ${who} against the baseline">${parts.join('')}</svg>`;
}

function anomalyTable(t: Timeline, anomalies: readonly Anomaly[]): string {
  if (anomalies.length === 0) return '<p class="empty">No anomalies.</p>';
  const rows = anomalies.map((a, i) => {
    const evidence = JSON.stringify(a.evidence, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
    return `<tr id="anomaly-${i}" class="anomaly" data-a="${i}" tabindex="0">
<td><span class="pill sev-${a.severity}">${a.severity}</span></td><td class="kind">${escapeHtml(a.kind)}</td>
<td class="num">${t.seconds(a.first_ts_ns)}${t.seconds(a.last_ts_ns) !== t.seconds(a.first_ts_ns) ? ` – ${t.seconds(a.last_ts_ns)}` : ''}</td>
<td class="num">${a.pid}/${a.tid}</td><td>${html(a.comm)}</td><td class="num">${a.count}</td>
<td>${html(a.summary)}<details><summary>evidence</summary><pre>${html(evidence).replace(/\\x0a/g, '\n')}</pre></details></td></tr>`;
  });
  return `<table class="anomalies"><thead><tr><th>severity</th><th>kind</th><th>when</th><th>pid/tid</th><th>comm</th><th>rows</th><th>what</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function actorTable(t: Timeline, data: ReportData): string {
  if (data.actors.length === 0) return '<p class="empty">No other process acted on the target.</p>';
  const rows = data.actors.map((a) => {
    const acts = [...a.acts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([act, n]) => `<li>${html(act)} <small>×${formatCount(n)}</small></li>`);
    return `<tr><td>${html(a.exe)}</td><td>${html(a.comm)}</td><td class="num">${a.pid}</td><td class="num">${a.uid ?? '?'}</td><td class="num">${t.seconds(a.first_ns)} – ${t.seconds(a.last_ns)}</td><td><ul>${acts.join('')}</ul></td></tr>`;
  });
  return `<table><thead><tr><th>actor executable</th><th>comm</th><th>pid</th><th>uid</th><th>when</th><th>what it did</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function libraryTable(t: Timeline, data: ReportData): string {
  if (data.libraries.length === 0) return '<p class="empty">No library rows.</p>';
  const rows = data.libraries.map(
    (l) =>
      `<tr><td class="num">${t.seconds(l.ts_ns)}</td><td class="num">${l.pid}/${l.tid}</td><td>${html(l.comm)}</td><td><code>${html(l.text)}</code></td></tr>`,
  );
  return `<table><thead><tr><th>when</th><th>pid/tid</th><th>comm</th><th>call</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const STYLE = `
:root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;--high:#dc2626;--medium:#d97706;--low:#2563eb}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{background:#0f172a;color:#f8fafc;padding:20px 32px}header h1{margin:0 0 4px;font-size:22px}header .sub{color:#cbd5e1;font-size:13px}
main{padding:20px 32px;max-width:1200px}section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 20px;margin:0 0 18px}
h2{font-size:16px;margin:0 0 10px}h3{font-size:13px;margin:14px 0 4px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}
.facts{display:flex;flex-wrap:wrap;gap:10px 28px;margin-top:12px}.facts div{font-size:12px;color:#94a3b8}.facts b{display:block;font-size:18px;color:#f8fafc;font-weight:600}
.verdict{display:inline-block;margin-top:10px;padding:4px 12px;border-radius:999px;font-weight:600;background:#334155}.verdict.bad{background:var(--high)}.verdict.ok{background:#16a34a}
.chart{display:block;max-width:100%;height:auto}.grid{stroke:var(--line);stroke-width:1}.tick,.value{font-size:11px;fill:var(--muted)}.axis-title{font-size:11px;fill:var(--muted)}
.series{fill:none;stroke-width:1.6;stroke-linejoin:round}.novelty{fill:#f97316;fill-opacity:.55;stroke:#ea580c;stroke-width:1}.hit{fill:transparent}
.lane{stroke:var(--line);stroke-dasharray:2 3}.lane-label{font-size:12px;fill:var(--fg)}.mark{fill-opacity:.85;stroke:#fff;stroke-width:1}.empty{color:var(--muted);fill:var(--muted);font-style:italic}
.band{fill-opacity:.13;cursor:pointer}.band.sev-high{fill:var(--high)}.band.sev-medium{fill:var(--medium)}.band.sev-low{fill:var(--low)}
.band.selected{fill-opacity:.42;stroke:#0f172a;stroke-width:1.5}
.bar{fill:#60a5fa}.bar.high{fill:var(--medium)}.bar.new{fill:var(--high)}.median{stroke:#0f172a;stroke-width:2}.q99{stroke:#0f172a;stroke-width:1;stroke-dasharray:3 2}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:6px 0 0 ${LEFT}px;font-size:12px}.key svg{margin-right:5px;vertical-align:-1px}.key small{color:var(--muted)}
table{border-collapse:collapse;width:100%;font-size:13px}th{text-align:left;font-weight:600;color:var(--muted);border-bottom:1px solid var(--line);padding:6px 8px}
td{border-bottom:1px solid var(--line);padding:6px 8px;vertical-align:top;word-break:break-word}td.kind,td.num{white-space:nowrap;font-variant-numeric:tabular-nums}td ul{margin:0;padding-left:16px}
tr.anomaly{cursor:pointer}tr.anomaly:hover{background:#f1f5f9}tr.anomaly.selected{background:#fef3c7;outline:2px solid var(--medium)}
.pill{display:inline-block;white-space:nowrap;padding:1px 8px;border-radius:999px;color:#fff;font-size:12px;font-weight:600}.pill.sev-high{background:var(--high)}.pill.sev-medium{background:var(--medium)}.pill.sev-low{background:var(--low)}
details summary{cursor:pointer;color:var(--muted);font-size:12px}pre{background:#f1f5f9;padding:8px;border-radius:6px;overflow:auto;max-height:280px;font-size:12px}
code{font-size:12px}#selection{min-height:20px;font-size:13px;color:var(--fg);margin:0 0 6px}.note{color:var(--muted);font-size:12px}
`;

const SCRIPT = `(() => {
  const anomalies = JSON.parse(document.getElementById('gpo-data').textContent).anomalies;
  const caption = document.getElementById('selection');
  function select(id, scrollTo) {
    for (const el of document.querySelectorAll('.selected')) el.classList.remove('selected');
    const a = anomalies[Number(id)];
    if (!a) return;
    for (const el of document.querySelectorAll('[data-a="' + Number(id) + '"]')) el.classList.add('selected');
    caption.textContent = a.severity + ' ' + a.kind + ' at ' + a.when + ': ' + a.summary;
    const target = document.getElementById(scrollTo === 'row' ? 'anomaly-' + Number(id) : 'timeline');
    if (target) target.scrollIntoView({ block: scrollTo === 'row' ? 'center' : 'start' });
  }
  for (const row of document.querySelectorAll('tr.anomaly')) {
    row.addEventListener('click', (event) => { if (!event.target.closest('details')) select(row.dataset.a, 'chart'); });
    row.addEventListener('keydown', (event) => { if (event.key === 'Enter') select(row.dataset.a, 'chart'); });
  }
  for (const band of document.querySelectorAll('.band')) band.addEventListener('click', () => select(band.dataset.a, 'row'));
  const hash = /^#anomaly-(\\d+)$/.exec(location.hash);
  if (hash) select(hash[1], 'row');
})();`;

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('base64');

export function renderReport(input: ReportInput): string {
  const { data, metadata, score } = input;
  const t = new Timeline(data);
  const anomalies = score?.anomalies ?? [];
  const target = metadata.target;
  const rates = rateChart(t, data, anomalies);
  const wall = metadata.clock?.start_wall
    ? `recorded ${metadata.clock.start_wall}${metadata.host?.hostname ? ` on ${metadata.host.hostname}` : ''}`
    : 'imported trace';
  const counts = score ? `${score.counts.high} high, ${score.counts.medium} medium, ${score.counts.low} low` : '';
  const verdict = score
    ? `<span class="verdict ${score.anomalies.length ? 'bad' : 'ok'}">${score.anomalies.length ? `${anomalies.length} anomal${anomalies.length === 1 ? 'y' : 'ies'}: ${counts}` : 'clean: no anomalies'}</span>`
    : '<span class="verdict">no baseline given: charts only (gpo report --baseline FILE for anomalies)</span>';
  const noveltyNote =
    data.novelty.reference === 'baseline'
      ? `Share of ${data.novelty.windowLength}-syscall windows (per thread) never seen in the baseline, per ${fixed(data.binNs / 1e6, 2)} ms bin.`
      : `No baseline: share of ${data.novelty.windowLength}-syscall windows seen for the first time in this trace.`;
  const json = scriptJson({
    anomalies: anomalies.map((a) => ({ severity: a.severity, kind: a.kind, when: t.seconds(a.first_ts_ns), summary: escapeTerminal(a.summary) })),
  });
  const csp = `default-src 'none'; script-src 'sha256-${sha256(SCRIPT)}'; style-src 'sha256-${sha256(STYLE)}'; img-src 'none'; base-uri 'none'; form-action 'none'`;
  const facts: [string, string][] = [
    ['duration', `${t.spanS.toFixed(2)} s`],
    ['rows', formatCount(data.rows)],
    ['syscalls', formatCount(data.syscalls)],
    ['threads', String(data.threads.length)],
    ['library rows', formatCount([...data.rowsByKind].filter(([k]) => ['mmap_exec', 'libcall'].includes(k)).reduce((s, [, n]) => s + n, 0))],
    ['acts by others', formatCount(data.actors.reduce((s, a) => s + [...a.acts.values()].reduce((x, y) => x + y, 0), 0))],
  ];
  const warnings = (score?.warnings ?? []).concat(score?.program_mismatch ? [score.program_mismatch] : []);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>gpo report: ${html(target.comm)} (pid ${target.pid})</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>gpo report: ${html(target.comm)} <small>pid ${target.pid}</small></h1>
<div class="sub">${html(target.exe || '(imported)')} · ${html(wall)} · trace ${html(input.tracePath)}${input.baselinePath ? ` · baseline ${html(input.baselinePath)}` : ''}</div>
<div class="facts">${facts.map(([k, v]) => `<div><b>${v}</b>${k}</div>`).join('')}</div>
${verdict}
</header>
<main>
${warnings.length ? `<section class="warnings"><h2>Warnings</h2><ul>${warnings.map((w) => `<li>${html(w)}</li>`).join('')}</ul></section>` : ''}
<section id="timeline"><h2>Timeline</h2>
<p id="selection" class="note">${anomalies.length ? 'Shaded ranges are anomalies: click one (or a row of the anomaly table) to link the two.' : ''}</p>
<h3>Syscall rate per thread</h3>${rates.svg}<div class="legend">${rates.legend}</div>
<h3>Sequence novelty</h3><p class="note">${noveltyNote}</p>${noveltyChart(t, data, anomalies)}
<h3>Library loads and library calls</h3>${laneChart('chart-libraries', 'library loads and calls over time', t, data.libraryLanes, anomalies)}
<h3>Tampering: acts of other processes, by actor</h3>${laneChart('chart-tampering', 'tampering events by actor over time', t, data.tamperLanes, anomalies)}
</section>
<section id="anomalies"><h2>Anomalies</h2>${score ? anomalyTable(t, anomalies) : '<p class="empty">No baseline given.</p>'}</section>
<section id="syscalls"><h2>Top syscalls${input.baseline ? ' against the baseline' : ''}</h2>
<p class="note">${input.baseline ? `Calls per second of the target process over the trace; black tick: the baseline's median per-second rate, dashed: up to its 99% quantile. Red: never seen in the baseline; amber: above its 99% quantile.` : 'Calls per second over the trace, all processes.'}</p>
${syscallBars(data, input.baseline, target.pid)}</section>
<section id="actors"><h2>Tampering actors</h2>${actorTable(t, data)}</section>
<section id="libraries"><h2>Library loads and calls</h2>${libraryTable(t, data)}${data.libraries.length >= 200 ? '<p class="note">First 200 rows; gpo replay --kind mmap_exec,libcall lists them all.</p>' : ''}</section>
<p class="note">gpo ${escapeHtml(metadata.gpo_version ?? '')}, trace schema ${metadata.schema_version}. Times are seconds from the start of the recording.</p>
</main>
<script type="application/json" id="gpo-data">${json}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
