// The demo's output: one table row per scenario, or the same rows as JSON objects.
import { escapeJson, escapeTerminal as esc } from '../cli/escape.js';
import { formatTable } from '../cli/format.js';
import type { DemoRow } from './scenarios.js';

const SUMMARY_WIDTH = 110;

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

const ms = (value: number | null | undefined): string => (value === null || value === undefined ? '-' : `${value.toFixed(1)} ms`);

/** The table; live runs (gpo demo --live) add the time from the attack to gpo watch's printed alert. */
export function formatDemoTable(rows: readonly DemoRow[]): string {
  const live = rows.some((r) => r.live_ms !== undefined);
  return `${formatTable(
    ['scenario', 'detected', 'top anomaly', 'attack to anomaly', ...(live ? ['attack to live alert'] : [])],
    rows.map((r) => [
      r.scenario,
      r.detected,
      r.kind === '' ? r.summary : clip(`${r.kind}: ${esc(r.summary)}`, SUMMARY_WIDTH),
      ms(r.latency_ms),
      ...(live ? [ms(r.live_ms)] : []),
    ]),
  )}\n`;
}

/** The rows with exactly the documented keys, in that order. */
export function demoJson(rows: readonly DemoRow[]): string {
  const plain = rows.map((r) => ({
    scenario: r.scenario,
    detected: r.detected,
    kind: r.kind,
    summary: r.summary,
    latency_ms: r.latency_ms,
    ...(r.live_ms !== undefined ? { live_ms: r.live_ms } : {}),
  }));
  return escapeJson(plain);
}
