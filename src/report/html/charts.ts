// Small generic charts as inline SVG strings (line and bar charts, HTML tables) for the notebooks and
// anywhere else a picture of numbers is wanted without a charting library. Labels are escaped.
import { html } from './escape.js';

export interface LineSeries {
  label: string;
  points: readonly (readonly [number, number])[];
  colour?: string;
}

export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  xMax?: number;
  yMax?: number;
  /** Draw the y = x diagonal (ROC curves). */
  diagonal?: boolean;
  /** Step lines instead of straight segments. */
  step?: boolean;
  /** Where the legend sits (default top right; bottom right suits ROC curves). */
  legend?: 'top-right' | 'bottom-right';
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#9333ea', '#0891b2', '#db2777', '#64748b'];
const FONT = 'font-family="system-ui,sans-serif" font-size="11" fill="#475569"';

const n = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(1));

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * power >= value - 1e-12) return m * power;
  return 10 * power;
}

const label = (v: number): string => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3)).toString());

export function lineChart(series: readonly LineSeries[], options: LineChartOptions = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 260;
  const left = 64;
  const right = 16;
  const top = options.title ? 28 : 12;
  const bottom = height - 40;
  const all = series.flatMap((s) => s.points);
  const xMax = options.xMax ?? niceMax(Math.max(0, ...all.map((p) => p[0])));
  const yMax = options.yMax ?? niceMax(Math.max(0, ...all.map((p) => p[1])));
  const x = (v: number) => left + (v / xMax) * (width - left - right);
  const y = (v: number) => bottom - (v / yMax) * (bottom - top);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  ];
  if (options.title) parts.push(`<text x="${left}" y="16" ${FONT} font-size="13" font-weight="600" fill="#0f172a">${html(options.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const yv = (yMax * i) / 4;
    const xv = (xMax * i) / 4;
    parts.push(
      `<line x1="${left}" y1="${n(y(yv))}" x2="${width - right}" y2="${n(y(yv))}" stroke="#e2e8f0"/><text x="${left - 6}" y="${n(y(yv) + 4)}" text-anchor="end" ${FONT}>${label(yv)}</text>`,
    );
    parts.push(
      `<line x1="${n(x(xv))}" y1="${top}" x2="${n(x(xv))}" y2="${bottom}" stroke="#f1f5f9"/><text x="${n(x(xv))}" y="${bottom + 14}" text-anchor="middle" ${FONT}>${label(xv)}</text>`,
    );
  }
  if (options.diagonal)
    parts.push(
      `<line x1="${x(0)}" y1="${y(0)}" x2="${n(x(Math.min(xMax, yMax)))}" y2="${n(y(Math.min(xMax, yMax)))}" stroke="#94a3b8" stroke-dasharray="4 3"/>`,
    );
  if (options.xLabel) parts.push(`<text x="${(left + width - right) / 2}" y="${height - 6}" text-anchor="middle" ${FONT}>${html(options.xLabel)}</text>`);
  if (options.yLabel)
    parts.push(
      `<text x="12" y="${(top + bottom) / 2}" transform="rotate(-90 12 ${(top + bottom) / 2})" text-anchor="middle" ${FONT}>${html(options.yLabel)}</text>`,
    );
  series.forEach((s, i) => {
    const colour = s.colour ?? PALETTE[i % PALETTE.length]!;
    let d = '';
    s.points.forEach(([px, py], j) => {
      if (j > 0 && options.step) d += `L${n(x(px))} ${n(y(s.points[j - 1]![1]))}`;
      d += `${j === 0 ? 'M' : 'L'}${n(x(px))} ${n(y(py))}`;
    });
    parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.8"/>`);
    const ly = options.legend === 'bottom-right' ? bottom - 8 - (series.length - i) * 16 : top + 4 + i * 16;
    parts.push(
      `<rect x="${width - right - 170}" y="${ly}" width="10" height="10" fill="${colour}"/><text x="${width - right - 155}" y="${ly + 9}" ${FONT}>${html(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

export interface Bar {
  label: string;
  value: number;
  colour?: string;
  /** Text after the value. */
  note?: string;
}

export function barChart(bars: readonly Bar[], options: { title?: string; unit?: string; width?: number } = {}): string {
  const width = options.width ?? 720;
  const rowHeight = 20;
  const left = 170;
  const top = options.title ? 28 : 8;
  const height = top + bars.length * rowHeight + 8;
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const plot = width - left - 190;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  ];
  if (options.title) parts.push(`<text x="8" y="16" ${FONT} font-size="13" font-weight="600" fill="#0f172a">${html(options.title)}</text>`);
  bars.forEach((b, i) => {
    const y = top + i * rowHeight;
    const w = Math.max(1, (b.value / max) * plot);
    parts.push(`<text x="${left - 8}" y="${y + 14}" text-anchor="end" ${FONT}>${html(b.label.length > 26 ? `${b.label.slice(0, 25)}…` : b.label)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 3}" width="${n(w)}" height="${rowHeight - 6}" rx="2" fill="${b.colour ?? '#60a5fa'}"/>`);
    parts.push(
      `<text x="${n(left + w + 6)}" y="${y + 14}" ${FONT}>${label(b.value)}${options.unit ? ` ${html(options.unit)}` : ''}${b.note ? ` · ${html(b.note)}` : ''}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** An HTML table of escaped cells. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (v: string | number, tag: string) =>
    `<${tag} style="text-align:${typeof v === 'number' ? 'right' : 'left'};padding:2px 10px">${html(typeof v === 'number' ? label(v) : v)}</${tag}>`;
  return `<table style="border-collapse:collapse;font-size:12px"><thead><tr>${header.map((h) => cell(h, 'th')).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v) => cell(v, 'td')).join('')}</tr>`)
    .join('')}</tbody></table>`;
}
