import { describe, expect, it } from 'vitest';
import { formatTable } from '../../src/cli/format.js';

describe('formatTable', () => {
  it('pads each column to its widest cell', () => {
    expect(
      formatTable(
        ['kind', 'n'],
        [
          ['a', 1],
          ['longer', 22],
        ],
      ),
    ).toBe('kind    n\na       1\nlonger  22');
  });

  it('takes more rows than a call has room for arguments (a report of 300,000 anomalies)', () => {
    const rows = Array.from({ length: 300_000 }, (_, i) => [`row ${i}`]);
    const lines = formatTable(['summary'], rows).split('\n');
    expect(lines).toHaveLength(300_001);
    expect(lines[300_000]).toBe('row 299999');
  });
});
