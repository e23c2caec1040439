// Open-addressing hash table from exact non-negative integer keys (< 2^53) to counts. Windows of syscalls
// are packed into such keys; a typed-array table avoids Map's boxing of keys above 2^31 in the hot path.

import { HALF } from './window-cursor.js';

const EMPTY = -1;
const MAX_LOAD = 0.5;

export class PackedCountTable {
  private keys: Float64Array;
  private counts: Float64Array;
  private mask: number;
  private used = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity / MAX_LOAD) capacity *= 2;
    this.keys = new Float64Array(capacity).fill(EMPTY);
    this.counts = new Float64Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.used;
  }

  /** Adds `amount` to the count of `key` and returns the new count. */
  add(key: number, amount = 1): number {
    // The slot first: inserting can grow the table, and with it replace this.counts.
    const slot = this.insert(key);
    return (this.counts[slot] += amount);
  }

  /** Sets the number stored for `key`. */
  set(key: number, value: number): void {
    const slot = this.insert(key);
    this.counts[slot] = value;
  }

  /** Count of `key`, 0 when absent. */
  get(key: number): number {
    return this.counts[this.slotOf(key)]!;
  }

  /**
   * Slot of `key` (or of the empty place where it would go, holding 0), for callers that keep more values
   * by slot beside the table: valid until the table next grows.
   */
  slot(key: number): number {
    return this.slotOf(key);
  }

  /** The count in a slot (0 for an empty slot). */
  at(slot: number): number {
    return this.counts[slot]!;
  }

  /** Number of slots: values kept by slot need this many entries. */
  get capacity(): number {
    return this.mask + 1;
  }

  /** Keys in ascending order, so anything built from them is deterministic. */
  sortedKeys(): Float64Array {
    const keys = new Float64Array(this.used);
    let n = 0;
    for (let slot = 0; slot <= this.mask; slot++) if (this.keys[slot] !== EMPTY) keys[n++] = this.keys[slot]!;
    return keys.sort();
  }

  /** add(high * 2^24 + low, 1), the key given as in slotOfHalves: the hot path of training. */
  addHalves(high: number, low: number): void {
    let slot = this.slotOfHalves(high, low);
    if (this.keys[slot] === EMPTY) slot = this.claim(slot, high * HALF + low);
    this.counts[slot]++;
  }

  /** Slot holding `key`, claimed for it when absent. */
  private insert(key: number): number {
    const slot = this.slotOf(key);
    return this.keys[slot] !== EMPTY ? slot : this.claim(slot, key);
  }

  /** Stores the absent `key` at its empty `slot` (or where it goes after growing); returns its slot. */
  private claim(slot: number, key: number): number {
    if (this.used + 1 > (this.mask + 1) * MAX_LOAD) {
      this.grow();
      slot = this.slotOf(key);
    }
    this.keys[slot] = key;
    this.used++;
    return slot;
  }

  /**
   * slot(high * 2^24 + low) for low < 2^24 and high < 2^29 (the halves of a WindowCursor), without splitting
   * a double into 32-bit words: the hot path of scoring.
   */
  slotOfHalves(high: number, low: number): number {
    return this.probe(high * HALF + low, ((high << 24) | low) >>> 0, high >>> 8);
  }

  /** Slot holding `key`, or the empty slot where it would go (whose count is 0). */
  private slotOf(key: number): number {
    return this.probe(key, key >>> 0, (key / 4294967296) >>> 0);
  }

  /** Linear probing from the hash of the key's two 32-bit words. */
  private probe(key: number, lowWord: number, highWord: number): number {
    let hash = Math.imul(lowWord ^ Math.imul(highWord, 0x9e3779b1), 0x85ebca6b);
    hash ^= hash >>> 15;
    hash = Math.imul(hash, 0xc2b2ae35);
    hash ^= hash >>> 13;
    let slot = hash & this.mask;
    const keys = this.keys;
    for (;;) {
      const stored = keys[slot];
      if (stored === key || stored === EMPTY) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldCounts = this.counts;
    this.keys = new Float64Array(oldKeys.length * 2).fill(EMPTY);
    this.counts = new Float64Array(oldKeys.length * 2);
    this.mask = this.keys.length - 1;
    for (let slot = 0; slot < oldKeys.length; slot++) {
      if (oldKeys[slot] === EMPTY) continue;
      const target = this.slotOf(oldKeys[slot]!);
      this.keys[target] = oldKeys[slot]!;
      this.counts[target] = oldCounts[slot]!;
    }
  }
}
