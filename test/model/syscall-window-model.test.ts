import { describe, expect, it } from 'vitest';
import { SyscallWindowModel } from '../../src/model/syscall-window-model.js';

function key(model: SyscallWindowModel, syscalls: number[]): number {
  return syscalls.reduce((packed, nr) => packed * 256 + model.vocabulary.symbolOf(nr), 0);
}

describe('SyscallWindowModel', () => {
  it('counts every window of every length up to the window length', () => {
    const model = new SyscallWindowModel(3).train([[1, 2, 3, 1, 2]]);
    expect(model.count(3, key(model, [1, 2, 3]))).toBe(1);
    expect(model.count(3, key(model, [3, 1, 2]))).toBe(1);
    expect(model.count(3, key(model, [2, 1, 3]))).toBe(0);
    expect(model.count(2, key(model, [1, 2]))).toBe(2);
    expect(model.count(1, key(model, [1]))).toBe(2);
    expect([1, 2, 3].map((n) => model.total(n))).toEqual([5, 4, 3]);
    expect([1, 2, 3].map((n) => model.distinct(n))).toEqual([3, 3, 3]);
  });

  it('does not join the windows of different sequences', () => {
    const model = new SyscallWindowModel(2).train([
      [1, 2],
      [3, 4],
    ]);
    expect(model.count(2, key(model, [2, 3]))).toBe(0);
    expect(model.total(2)).toBe(2);
  });

  it('gives the same model whatever the batches', () => {
    const whole = new SyscallWindowModel(4).train([[5, 1, 5, 2, 5, 1, 5, 3, 9]]);
    const batched = new SyscallWindowModel(4);
    for (const batch of [[5], [1, 5], [], [2, 5, 1, 5], [3, 9]]) batched.observe(7, batch);
    expect(JSON.stringify(batched)).toBe(JSON.stringify(whole));
  });

  it('serializes deterministically, sorted by syscall numbers whatever the training order', () => {
    const sequences = [
      [3, 1, 2, 3, 1],
      [9, 8, 7],
      [1, 2, 3, 4],
    ];
    const first = JSON.stringify(new SyscallWindowModel(3).train(sequences));
    expect(JSON.stringify(new SyscallWindowModel(3).train(sequences))).toBe(first);
    const reordered = new SyscallWindowModel(3).train([...sequences].reverse());
    expect(Object.keys(reordered.toJSON().windows)).toEqual(Object.keys(JSON.parse(first).windows));
    expect(Object.keys(reordered.toJSON().windows)).toEqual(['1,2,3', '2,3,1', '2,3,4', '3,1,2', '9,8,7']);
  });

  it('round-trips through JSON', () => {
    const model = new SyscallWindowModel(3).train([
      [3, 1, 2, 3, 1],
      [9, 8],
    ]);
    const restored = SyscallWindowModel.fromJSON(JSON.parse(JSON.stringify(model)));
    expect(JSON.stringify(restored)).toBe(JSON.stringify(model));
    expect([1, 2, 3].map((n) => restored.total(n))).toEqual([1, 2, 3].map((n) => model.total(n)));
    expect(restored.count(2, key(restored, [9, 8]))).toBe(1);
  });

  it('refuses window lengths whose packed key would not be exact', () => {
    expect(() => new SyscallWindowModel(7)).toThrow(RangeError);
  });
});
