// libbpf's messages go through one print function (native/libbpf-log.cc) whose echo each recorder sets for
// its own work: a quiet recorder must not silence a verbose one made after it, nor a verbose one make a quiet
// one after it talk. libbpf prints to the process's stderr (fd 2), so each case runs in a child node.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireRoot } from '../helpers/gpo.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** stderr of a child that makes recorders of these verbosities in turn, each between markers. */
function stderrOf(verbosities: boolean[]): string[] {
  const script = `
    import { loadAddon } from './dist/src/native/addon.js';
    const addon = loadAddon();
    for (const verbose of ${JSON.stringify(verbosities)}) {
      process.stderr.write('@@ recorder verbose=' + verbose + '\\n');
      const r = new addon.Recorder({ ringBufferBytes: 1 << 20, followChildren: false, durations: false, observeActs: true, batchRows: 1024, verbose });
      r.close();
    }
    process.stderr.write('@@ end\\n');`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  const parts = child.stderr.split(/^@@ .*\n/m);
  expect(parts, child.stderr).toHaveLength(verbosities.length + 2);
  return parts.slice(1, -1);
}

describe('libbpf log (root)', () => {
  it('a verbose recorder after a quiet one echoes libbpf, the quiet one does not', () => {
    requireRoot();
    const [quiet, verbose] = stderrOf([false, true]);
    expect(quiet).toBe('');
    expect(verbose).toMatch(/^libbpf: /m);
    // The hook plan's probe loads (recorder-hooks.cc) are questions, not errors: never echoed.
    expect(verbose).not.toMatch(/probe_bpf|probe_(fentry|lsm)/);
  });

  it('a quiet recorder after a verbose one stays quiet', () => {
    requireRoot();
    const [verbose, quiet] = stderrOf([true, false]);
    expect(verbose).toMatch(/^libbpf: /m);
    expect(quiet).toBe('');
  });
});
