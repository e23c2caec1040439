// The demo's output: one table row per scenario, or the same rows as JSON objects.
import { escapeJson, escapeTerminal as esc } from '../cli/escape.js';
import { formatTable } from '../cli/format.js';
import type { DemoRow } from './scenarios.js';

const SUMMARY_WIDTH = 110;

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

export function formatDemoTable(rows: readonly DemoRow[]): string {
  return `${formatTable(
    ['scenario', 'detected', 'top anomaly', 'attack to anomaly'],
    rows.map((r) => [
      r.scenario,
      r.detected,
      r.kind === '' ? r.summary : clip(`${r.kind}: ${esc(r.summary)}`, SUMMARY_WIDTH),
      r.latency_ms === null ? '-' : `${r.latency_ms.toFixed(1)} ms`,
    ]),
  )}\n`;
}

/** The rows with exactly the documented keys, in that order. */
export function demoJson(rows: readonly DemoRow[]): string {
  const plain = rows.map((r) => ({ scenario: r.scenario, detected: r.detected, kind: r.kind, summary: r.summary, latency_ms: r.latency_ms }));
  return escapeJson(plain);
}
