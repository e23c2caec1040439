// Likelihood of each call given the calls before it, under the trained windows read as an n-gram language
// model with Witten-Bell interpolation: an unseen window is not a hard "mismatch" but as unlikely as its
// shorter suffixes make it, and a window seen once is far less likely than one seen a million times.
import { PackedCountTable } from './packed-count-table.js';
import type { SyscallWindowModel } from './syscall-window-model.js';
import { contextKey, type WindowCursor } from './window-cursor.js';

export class NgramLikelihood {
  /** contextTotals[n - 1]: for each length n-1 context, the number of length-n windows extending it. */
  private readonly contextTotals: PackedCountTable[] = [];
  /** followers[n - 1]: for each length n-1 context, how many distinct calls followed it. */
  private readonly followers: PackedCountTable[] = [];
  private readonly uniform: number;

  constructor(private readonly model: SyscallWindowModel) {
    // One extra outcome for syscalls never seen in training.
    this.uniform = 1 / (model.vocabulary.size + 1);
    for (let n = 2; n <= model.maxLength; n++) {
      const totals = new PackedCountTable();
      const followers = new PackedCountTable();
      for (const key of model.sortedKeys(n)) {
        const context = contextKey(key);
        totals.add(context, model.count(n, key));
        followers.add(context, 1);
      }
      this.contextTotals[n - 1] = totals;
      this.followers[n - 1] = followers;
    }
  }

  /** Natural log of the probability of the cursor's latest call given up to `order - 1` calls before it. */
  logProbability(cursor: WindowCursor, order: number): number {
    const model = this.model;
    const keys = cursor.keys;
    const longest = Math.min(order, cursor.available);
    const unigramTotal = model.total(1);
    const unigramTypes = model.distinct(1);
    let probability = unigramTotal === 0 ? this.uniform : (model.count(1, keys[0]!) + unigramTypes * this.uniform) / (unigramTotal + unigramTypes);
    for (let n = 2; n <= longest; n++) {
      const context = contextKey(keys[n - 1]!);
      const contextTotal = this.contextTotals[n - 1]!.get(context);
      // A context never seen in training has no longer seen contexts either.
      if (contextTotal === 0) break;
      const types = this.followers[n - 1]!.get(context);
      probability = (model.count(n, keys[n - 1]!) + types * probability) / (contextTotal + types);
    }
    return Math.log(probability);
  }
}
