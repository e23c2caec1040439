// gpo query's output. Query results hold traced strings (comm, paths, argv: attacker-chosen bytes), so
// each format makes them inert: the terminal table escapes control and bidi characters, JSON lines escape
// C1 controls and bidi overrides too (valid JSON that a terminal shows as text), CSV quotes every string.
import { escapeJson, escapeTerminal } from '../cli/escape.js';
import type { QueryResult } from './engine.js';

/** Rows a terminal table shows; the table needs every row before printing, so it stops here. */
export const TABLE_ROW_LIMIT = 1000;
const CELL_CHARS = 100;

/** One object per line, keys in column order. */
export async function* jsonLines(result: QueryResult): AsyncGenerator<string> {
  for await (const rows of result.rows) {
    let text = '';
    for (const row of rows) text += escapeJson(Object.fromEntries(result.columns.map((c, i) => [c, row[i]])), 0);
    yield text;
  }
}

/** RFC 4180: strings always quoted (quotes doubled), numbers bare, NULL an empty field, nested values as JSON. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `"${text.replace(/"/g, '""')}"`;
}

export async function* csvLines(result: QueryResult): AsyncGenerator<string> {
  yield `${result.columns.map(csvField).join(',')}\r\n`;
  for await (const rows of result.rows) {
    let text = '';
    for (const row of rows) text += `${row.map(csvField).join(',')}\r\n`;
    yield text;
  }
}

function cell(value: unknown): { text: string; cut: boolean } {
  const raw = value === null || value === undefined ? 'NULL' : typeof value === 'string' ? value : JSON.stringify(value);
  const escaped = escapeTerminal(raw);
  return escaped.length > CELL_CHARS ? { text: `${escaped.slice(0, CELL_CHARS - 1)}…`, cut: true } : { text: escaped, cut: false };
}

/** An aligned table of at most TABLE_ROW_LIMIT rows, then what was left out. */
export async function formatQueryTable(result: QueryResult): Promise<string> {
  const header = result.columns.map((c) => cell(c).text);
  const body: string[][] = [];
  let more = false;
  let cut = false;
  outer: for await (const rows of result.rows) {
    for (const row of rows) {
      if (body.length === TABLE_ROW_LIMIT) {
        more = true;
        break outer;
      }
      body.push(
        row.map((v) => {
          const c = cell(v);
          cut ||= c.cut;
          return c.text;
        }),
      );
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  out.push(`(${body.length} row${body.length === 1 ? '' : 's'}${more ? `; more not shown: add LIMIT, or use --json or --csv for every row` : ''})`);
  if (cut) out.push(`(values longer than ${CELL_CHARS} characters are cut here: --json or --csv give them whole)`);
  return `${out.join('\n')}\n`;
}
