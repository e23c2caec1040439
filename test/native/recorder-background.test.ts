// A recorder loading in the background (what gpo record starts before its modules load) must end up as
// the one the constructor loads: the same hooks, the same error, libbpf's echo where ready() is awaited.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAddon, type NativeRecorderOptions } from '../../src/native/addon.js';
import { requireRoot } from '../helpers/gpo.js';

const ROOT = join(import.meta.dirname, '..', '..');
const OPTIONS: NativeRecorderOptions = { ringBufferBytes: 1 << 20, followChildren: true, durations: false, observeActs: true, batchRows: 1024, verbose: false };

describe('recorder loaded in the background (root)', () => {
  it('chooses the hooks the constructor chooses, and refuses use until loaded', async () => {
    requireRoot();
    const addon = loadAddon();
    const now = new addon.Recorder(OPTIONS);
    const hooks = now.hooks();
    now.close();

    const later = new addon.Recorder({ ...OPTIONS, background: true });
    expect(() => later.hooks()).toThrow('the BPF recorder is still loading');
    await later.ready();
    expect(later.hooks()).toEqual(hooks);
    expect(later.attachCheck()).toBeUndefined();
    later.close();
  });

  it('rejects ready() with the error the constructor throws', async () => {
    requireRoot();
    const addon = loadAddon();
    // The kernel refuses a ring buffer of no pages when the maps are made (libbpf rounds other sizes up).
    const bad = { ...OPTIONS, ringBufferBytes: 0 };
    let thrown: Error | undefined;
    try {
      new addon.Recorder(bad).close();
    } catch (err) {
      thrown = err as Error;
    }
    expect(thrown?.message).toMatch(/^cannot load the BPF recorder: /);

    const later = new addon.Recorder({ ...bad, background: true });
    await expect(later.ready()).rejects.toThrow(thrown!.message);
    expect(() => later.hooks()).toThrow('the BPF recorder did not load');
    later.close();
  });

  it('holds libbpf’s echo until ready() is awaited', () => {
    requireRoot();
    const script = `
      import { loadAddon } from './dist/src/native/addon.js';
      const r = new (loadAddon().Recorder)(${JSON.stringify({ ...OPTIONS, verbose: true, background: true })});
      await new Promise((resolve) => setTimeout(resolve, 3000));
      process.stderr.write('@@ ready\\n');
      await r.ready();
      r.close();`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    const [before, after] = child.stderr.split('@@ ready\n');
    expect(before).toBe('');
    expect(after).toMatch(/^libbpf: /m);
  });
});
