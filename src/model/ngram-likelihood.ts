// Surprise (-ln probability) of each call given the calls before it, with the trained windows read as an
// n-gram language model with Witten-Bell interpolation: an unseen window is not just a "mismatch" but as
// unlikely as its shorter suffixes make it, and a window seen once is far less likely than a common one.
import { PackedCountTable } from './packed-count-table.js';
import type { SyscallWindowModel } from './syscall-window-model.js';
import { SYMBOL_BASE } from './syscall-vocabulary.js';
import { contextKey, type WindowCursor } from './window-cursor.js';

export class NgramLikelihood {
  /** contextTotals[n - 1]: for each context of n-1 calls, the number of length-n windows extending it. */
  private readonly contextTotals: PackedCountTable[] = [];
  /** followers[n - 1]: for each context of n-1 calls, how many distinct calls followed it. */
  private readonly followers: PackedCountTable[] = [];
  /** Surprise of the latest call of every trained full window, so a seen window costs one lookup. */
  private readonly fullWindowSurprise: PackedCountTable;
  /**
   * Surprise of a call given only the call before it (interpolated down to unigrams), by packed 2-window
   * key (previous symbol * 256 + symbol); filled on first use (0 = not yet), so it costs nothing up front.
   */
  private readonly bigramSurprises = new Float64Array(SYMBOL_BASE * SYMBOL_BASE);
  /** Surprise of a call with no call before it (a thread's first call), by symbol; filled on first use. */
  private readonly unigramSurprises = new Float64Array(SYMBOL_BASE);
  /** Keys of the windows of the latest 1 and 2 calls, for filling the two tables above. */
  private readonly shortKeys = new Float64Array(2);
  private readonly uniform: number;
  private readonly windowLength: number;

  constructor(private readonly model: SyscallWindowModel) {
    this.windowLength = model.windowLength;
    // One extra outcome for syscalls never seen in training.
    this.uniform = 1 / (model.vocabulary.size + 1);
    for (let n = 2; n <= model.windowLength; n++) {
      const totals = new PackedCountTable(model.distinct(n - 1));
      const followers = new PackedCountTable(model.distinct(n - 1));
      for (const key of model.sortedKeys(n)) {
        const context = contextKey(key);
        totals.add(context, model.count(n, key));
        followers.add(context, 1);
      }
      this.contextTotals[n - 1] = totals;
      this.followers[n - 1] = followers;
    }
    this.fullWindowSurprise = new PackedCountTable(model.distinct(model.windowLength));
    const keys = new Float64Array(model.windowLength);
    for (const key of model.sortedKeys(model.windowLength)) {
      for (let n = 1; n <= model.windowLength; n++) keys[n - 1] = key % SYMBOL_BASE ** n;
      // A call its contexts made certain can round to probability 1 (surprise 0, with large counts); it is
      // stored as the smallest positive number so that 0 keeps meaning "never trained" (stide's mismatch).
      this.fullWindowSurprise.set(key, Math.max(Number.MIN_VALUE, this.interpolatedSurprise(keys, model.windowLength)));
    }
  }

  /** -ln P(latest call of the cursor | up to windowLength - 1 calls before it); > 0. */
  surprise(cursor: WindowCursor): number {
    if (cursor.available === this.windowLength) {
      const known = this.trainedWindowSurprise(cursor.keys[this.windowLength - 1]!);
      if (known > 0) return known;
    }
    return this.interpolatedSurprise(cursor.keys, cursor.available);
  }

  /**
   * -ln P(latest call of the cursor | the one call before it): the same interpolated model cut to order 2,
   * the reference the context score compares the full-order surprise with.
   */
  shortContextSurprise(cursor: WindowCursor): number {
    return this.windowShortContextSurprise(cursor.low, cursor.available);
  }

  /**
   * shortContextSurprise of the latest call of a window of `length` calls, given by its packed key (or any
   * integer whose low 16 bits are its latest two calls, as the cursor's low half).
   */
  windowShortContextSurprise(key: number, length: number): number {
    return length === 1 ? this.unigramSurprise(key % SYMBOL_BASE) : this.bigramSurprise(key % (SYMBOL_BASE * SYMBOL_BASE));
  }

  /** Surprise of a call with no call before it, by symbol. */
  private unigramSurprise(symbol: number): number {
    return this.unigramSurprises[symbol] || this.fillUnigram(symbol);
  }

  /** Surprise of a call given the one before it, by the packed key of the two (previous symbol * 256 + symbol). */
  private bigramSurprise(key: number): number {
    return this.bigramSurprises[key] || this.fillBigram(key);
  }

  private fillUnigram(symbol: number): number {
    this.shortKeys[0] = symbol;
    return (this.unigramSurprises[symbol] = this.interpolatedSurprise(this.shortKeys, 1));
  }

  private fillBigram(key: number): number {
    this.shortKeys[0] = key & (SYMBOL_BASE - 1);
    this.shortKeys[1] = key;
    return (this.bigramSurprises[key] = this.interpolatedSurprise(this.shortKeys, 2));
  }

  /** Surprise of the last call of a trained full window (> 0); 0 when training never saw the window. */
  trainedWindowSurprise(fullWindowKey: number): number {
    return this.fullWindowSurprise.get(fullWindowKey);
  }

  /** keys[n - 1] = packed window of the last n calls, for n <= available. */
  private interpolatedSurprise(keys: Float64Array, available: number): number {
    const model = this.model;
    const unigramTotal = model.total(1);
    const unigramTypes = model.distinct(1);
    let probability = unigramTotal === 0 ? this.uniform : (model.count(1, keys[0]!) + unigramTypes * this.uniform) / (unigramTotal + unigramTypes);
    for (let n = 2; n <= available; n++) {
      const context = contextKey(keys[n - 1]!);
      const contextTotal = this.contextTotals[n - 1]!.get(context);
      // A context never seen in training has no longer seen contexts either.
      if (contextTotal === 0) break;
      const types = this.followers[n - 1]!.get(context);
      probability = (model.count(n, keys[n - 1]!) + types * probability) / (contextTotal + types);
    }
    return -Math.log(probability);
  }
}
