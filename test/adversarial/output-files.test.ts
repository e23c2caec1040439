// Hostile output paths (issue 13, "Output files"): gpo runs as root, so -o must never write through a link
// planted by someone else, never replace what is not a regular file, and two recordings to one output must
// not silently lose one of them. Each refusal is one line on stderr with exit code 2. Real kernel, as root.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTrace } from '../../src/trace/reader.js';
import { fixture, requireRoot, ROOT, runGpo, startGpo, type Finished } from '../helpers/gpo.js';

let dir: string;
let n = 0;

beforeAll(() => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'gpo-adv-out-'));
});

/** A fresh folder for one case, and a victim file a planted link points to. */
function scene(): { at: string; victim: string } {
  const at = join(dir, `case-${n++}`);
  mkdirSync(at);
  const victim = join(at, 'victim.txt');
  writeFileSync(victim, 'precious\n');
  return { at, victim };
}

function oneLineRefusal(r: Finished, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const record = (out: string) => runGpo(['record', '-q', '-o', out, '--', '/bin/true']);

describe('gpo record -o: what is already there', () => {
  it('refuses to replace a device node', () => {
    const { at } = scene();
    const node = join(at, 'node');
    expect(spawnSync('mknod', [node, 'c', '1', '3']).status).toBe(0);
    oneLineRefusal(record(node), /not a regular file/);
    expect(lstatSync(node).isCharacterDevice()).toBe(true);
  });

  it('refuses to replace a fifo', () => {
    const { at } = scene();
    const fifo = join(at, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    oneLineRefusal(record(fifo), /not a regular file/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('refuses a symlink planted at OUT', () => {
    const { at, victim } = scene();
    const out = join(at, 'trace.parquet');
    symlinkSync(victim, out);
    oneLineRefusal(record(out), /not a regular file/);
    expect(lstatSync(out).isSymbolicLink()).toBe(true);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('never writes through a symlink planted at OUT.arrows', () => {
    const { at, victim } = scene();
    const out = join(at, 'trace.parquet');
    symlinkSync(victim, `${out}.arrows`);
    oneLineRefusal(record(out), /trace\.parquet\.arrows/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(existsSync(out)).toBe(false);
  });

  it('never writes through a symlink planted at OUT.tmp', () => {
    const { at, victim } = scene();
    const out = join(at, 'trace.parquet');
    symlinkSync(victim, `${out}.tmp`);
    oneLineRefusal(record(out), /trace\.parquet\.tmp/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('replaces a regular file it may replace (an older trace)', async () => {
    const { at } = scene();
    const out = join(at, 'trace.parquet');
    writeFileSync(out, 'old');
    const r = record(out);
    expect(r.code, r.stderr).toBe(0);
    expect((await openTrace(out)).metadata.status).toBe('complete');
    expect(existsSync(`${out}.arrows`)).toBe(false);
    expect(existsSync(`${out}.tmp`)).toBe(false);
  });
});

describe('two gpo record with the same -o', () => {
  it('refuses the second up front; the first keeps every row', async () => {
    const { at } = scene();
    const out = join(at, 'trace.parquet');
    const first = startGpo(['record', '-o', out, '--', fixture('sleeper'), '10']);
    const target = Number((await first.waitFor(/"pid":(\d+)/))[1]);
    const second = record(out);
    oneLineRefusal(second, /another gpo is recording|left by a killed recording/);
    process.kill(target, 'SIGTERM');
    const done = await first.exited;
    expect(done.code, done.stderr).toBe(0);
    const trace = await openTrace(out);
    expect(trace.metadata.status).toBe('complete');
    expect(trace.metadata.target.pid).toBe(target);
  });

  it('refuses to start over the stream a killed recording left, which keeps its rows', () => {
    const { at } = scene();
    const out = join(at, 'trace.parquet');
    writeFileSync(`${out}.arrows`, 'rows of a killed recording');
    oneLineRefusal(record(out), /left by a killed recording/);
    expect(readFileSync(`${out}.arrows`, 'utf8')).toBe('rows of a killed recording');
  });
});

describe('a segmented trace in a folder anyone may write to', () => {
  it('keeps writing into the folder gpo made when another user swaps a link in at its name: nothing lands where the link points', async () => {
    // A world-writable parent without the sticky bit: another user may rename what root made there.
    const parent = mkdtempSync(join(tmpdir(), 'gpo-adv-swap-'));
    chmodSync(parent, 0o777);
    const victim = mkdtempSync(join(tmpdir(), 'gpo-adv-victim-'));
    const out = join(parent, 'trace');
    const gpo = startGpo(['record', '-q', '-o', out, '--rotate', '1s', '--', fixture('storm'), '4000000000']);
    const until = async (done: () => boolean) => {
      for (const deadline = Date.now() + 30_000; !done() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
    };
    await until(() => existsSync(join(out, 'part-000000.parquet')));
    const swap = spawnSync('sh', ['-c', 'mv "$1/trace" "$1/moved" && ln -s "$2" "$1/trace"', 'sh', parent, victim], { uid: 65534, gid: 65534 });
    expect(swap.status, String(swap.stderr)).toBe(0);
    // Stopped once a part was begun after the swap.
    await until(() => readdirSync(join(parent, 'moved')).some((name) => /^part-0*[2-9]/.test(name)));
    gpo.child.kill('SIGINT');
    const done = await gpo.exited;
    expect(readdirSync(victim), 'parts written through the planted link').toEqual([]);
    const parts = readdirSync(join(parent, 'moved'));
    expect(parts.length, parts.join(' ')).toBeGreaterThanOrEqual(3);
    for (const part of parts) expect(part).toMatch(/^part-[0-9]{6}\.parquet$/);
    // gpo says where its trace is now, in one line: not at OUT.
    expect(done.code, done.stderr).toBe(2);
    expect(done.stderr.trim().split('\n')).toHaveLength(1);
    expect(done.stderr).toContain(`${out} was moved or replaced while gpo recorded: the trace is in ${join(parent, 'moved')}`);
    expect(lstatSync(out).isSymbolicLink()).toBe(true);
  });
});

describe('gpo train -o and gpo report -o: the same promises', () => {
  const traces = join(ROOT, 'test', 'fixtures', 'traces');
  const train = (out: string) => runGpo(['train', join(traces, 'clean-1.parquet'), join(traces, 'clean-2.parquet'), '-o', out]);
  const report = (out: string) => runGpo(['report', join(traces, 'cheat.parquet'), '-o', out]);

  for (const [name, write] of [
    ['train', train],
    ['report', report],
  ] as const) {
    it(`${name}: never writes through a symlink planted at the output`, () => {
      const { at, victim } = scene();
      const out = join(at, 'out');
      symlinkSync(victim, out);
      oneLineRefusal(write(out), /not a regular file/);
      expect(lstatSync(out).isSymbolicLink()).toBe(true);
      expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    });

    it(`${name}: refuses to replace a device node, and replaces an older regular file`, () => {
      const { at } = scene();
      const node = join(at, 'node');
      expect(spawnSync('mknod', [node, 'c', '1', '3']).status).toBe(0);
      oneLineRefusal(write(node), /not a regular file/);
      expect(lstatSync(node).isCharacterDevice()).toBe(true);
      const older = join(at, 'older');
      writeFileSync(older, 'old\n');
      const r = write(older);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(older, 'utf8')).not.toBe('old\n');
      expect(readdirSync(at).filter((f) => f.includes('.tmp'))).toEqual([]);
    });

    it(`${name}: names the output it cannot write and why in words, not its temporary file`, () => {
      const out = join(dir, 'no-such-folder', 'out');
      oneLineRefusal(write(out), new RegExp(`^gpo: cannot write ${out}: no such file or directory \\(ENOENT\\)$`, 'm'));
    });
  }
});
