// gpo record finds a bad request (a command that does not exist, an output it cannot write) before it
// starts loading its BPF programs: the kernel's verification takes half a second to seconds, and a process
// that exits with a load in flight waits for it. Seen with gpo itself: an outer recording of a shell that
// runs the inner gpo records the bpf_load acts of every process (a system-wide act), so the inner gpo's
// loads, or their absence, are in the outer trace.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GPO, readRows, requireRoot, runGpo } from './helpers/gpo.js';

let dir: string;
beforeAll(() => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'gpo-request-'));
});

/** Records `sh -c` running the inner gpo with `args`; the inner gpo's exit code and its bpf_load rows. */
async function innerRecord(name: string, args: string[]): Promise<{ innerCode: number; bpfLoads: number }> {
  const out = join(dir, `${name}.parquet`);
  const inner = [process.execPath, GPO, 'record', '-q', ...args].map((a) => `'${a}'`).join(' ');
  const r = runGpo(['record', '-q', '-o', out, '--', '/bin/sh', '-c', `${inner}; echo "inner=$?"`]);
  expect(r.code, r.stderr).toBe(0);
  const rows = await readRows(out);
  // The tree's processes: the shell and the inner gpo (node) with its threads, by their own rows.
  const tree = new Set(rows.filter((row) => row.kind === 'syscall' || row.kind === 'exec').map((row) => row.pid));
  const innerCode = Number(/inner=(\d+)/.exec(r.stdout)?.[1] ?? NaN);
  return { innerCode, bpfLoads: rows.filter((row) => row.kind === 'bpf_load' && tree.has(row.pid)).length };
}

describe('gpo record checks the request before loading its programs', () => {
  it('loads programs for a good request (the control: the outer trace shows the inner loads)', async () => {
    const loaded = await innerRecord('good', ['-o', join(dir, 'inner-good.parquet'), '--', '/bin/true']);
    expect(loaded.innerCode).toBe(0);
    expect(loaded.bpfLoads).toBeGreaterThan(0);
  }, 60_000);

  it.each([
    ['a command that does not exist', ['-o', join(tmpdir(), 'gpo-request-unused.parquet'), '--', 'no-such-cmd-gpo']],
    ['an output folder that does not exist', ['-o', '/nonexistent-dir/x.parquet', '--', '/bin/true']],
    ['an output that is a folder', ['-o', tmpdir(), '--', '/bin/true']],
  ])(
    'loads none for %s',
    async (what, args) => {
      const refused = await innerRecord(what.replace(/ /g, '-'), args);
      expect(refused.innerCode).toBe(2);
      expect(refused.bpfLoads).toBe(0);
    },
    60_000,
  );
});
