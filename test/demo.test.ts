// `gpo demo` end to end on the real kernel (root): clean runs of the demo game train a baseline, then every
// cheat scenario is recorded and scored. Each cheat must be detected with a high anomaly of its kind (the
// io_uring reader is gpo's known blind spot and must say so), and held-out clean runs must give no high
// anomaly. Fewer clean runs than the full demo, to stay within a few minutes.
import { describe, expect, it } from 'vitest';
import { runDemo, type DemoResult } from '../src/demo/run.js';
import { CHEAT_SCENARIOS } from '../src/demo/scenarios.js';
import { demoJson, formatDemoTable } from '../src/demo/table.js';

const root = process.getuid?.() === 0;

describe('gpo demo', () => {
  it('needs root', () => {
    if (!root) throw new Error('test/demo.test.ts records with eBPF and runs cheats that ptrace the game: run it as root');
  });

  it.runIf(root)('catches every cheat and stays quiet on clean runs', { timeout: 300_000 }, async () => {
    const result: DemoResult = await runDemo({ trainingSeeds: [1, 2, 3, 4], heldOutSeeds: [101, 102] });
    const table = formatDemoTable(result.rows);
    const byName = new Map(result.results.map((r) => [r.scenario.name, r]));
    for (const cheat of CHEAT_SCENARIOS) {
      const r = byName.get(cheat.name);
      expect(r, cheat.name).toBeDefined();
      expect(r!.row.detected, `${cheat.name}\n${table}`).toBe('yes');
      expect(cheat.kinds, `${cheat.name}\n${table}`).toContain(r!.row.kind);
      expect(r!.top?.severity).toBe('high');
      expect(r!.row.latency_ms, cheat.name).not.toBeNull();
      // External cheats really ran and succeeded against the game.
      if (cheat.external) expect(r!.cheatReport, cheat.name).toMatch(/"ok":true/);
    }
    for (const clean of result.results.filter((r) => r.scenario.kinds.length === 0)) {
      expect(clean.high, `${clean.scenario.name}\n${table}`).toBe(0);
      expect(clean.row.detected).toBe('no');
    }
    const json = JSON.parse(demoJson(result.rows)) as Record<string, unknown>[];
    expect(json).toHaveLength(result.rows.length);
    for (const row of json) expect(Object.keys(row)).toEqual(['scenario', 'detected', 'kind', 'summary', 'latency_ms']);
  });
});
