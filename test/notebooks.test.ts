// The notebooks in notebooks/ run headless on the tslab kernel (jupyter nbconvert --execute) against the
// compiled code in dist/: every cell runs without an error, within the time budget, and draws its charts.
// The executed copies go to a temp dir; the committed notebooks keep their saved outputs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/gpo.js';

const NOTEBOOKS = join(ROOT, 'notebooks');
const env = { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}` };

interface Output {
  output_type: string;
  name?: string;
  text?: string[] | string;
  data?: Record<string, string[] | string>;
}
interface Notebook {
  metadata: { kernelspec?: { name: string } };
  cells: { id?: string; cell_type: string; execution_count?: number | null; outputs?: Output[] }[];
}

const joined = (v: string[] | string | undefined): string => (Array.isArray(v) ? v.join('') : (v ?? ''));
const displayed = (nb: Notebook, mime: string): string[] =>
  nb.cells
    .flatMap((c) => c.outputs ?? [])
    .filter((o) => o.output_type === 'display_data' && o.data?.[mime] !== undefined)
    .map((o) => joined(o.data![mime]));
const htmlOutputs = (nb: Notebook): string[] => displayed(nb, 'text/html');
/** Charts are images (image/svg+xml): Jupyter hides SVG inside text/html of an untrusted notebook. */
const svgOutputs = (nb: Notebook): string[] => displayed(nb, 'image/svg+xml');

/** Jupyter, nbconvert, the tslab kernel and the built code must all be there: say which is missing. */
function checkTools(): void {
  const nbconvert = spawnSync('jupyter', ['nbconvert', '--version'], { encoding: 'utf8', env });
  if (nbconvert.status !== 0)
    throw new Error("jupyter nbconvert is missing: install Debian's jupyter-nbconvert, jupyter-notebook and python3-ipykernel (scripts/setup.sh does)");
  const spec = spawnSync(
    '/usr/bin/python3',
    ['-c', 'from jupyter_client.kernelspec import find_kernel_specs; import sys; sys.exit(0 if "tslab" in find_kernel_specs() else 1)'],
    { encoding: 'utf8', env },
  );
  if (spec.status !== 0) throw new Error('the tslab Jupyter kernel is not installed: run npx tslab install --python=/usr/bin/python3 (scripts/setup.sh does)');
  if (!existsSync(join(ROOT, 'node_modules', '.bin', 'tslab'))) throw new Error('tslab is missing from node_modules: run npm ci');
  if (!existsSync(join(ROOT, 'dist', 'src', 'report', 'html', 'charts.js'))) throw new Error('dist/ is not built: run npm run build');
}

const names = readdirSync(NOTEBOOKS)
  .filter((f) => f.endsWith('.ipynb'))
  .sort();

describe('notebooks', () => {
  it('are the three analysis notebooks, on the tslab kernel, with cell ids and saved charts', () => {
    expect(names).toEqual(['01-explore-recording.ipynb', '02-cheat-vs-baseline.ipynb', '03-evaluate-detectors.ipynb']);
    for (const name of names) {
      const nb = JSON.parse(readFileSync(join(NOTEBOOKS, name), 'utf8')) as Notebook;
      expect(nb.metadata.kernelspec?.name).toBe('tslab');
      for (const cell of nb.cells) expect(cell.id, `${name}: every cell needs an id`).toMatch(/^[\w-]+$/);
      expect(
        svgOutputs(nb).some((h) => h.startsWith('<svg')),
        `${name} has no saved chart`,
      ).toBe(true);
      expect(
        htmlOutputs(nb).filter((h) => h.includes('<svg')),
        `${name}: a chart saved as text/html`,
      ).toEqual([]);
      // No "In [ ]" beside a stored output: every code cell with outputs has its execution count.
      const code = nb.cells.filter((c) => c.cell_type === 'code');
      expect(code.filter((c) => (c.outputs ?? []).length > 0 && typeof c.execution_count !== 'number').map((c) => c.id)).toEqual([]);
    }
  });

  for (const name of names) {
    it(`${name} runs headless without errors in under 60 s`, () => {
      checkTools();
      const out = mkdtempSync(join(tmpdir(), 'gpo-notebook-'));
      const started = Date.now();
      const run = spawnSync(
        'jupyter',
        ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=60', '--output-dir', out, join(NOTEBOOKS, name)],
        { encoding: 'utf8', env, timeout: 120_000 },
      );
      const seconds = (Date.now() - started) / 1000;
      expect(run.status, `${name} failed:\n${run.stderr.slice(-3000)}`).toBe(0);
      expect(seconds).toBeLessThan(60);
      const nb = JSON.parse(readFileSync(join(out, name), 'utf8')) as Notebook;
      const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
      expect(outputs.filter((o) => o.output_type === 'error')).toEqual([]);
      expect(outputs.filter((o) => o.name === 'stderr').map((o) => joined(o.text))).toEqual([]);
      const html = htmlOutputs(nb);
      expect(svgOutputs(nb).filter((h) => h.startsWith('<svg')).length).toBeGreaterThanOrEqual(name.startsWith('03') ? 1 : 2);
      expect([...html, ...svgOutputs(nb)].every((h) => !h.includes('<script'))).toBe(true);
    }, 130_000);
  }
});
