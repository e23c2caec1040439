// A status line on stderr for long commands (import, train, score, report on big traces): draws what library
// code tells its ProgressListener. Silent unless stderr is a terminal, so pipes, files and tests see
// nothing; redrawn at most every 100 ms.
import type { ProgressListener } from '../trace/progress.js';

export interface Progress extends ProgressListener {
  /** Clears the line. */
  finish(): void;
}

const QUIET: Progress = { update() {}, note() {}, finish() {} };

export function progress(label: string, options: { total?: number | null; unit?: string; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (!stream.isTTY) return QUIET;
  const started = Date.now();
  let last = 0;
  let shown = false;
  const unit = options.unit ?? 'rows';
  let known = options.total ?? null;
  const show = (line: string) => {
    stream.write(`\r\x1b[2K${line.slice(0, Math.max(20, (stream.columns || 80) - 1))}`);
    shown = true;
  };
  return {
    total(count) {
      known = count;
    },
    update(done, detail) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const total = known;
      const share = total ? ` ${Math.min(100, (100 * done) / total).toFixed(0)}%` : '';
      const counts = total ? `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}` : `${done.toLocaleString('en-US')} ${unit}`;
      const line = `${label}${share}  ${counts}  ${((now - started) / 1000).toFixed(1)} s${detail ? `  ${detail}` : ''}`;
      show(line);
    },
    note(text) {
      show(`${label}  ${text}`);
    },
    finish() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}
