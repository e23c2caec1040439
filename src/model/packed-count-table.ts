// Open-addressing hash table from exact non-negative integer keys (< 2^53) to counts. Windows of syscalls
// are packed into such keys; a typed-array table avoids Map's boxing of keys above 2^31 in the hot path.

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

  /** Slot holding `key`, claimed for it when absent. */
  private insert(key: number): number {
    let slot = this.slotOf(key);
    if (this.keys[slot] !== EMPTY) return slot;
    if (this.used + 1 > (this.mask + 1) * MAX_LOAD) {
      this.grow();
      slot = this.slotOf(key);
    }
    this.keys[slot] = key;
    this.used++;
    return slot;
  }

  /** Slot holding `key`, or the empty slot where it would go (whose count is 0). */
  private slotOf(key: number): number {
    const low = key >>> 0;
    const high = (key / 4294967296) >>> 0;
    let hash = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
    hash ^= hash >>> 15;
    hash = Math.imul(hash, 0xc2b2ae35);
    hash ^= hash >>> 13;
    let slot = hash & this.mask;
    for (;;) {
      const stored = this.keys[slot];
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
