// Trace arguments: files, folders (every *.parquet below) and globs expanded by gpo, in a stable order.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expandTraceInputs, globToRegExp } from '../../src/trace/inputs.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gpo-inputs-'));
  for (const file of [
    'h1/2026-01-01/a.parquet',
    'h1/2026-01-02/b.parquet',
    'h2/2026-01-01/c.parquet',
    'h2/2026-01-01/c.parquet.arrows',
    'h2/notes.txt',
    'top.parquet',
  ]) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), '');
  }
  symlinkSync(dir, join(dir, 'h1', 'loop')); // a folder symlink is not entered
});

describe('globToRegExp', () => {
  it('matches *, ?, **, classes and alternatives like a shell', () => {
    expect(globToRegExp('*.parquet').test('a.parquet')).toBe(true);
    expect(globToRegExp('*.parquet').test('x/a.parquet')).toBe(false);
    expect(globToRegExp('**/*.parquet').test('a.parquet')).toBe(true);
    expect(globToRegExp('**/*.parquet').test('x/y/a.parquet')).toBe(true);
    expect(globToRegExp('h?/*/[ab].parquet').test('h1/d/b.parquet')).toBe(true);
    expect(globToRegExp('h?/*/[!ab].parquet').test('h1/d/b.parquet')).toBe(false);
    expect(globToRegExp('{h1,h3}/**').test('h2/x')).toBe(false);
    expect(globToRegExp('{h1,h3}/**').test('h3/x/y')).toBe(true);
    expect(globToRegExp('a.b+(c)').test('a.b+(c)')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

describe('expandTraceInputs', () => {
  it('takes a folder as every *.parquet below it, sorted, without .arrows streams or other files', () => {
    expect(expandTraceInputs([dir]).map((p) => p.slice(dir.length + 1))).toEqual([
      'h1/2026-01-01/a.parquet',
      'h1/2026-01-02/b.parquet',
      'h2/2026-01-01/c.parquet',
      'top.parquet',
    ]);
  });

  it('expands globs itself, and keeps files and argument order', () => {
    const got = expandTraceInputs([join(dir, 'top.parquet'), join(dir, '*/2026-01-01/*.parquet'), join(dir, 'h{2,9}/**/*.arrows')]);
    expect(got.map((p) => p.slice(dir.length + 1))).toEqual([
      'top.parquet',
      'h1/2026-01-01/a.parquet',
      'h2/2026-01-01/c.parquet',
      'h2/2026-01-01/c.parquet.arrows',
    ]);
  });

  it('fails with one line for an empty folder or a glob that matches nothing, and leaves missing files to the reader', () => {
    mkdirSync(join(dir, 'empty'));
    expect(() => expandTraceInputs([join(dir, 'empty')])).toThrow(/no \*\.parquet traces in this folder/);
    expect(() => expandTraceInputs([join(dir, 'h3/*.parquet')])).toThrow(/no file matches/);
    expect(expandTraceInputs([join(dir, 'missing.parquet')])).toEqual([join(dir, 'missing.parquet')]);
  });

  it('takes a segmented trace (a folder of parts) as one trace, in folders, in globs and by name', () => {
    const root = mkdtempSync(join(tmpdir(), 'gpo-inputs-seg-'));
    for (const file of [
      'fleet/a.parquet',
      'fleet/long.parquet/part-000003.parquet',
      'fleet/long.parquet/part-000004.parquet',
      'fleet/crashed/part-000000.parquet',
      'fleet/crashed/part-000001.parquet.arrows',
      'fleet/z.parquet',
    ]) {
      mkdirSync(join(root, file, '..'), { recursive: true });
      writeFileSync(join(root, file), '');
    }
    const rel = (paths: string[]) => paths.map((p) => p.slice(root.length + 1));
    expect(rel(expandTraceInputs([join(root, 'fleet')]))).toEqual(['fleet/a.parquet', 'fleet/crashed', 'fleet/long.parquet', 'fleet/z.parquet']);
    expect(rel(expandTraceInputs([join(root, 'fleet/*.parquet')]))).toEqual(['fleet/a.parquet', 'fleet/long.parquet', 'fleet/z.parquet']);
    expect(rel(expandTraceInputs([join(root, 'fleet/long.parquet')]))).toEqual(['fleet/long.parquet']);
    expect(rel(expandTraceInputs([join(root, 'fleet/crashed')]))).toEqual(['fleet/crashed']);
  });
  it("does not walk the kernel's own filesystems (/proc, /sys): they hold no traces, and reading them fails", () => {
    for (const folder of ['/proc', '/sys']) expect(() => expandTraceInputs([folder])).toThrow(`${folder}: no *.parquet traces in this folder`);
    expect(() => expandTraceInputs(['/proc/**/*.parquet'])).toThrow('/proc/**/*.parquet: no file matches');
  });
});
