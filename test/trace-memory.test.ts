// Importing gpo (here the trace writer's memory helper) changes no V8 flag; the collector exposes gc only
// once it is first asked to collect. Checked in a fresh node process: the flag is process-wide.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const MEMORY = fileURLToPath(new URL('../dist/src/trace/memory.js', import.meta.url));

it('exposes gc on first collection, not at import', () => {
  const script = `
    import { runInNewContext } from 'node:vm';
    const { collectEvery } = await import(${JSON.stringify(MEMORY)});
    const atImport = runInNewContext('typeof gc');
    const collect = collectEvery(1);
    const beforeCollecting = runInNewContext('typeof gc');
    collect();
    console.log(JSON.stringify([atImport, beforeCollecting, runInNewContext('typeof gc')]));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual(['undefined', 'undefined', 'function']);
});
