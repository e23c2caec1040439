// The committed sample recordings (scripts/make-recordings.sh), offline and without root: every trace
// scored against the committed baseline gives the verdict the demo gave when it recorded them, the
// baseline is what training on the committed clean runs gives, and scoring is deterministic.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readBaseline } from '../src/detectors/load-baseline.js';
import { baselineText, trainBaseline } from '../src/train/train.js';
import { CHEAT_SCENARIOS, cleanScenario, judge, type Scenario } from '../src/demo/scenarios.js';
import { reportJson, scoreTrace } from '../src/score/score-trace.js';
import { openTrace } from '../src/trace/reader.js';

const DIR = fileURLToPath(new URL('../recordings/', import.meta.url));

interface Manifest {
  baseline: string;
  training: string[];
  scenarios: { scenario: string; trace: string; attack_ns: string | null; detected: string; kind: string }[];
}

const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as Manifest;
const baselinePath = join(DIR, manifest.baseline);
const baseline = readBaseline(baselinePath);

function scenarioNamed(name: string): Scenario {
  const clean = /^clean seed (\d+)$/.exec(name);
  if (clean) return cleanScenario(Number(clean[1]));
  const scenario = CHEAT_SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`manifest names an unknown scenario: ${name}`);
  return scenario;
}

async function score(trace: string) {
  return scoreTrace(await openTrace(join(DIR, trace)), baseline, { baselinePath: 'recordings/baseline.json' });
}

describe('committed recordings', () => {
  it('hold every cheat scenario and at least five held-out clean runs, under 20 MB', () => {
    const names = manifest.scenarios.map((s) => s.scenario);
    for (const cheat of CHEAT_SCENARIOS) expect(names).toContain(cheat.name);
    expect(names.filter((n) => n.startsWith('clean seed')).length).toBeGreaterThanOrEqual(5);
    const bytes = readdirSync(DIR).reduce((sum, file) => sum + statSync(join(DIR, file)).size, 0);
    expect(bytes).toBeLessThan(20 * 1024 * 1024);
  });

  it.each(manifest.scenarios.map((s) => [s.scenario, s] as const))('%s gets its verdict', async (_, entry) => {
    const scenario = scenarioNamed(entry.scenario);
    const { row, ok, high } = judge(scenario, await score(entry.trace), entry.attack_ns === null ? null : BigInt(entry.attack_ns));
    expect(row.detected).toBe(entry.detected);
    expect(row.kind).toBe(entry.kind);
    expect(ok).toBe(true);
    if (scenario.kinds.length === 0) expect(high).toBe(0);
    else {
      expect(row.detected).toBe('yes');
      expect(scenario.kinds).toContain(row.kind);
      expect(row.latency_ms).not.toBeNull();
      expect(row.latency_ms!).toBeGreaterThanOrEqual(0);
    }
  });

  it('scores deterministically: the same bytes twice', async () => {
    for (const entry of manifest.scenarios.filter((s) => ['clean seed 101', 'inject', 'fileless'].includes(s.scenario)))
      expect(reportJson(await score(entry.trace))).toBe(reportJson(await score(entry.trace)));
  });

  it('has the baseline that training on the committed clean runs gives', async () => {
    // make-recordings runs from the repository root, so the baseline names its traces relative to it.
    const paths = manifest.training.map((file) => join('recordings', file));
    const root = fileURLToPath(new URL('..', import.meta.url));
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const { baseline: trained } = await trainBaseline(paths);
      expect(baselineText(trained)).toBe(readFileSync(baselinePath, 'utf8'));
    } finally {
      process.chdir(cwd);
    }
  });
});
