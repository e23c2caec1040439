import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GpoError } from '../../src/errors.js';
import { adfaLdProtocols, ADFA_LD_PROTOCOLS } from '../../src/eval/adfa-ld-protocols.js';

// An ADFA-LD layout with UVD-0001..UVD-2002 (the public set has more than this copy's 2000).
const root = mkdtempSync(join(tmpdir(), 'gpo-adfa-'));
for (const dir of ['Training_Data_Master', 'Validation_Data_Master', 'Attack_Data_Master/Adduser_1']) mkdirSync(join(root, dir), { recursive: true });
for (let i = 2002; i >= 1; i--) writeFileSync(join(root, 'Validation_Data_Master', `UVD-${String(i).padStart(4, '0')}.txt`), '1 2 3');
writeFileSync(join(root, 'Validation_Data_Master', 'README'), '');
afterAll(() => rmSync(root, { recursive: true }));

const names = (paths: string[]): string[] => paths.map((path) => basename(path));
const uvd = (first: number, last: number): string[] => Array.from({ length: last - first + 1 }, (_, i) => `UVD-${String(first + i).padStart(4, '0')}.txt`);

describe('ADFA-LD protocols', () => {
  it('published: train on the Training traces only, test every one of UVD-0001..2000', () => {
    const [published] = adfaLdProtocols('published');
    const split = published!.split(root);
    expect(split.train).toEqual([join(root, 'Training_Data_Master')]);
    expect(names(split.normal)).toEqual(uvd(1, 2000));
    expect(split.attack).toEqual([join(root, 'Attack_Data_Master')]);
  });

  it('agreed: UVD-0001..1000 join training, UVD-1001..2000 are the normal test, in number order', () => {
    const [agreed] = adfaLdProtocols('agreed');
    const split = agreed!.split(root);
    expect(split.train[0]).toBe(join(root, 'Training_Data_Master'));
    expect(names(split.train.slice(1))).toEqual(uvd(1, 1000));
    expect(names(split.normal)).toEqual(uvd(1001, 2000));
  });

  it("'all' selects every protocol; an unknown name or a folder without the layout is a one-line GpoError", () => {
    expect(adfaLdProtocols('all')).toBe(ADFA_LD_PROTOCOLS);
    expect(() => adfaLdProtocols('kim2016')).toThrow(GpoError);
    expect(() => ADFA_LD_PROTOCOLS[0]!.split(join(root, 'Attack_Data_Master'))).toThrow(/no Training_Data_Master/);
  });
});
