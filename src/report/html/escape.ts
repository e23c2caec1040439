// Strings from the traced world in HTML: inert text (entities for & < > " ', control characters shown as
// \xNN escapes) and JSON inside <script> blocks that can never close the block or break a line.
import { escapeTerminal } from '../../cli/escape.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value: every character that could start markup or end an attribute is an entity. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** A trace string for HTML: control, separator and bidi characters made visible (as in the terminal), then entities. */
export function html(s: string): string {
  return escapeHtml(escapeTerminal(s));
}

/** JSON for a <script type="application/json"> block: no `<`, `>`, `&`, U+2028 or U+2029 left literal. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v)).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
