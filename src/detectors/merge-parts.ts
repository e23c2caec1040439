// Helpers for merging baseline sections trained apart (`gpo train --merge`): sets are unions, counts sums.
import { canonicalJson } from '../baseline/document.js';
import { compareText } from './anomaly.js';

/** Sorted union of string lists. */
export function unionSorted(lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())].sort(compareText);
}

/** Adds `value` to a sorted list of strings, in place, unless it is there. */
export function insertSorted(list: string[], value: string): void {
  if (!list.includes(value)) list.splice(0, list.length, ...[...list, value].sort(compareText));
}

/** Throws unless `path` is absolute: the baseline's paths are, so a relative one would never match. */
export function absolutePath(path: string): string {
  if (!path.startsWith('/')) throw new Error(`expected an absolute path, got ${JSON.stringify(path)}`);
  return path;
}

/** Key-wise sum of count records. */
export function sumCounts(records: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const record of records) for (const [key, count] of Object.entries(record)) sum[key] = (sum[key] ?? 0) + count;
  return sum;
}

/** Key-wise sorted union of string-list records (function -> arguments, variable -> values). */
export function unionLists(records: readonly Readonly<Record<string, readonly string[]>>[]): Record<string, string[]> {
  const keys = [...new Set(records.flatMap((record) => Object.keys(record)))];
  return Object.fromEntries(keys.map((key) => [key, unionSorted(records.map((record) => record[key] ?? []))]));
}

/** Throws unless every part has the same value (compared as canonical JSON): merged parts must agree. */
export function sameInEvery<T>(values: readonly T[], what: string): T {
  const first = canonicalJson(values[0]);
  if (values.some((value) => canonicalJson(value) !== first))
    throw new Error(`the baselines were trained with different ${what}: they cannot be merged (train them with the same options)`);
  return values[0]!;
}
