// The two ways ADFA-LD is split for evaluation (../shared/datasets/README.md): the published one-class
// protocol (train on the Training traces only, as the papers do) and the split agreed for development
// (half of the validation traces added to training). One definition serves `gpo eval` and the bench.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GpoError } from '../errors.js';

export interface SplitPaths {
  train: string[];
  normal: string[];
  attack: string[];
}

export interface AdfaLdProtocol {
  name: string;
  description: string;
  /** The files and folders of each role under the dataset's root folder. */
  split(root: string): SplitPaths;
}

const TRAINING = 'Training_Data_Master';
const VALIDATION = 'Validation_Data_Master';
const ATTACK = 'Attack_Data_Master';

export const ADFA_LD_PROTOCOLS: readonly AdfaLdProtocol[] = [
  {
    name: 'published',
    description: 'train Training_Data_Master; normal UVD-0001..2000; attack Attack_Data_Master',
    split: (root) => ({
      train: [folder(root, TRAINING)],
      normal: validationTraces(root, 1, 2000),
      attack: [folder(root, ATTACK)],
    }),
  },
  {
    name: 'agreed',
    description: 'train Training_Data_Master + UVD-0001..1000; normal UVD-1001..2000; attack Attack_Data_Master',
    split: (root) => ({
      train: [folder(root, TRAINING), ...validationTraces(root, 1, 1000)],
      normal: validationTraces(root, 1001, 2000),
      attack: [folder(root, ATTACK)],
    }),
  },
];

export const ADFA_LD_PROTOCOL_NAMES = ADFA_LD_PROTOCOLS.map((protocol) => protocol.name);

/** The protocols `name` selects: one by name, or every one for 'all'. */
export function adfaLdProtocols(name: string): readonly AdfaLdProtocol[] {
  if (name === 'all') return ADFA_LD_PROTOCOLS;
  const protocol = ADFA_LD_PROTOCOLS.find((candidate) => candidate.name === name);
  if (protocol === undefined) throw new GpoError(`unknown protocol '${name}' (expected one of: ${[...ADFA_LD_PROTOCOL_NAMES, 'all'].join(', ')})`);
  return [protocol];
}

function folder(root: string, name: string): string {
  const path = join(root, name);
  if (!existsSync(path)) throw new GpoError(`not an ADFA-LD folder (no ${name}): ${root}`);
  return path;
}

/** Validation traces UVD-<first>..UVD-<last> that exist, in number order; at least one. */
function validationTraces(root: string, first: number, last: number): string[] {
  const dir = folder(root, VALIDATION);
  const paths = readdirSync(dir)
    .map((name) => ({ name, number: /^UVD-(\d+)\.txt$/.exec(name)?.[1] }))
    .filter(({ number }) => number !== undefined && Number(number) >= first && Number(number) <= last)
    .sort((a, b) => Number(a.number) - Number(b.number))
    .map(({ name }) => join(dir, name));
  if (paths.length === 0) throw new GpoError(`no validation traces UVD-${first}..${last} in ${dir}`);
  return paths;
}
