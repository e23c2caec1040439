// docs/sql.md's questions run as written on recordings/ and their scores (so the page cannot rot).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runGpo } from '../helpers/gpo.js';
import { tempDir } from '../score/trace-helpers.js';

const doc = readFileSync(join(ROOT, 'docs/sql.md'), 'utf8');
const questions = [
  ...doc
    .split('## Questions users ask')[1]!
    .split('## When one machine')[0]!
    .matchAll(/```sql\n([\s\S]*?)\n```/g),
].map((m) => m[1]!);

describe('docs/sql.md', () => {
  it('has at least ten questions, and each runs on recordings/ with their scores', () => {
    expect(questions.length).toBeGreaterThanOrEqual(10);
    const scores = join(tempDir(), 'scores.jsonl');
    writeFileSync(scores, runGpo(['score', join(ROOT, 'recordings'), '-b', join(ROOT, 'recordings/baseline.json'), '--json']).stdout);
    const answered = questions.map((sql) => {
      const r = runGpo(['query', sql, join(ROOT, 'recordings'), '--scores', scores, '--json']);
      expect(r.stderr, sql).toBe('');
      expect(r.code, sql).toBe(0);
      return r.stdout.trim() === '' ? 0 : r.stdout.trim().split('\n').length;
    });
    // The demo's cheats are in recordings/: the actor question finds all six tampering programs.
    expect(answered[0]).toBeGreaterThanOrEqual(6);
  });
});
