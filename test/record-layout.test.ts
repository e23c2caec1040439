// The addon and TypeScript agree on what the addon produces: record sizes and row kind codes.
import { describe, expect, it } from 'vitest';
import { loadAddon } from '../src/native/addon.js';
import { ROW_KINDS } from '../src/trace/schema.js';

describe('addon layout', () => {
  const addon = loadAddon();
  it('keeps the per-syscall record at 24 bytes (ring-buffer bandwidth is the cost)', () => {
    expect(addon.layout.syscallRecord).toBe(24);
    expect(addon.layout.syscallTimedRecord).toBe(32);
    expect(addon.layout.batchHeader).toBe(16);
  });
  it('covers every possible pid in the tracked-process bitmap', () => {
    expect(addon.layout.pidLimit).toBe(4 * 1024 * 1024);
  });
  it('numbers row kinds as ROW_KINDS does', () => {
    expect(addon.rowKinds).toEqual(ROW_KINDS.slice(0, addon.rowKinds.length));
  });
});
