// Counts per key of one thread, kept sparse: a thread calls few distinct syscalls (many threads only one),
// so a dense array per thread (2 KB for 256 symbols) held mostly zeros. A scorer counts a batch's calls into
// one dense scratch array shared by all threads and adds the keys it touched here.

export class SparseCounts {
  /** The keys counted so far, ascending. */
  private keys: number[] = [];
  /** counts[i]: the count of keys[i] (> 0; whole numbers, exact below 2^53). */
  private counts: number[] = [];

  /** Distinct keys counted. */
  get size(): number {
    return this.keys.length;
  }

  /** The count of `key` (0 if never counted). */
  get(key: number): number {
    const at = this.indexOf(key);
    return at < this.keys.length && this.keys[at] === key ? this.counts[at]! : 0;
  }

  /**
   * Adds dense[key] for each of the first `n` keys of `touched` (distinct, in any order; reordered here) and
   * sets those entries of `dense` back to 0, so the scratch array is all zeros again.
   */
  addAndClear(dense: Float64Array, touched: Uint8Array, n: number): void {
    if (n === 0) return;
    const added = touched.subarray(0, n).sort();
    const { keys, counts } = this;
    // Most batches of a thread call only keys it has called before: add in place.
    let fresh = 0;
    for (let i = 0, at = 0; i < n; i++) {
      const key = added[i]!;
      while (at < keys.length && keys[at]! < key) at++;
      if (at < keys.length && keys[at] === key) counts[at]! += dense[key]!;
      else fresh++;
    }
    if (fresh > 0) {
      // Merge into new arrays of the exact size.
      const mergedKeys = new Array<number>(keys.length + fresh);
      const mergedCounts = new Array<number>(keys.length + fresh);
      let i = 0;
      let at = 0;
      for (let out = 0; out < mergedKeys.length; out++) {
        if (i < n && (at === keys.length || added[i]! < keys[at]!)) {
          const key = added[i++]!;
          mergedKeys[out] = key;
          mergedCounts[out] = dense[key]!;
        } else {
          if (i < n && added[i] === keys[at]) i++; // added in place above
          mergedKeys[out] = keys[at]!;
          mergedCounts[out] = counts[at++]!;
        }
      }
      this.keys = mergedKeys;
      this.counts = mergedCounts;
    }
    for (let i = 0; i < n; i++) dense[added[i]!] = 0;
  }

  /** Calls `visit` with each key and its count, keys ascending. */
  forEach(visit: (key: number, count: number) => void): void {
    for (let i = 0; i < this.keys.length; i++) visit(this.keys[i]!, this.counts[i]!);
  }

  /** Where `key` is or would go in `keys`. */
  private indexOf(key: number): number {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.keys[mid]! < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
