// The one escaping policy for strings from the traced world (comm, paths, argv, function names, error
// messages quoting input): they are attacker-chosen bytes. Every terminal line and every JSON output goes
// through here; the HTML report builds on escapeTerminal (src/report/html/escape.ts).

/** C0 and C1 controls (ESC among them), DEL, the Unicode line/paragraph separators and bidi controls. */
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
/** What JSON.stringify leaves literal that can still act on a terminal or an editor showing the JSON. */
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** A string safe for a terminal: control characters become \xNN, separators and bidi controls \uNNNN. */
export function escapeTerminal(s: string): string {
  return s.replace(TERMINAL_UNSAFE, (c) => {
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** JSON text made inert: C1 controls, separators and bidi controls as \uNNNN escapes (still the same JSON value). */
export function inertJson(text: string): string {
  return text.replace(JSON_UNSAFE, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

/** A --json output: `value` as JSON (64-bit integers as decimal strings), inert, one trailing newline. */
export function escapeJson(value: unknown, indent: number | undefined = 2): string {
  return `${inertJson(JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v), indent))}\n`;
}
