import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGpo } from '../helpers/gpo.js';

// An ADFA-LD layout from the mini fixture: its normal traces as UVD-0001..0003 and UVD-1001..1003.
const mini = 'test/fixtures/datasets/adfa-mini';
const root = mkdtempSync(join(tmpdir(), 'gpo-adfa-eval-'));
for (const [from, to] of [
  ['train', 'Training_Data_Master'],
  ['attack', 'Attack_Data_Master'],
] as const) {
  mkdirSync(join(root, to));
  for (const name of readdirSync(join(mini, from))) copyFileSync(join(mini, from, name), join(root, to, name));
}
mkdirSync(join(root, 'Validation_Data_Master'));
readdirSync(join(mini, 'normal')).forEach((name, i) => {
  for (const first of [1, 1001])
    copyFileSync(join(mini, 'normal', name), join(root, 'Validation_Data_Master', `UVD-${String(first + i).padStart(4, '0')}.txt`));
});
afterAll(() => rmSync(root, { recursive: true }));

describe('gpo eval --dataset', () => {
  it('prints the published protocol and the agreed split, each with its figures', () => {
    const run = runGpo(['eval', '--format', 'adfa-ld', '--dataset', root]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^protocol published: train Training_Data_Master; normal UVD-0001\.\.2000/m);
    expect(run.stdout).toMatch(/^protocol agreed: train Training_Data_Master \+ UVD-0001\.\.1000/m);
    // published: all six validation traces are normal tests; agreed: only UVD-1001..1003
    expect(run.stdout).toMatch(/protocol published[^]*sequences \(normal \/ attack\)\s+6 \/ 2[^]*protocol agreed[^]*sequences \(normal \/ attack\)\s+3 \/ 2/);
  });

  it('--protocol picks one; --json gives the protocol with the result', () => {
    const run = runGpo(['eval', '--format', 'adfa-ld', '--dataset', root, '--protocol', 'agreed', '--json']);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as { protocol: string; n_normal: number }[];
    expect(json.map(({ protocol, n_normal }) => [protocol, n_normal])).toEqual([['agreed', 3]]);
  });

  it('refuses mixed or missing inputs with a one-line error and exit 2', () => {
    for (const args of [
      ['--dataset', root, '--train', join(root, 'Training_Data_Master')],
      ['--dataset', root, '--protocol', 'other'],
      ['--normal', root],
      ['--train', root, '--normal', root, '--attack', root, '--protocol', 'published'],
    ]) {
      const run = runGpo(['eval', '--format', 'adfa-ld', ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^gpo: [^\n]+\n$/);
    }
  });
});
