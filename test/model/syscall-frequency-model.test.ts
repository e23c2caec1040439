import { describe, expect, it } from 'vitest';
import { robustZ } from '../../src/model/rates.js';
import { SyscallFrequencyModel } from '../../src/model/syscall-frequency-model.js';

describe('SyscallFrequencyModel', () => {
  it('summarizes per-window counts with median and MAD, absent windows counting 0', () => {
    const trainer = SyscallFrequencyModel.trainer({ windowNs: 1e9, windowCalls: 2 });
    // windows of 2 calls: [1,1] [1,2] [2,2] [1,3] and a partial [1] that is not a window
    trainer.observe('t', [1, 1, 1, 2, 2, 2, 1, 3, 1]);
    const model = trainer.finish();
    expect(model.windows).toBe(4);
    // counts of 1 per window: 2 1 0 1 -> median 1, deviations 1 0 1 0 -> MAD 0.5; q99 interpolates
    expect(model.rateStats(1)).toEqual({ median: 1, mad: 0.5, q99: expect.closeTo(1.97, 12), max: 2 });
    expect(model.rateStats(3)).toEqual({ median: 0, mad: 0, q99: expect.closeTo(0.97, 12), max: 1 });
    expect(model.rateStats(42)).toEqual({ median: 0, mad: 0, q99: 0, max: 0 });
    // 1.4826 * MAD = 0.74 is below the floor of one call: four 1s are (4 - 1) / 1 deviations out
    expect(robustZ(4, model.rateStats(1))).toBe(3);
    // scale floored at one call per window for syscalls that never varied
    expect(robustZ(5, model.rateStats(42))).toBe(5);
  });

  it('cuts windows by trace time when timestamps exist, empty seconds included', () => {
    const trainer = SyscallFrequencyModel.trainer({ windowNs: 1e9, windowCalls: 1000 });
    trainer.observe('t', [7, 7, 7, 7], [0n, 500_000_000n, 2_100_000_000n, 3_000_000_000n]);
    const model = trainer.finish();
    // [0,1s): 2 calls, [1,2s): 0, [2,3s): 1; the call at 3 s opens a window that never closes
    expect(model.windows).toBe(3);
    expect(model.rateStats(7).median).toBe(1);
  });

  it('counts weeks without calls as windows without walking them one by one', () => {
    const trainer = SyscallFrequencyModel.trainer({ windowNs: 1e9, windowCalls: 1000 });
    const day = 86_400_000_000_000n;
    const started = Date.now();
    for (let thread = 0; thread < 100; thread++) trainer.observe(thread, [7, 7, 8], [0n, 1n, 30n * day + 5n]);
    const model = trainer.finish();
    expect(Date.now() - started).toBeLessThan(2_000); // 259 million windows: walked one by one, minutes
    expect(model.windows).toBe(100 * 30 * 86_400);
    expect(model.rateStats(7)).toEqual({ median: 0, mad: 0, q99: 0, max: 2 });
  });

  it('round-trips through JSON with sorted keys', () => {
    const trainer = SyscallFrequencyModel.trainer({ windowNs: 1e9, windowCalls: 2 });
    trainer.observe(1, [10, 2, 2, 10, 3, 3]);
    const json = JSON.stringify(trainer.finish());
    expect(Object.keys(JSON.parse(json).rates)).toEqual(['2', '3', '10']);
    expect(JSON.stringify(SyscallFrequencyModel.fromJSON(JSON.parse(json)))).toBe(json);
  });
});
