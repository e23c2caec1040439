// The stide family's normal profile (Forrest et al. 1996): every window of 1..maxLength consecutive syscalls
// seen in training, with its count. Training consumes each thread's calls in batches of any size.
import { PackedCountTable } from './packed-count-table.js';
import { SyscallVocabulary, SYMBOL_BASE } from './syscall-vocabulary.js';
import { WindowCursor } from './window-cursor.js';

export type ThreadKey = string | number;

export interface SyscallWindowModelJson {
  kind: 'gpo.syscall-windows';
  version: 1;
  maxLength: number;
  /** Trained syscall numbers in symbol order. */
  vocabulary: number[];
  /** windows[n - 1]: window of length n as comma-joined syscall numbers -> count, keys sorted. */
  windows: Record<string, number>[];
}

export class SyscallWindowModel {
  readonly vocabulary: SyscallVocabulary;
  /** tables[n - 1] counts the windows of length n. */
  private readonly tables: PackedCountTable[];
  /** totals[n - 1] = number of length-n windows trained on. */
  private readonly totals: number[];
  private readonly cursors = new Map<ThreadKey, WindowCursor>();

  constructor(readonly maxLength: number, vocabulary = new SyscallVocabulary()) {
    new WindowCursor(maxLength); // validates maxLength
    this.vocabulary = vocabulary;
    this.tables = Array.from({ length: maxLength }, () => new PackedCountTable());
    this.totals = new Array<number>(maxLength).fill(0);
  }

  /** Trains on the next calls of `thread`; windows span batch boundaries. */
  observe(thread: ThreadKey, syscalls: ArrayLike<number>): void {
    let cursor = this.cursors.get(thread);
    if (cursor === undefined) this.cursors.set(thread, (cursor = new WindowCursor(this.maxLength)));
    const { tables, totals, vocabulary } = this;
    const keys = cursor.keys;
    for (let i = 0; i < syscalls.length; i++) {
      cursor.push(vocabulary.add(syscalls[i]!));
      for (let n = 0; n < cursor.available; n++) {
        tables[n]!.add(keys[n]!);
        totals[n]!++;
      }
    }
  }

  /** Forgets the thread's last calls, so its next calls start a new sequence. */
  endThread(thread: ThreadKey): void {
    this.cursors.delete(thread);
  }

  /** Trains on whole sequences, each its own thread. */
  train(sequences: Iterable<ArrayLike<number>>): this {
    let index = 0;
    for (const syscalls of sequences) {
      this.observe(index, syscalls);
      this.endThread(index++);
    }
    return this;
  }

  /** Times the length-`length` window with packed key `key` was seen in training. */
  count(length: number, key: number): number {
    return this.tables[length - 1]!.get(key);
  }

  /** Number of length-`length` windows trained on. */
  total(length: number): number {
    return this.totals[length - 1]!;
  }

  /** Number of distinct length-`length` windows. */
  distinct(length: number): number {
    return this.tables[length - 1]!.size;
  }

  /** Packed keys of the length-`length` windows, ascending. */
  sortedKeys(length: number): Float64Array {
    return this.tables[length - 1]!.sortedKeys();
  }

  /** The syscall numbers of a packed window of `length` calls, oldest first. */
  windowSyscalls(length: number, key: number): number[] {
    const syscalls = new Array<number>(length);
    for (let i = length - 1; i >= 0; i--) {
      syscalls[i] = this.vocabulary.numberOf(key % SYMBOL_BASE);
      key = Math.floor(key / SYMBOL_BASE);
    }
    return syscalls;
  }

  toJSON(): SyscallWindowModelJson {
    const windows = this.tables.map((table, index) => {
      const entries: Record<string, number> = {};
      // Sorted by syscall numbers, not by symbols, so the file reads the same however training was ordered.
      const named = Array.from(table.sortedKeys(), (key) => [this.windowSyscalls(index + 1, key), table.get(key)] as const);
      named.sort((a, b) => compareNumberLists(a[0], b[0]));
      for (const [syscalls, count] of named) entries[syscalls.join(',')] = count;
      return entries;
    });
    return { kind: 'gpo.syscall-windows', version: 1, maxLength: this.maxLength, vocabulary: this.vocabulary.numbers(), windows };
  }

  static fromJSON(json: SyscallWindowModelJson): SyscallWindowModel {
    if (json.kind !== 'gpo.syscall-windows' || json.version !== 1) throw new Error('not a gpo syscall window model (version 1)');
    const model = new SyscallWindowModel(json.maxLength, SyscallVocabulary.fromNumbers(json.vocabulary));
    json.windows.forEach((entries, index) => {
      for (const [window, count] of Object.entries(entries)) {
        let key = 0;
        for (const nr of window.split(',')) key = key * SYMBOL_BASE + model.vocabulary.symbolOf(Number(nr));
        model.tables[index]!.add(key, count);
        model.totals[index]! += count;
      }
    });
    return model;
  }
}

function compareNumberLists(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
