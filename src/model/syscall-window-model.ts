// The stide profile (Forrest et al. 1996): every window of `windowLength` consecutive syscalls seen in
// training, with its count, plus the counts of every shorter window (for the n-gram likelihood).
// Training consumes each thread's calls in batches of any size; windows span batch boundaries.
import { PackedCountTable } from './packed-count-table.js';
import { SyscallVocabulary, SYMBOL_BASE, UNSEEN_SYMBOL } from './syscall-vocabulary.js';
import { HALF, WindowCursor } from './window-cursor.js';

/** Identifies a thread (or any sequence) whose calls arrive in batches. */
export type ThreadKey = string | number | symbol;

export interface SyscallWindowModelJson {
  kind: 'gpo.syscall-windows';
  version: 1;
  windowLength: number;
  /** Trained syscall numbers in symbol order. */
  vocabulary: number[];
  /** Full-length windows as comma-joined syscall numbers -> count, sorted. */
  windows: Record<string, number>;
  /** Shorter windows at the start of a thread (not the end of any full window) -> count, sorted. */
  startWindows: Record<string, number>;
}

export class SyscallWindowModel {
  readonly vocabulary: SyscallVocabulary;
  /** Counts of the full-length windows: the hot path of training touches only this table. */
  private readonly fullWindows = new PackedCountTable();
  /** Counts of windows shorter than windowLength that end before a thread's first full window. */
  private readonly startWindows = new PackedCountTable();
  private readonly cursors = new Map<ThreadKey, WindowCursor>();
  /** Counts of the shorter windows and totals per length, rebuilt when first needed after training. */
  private derived: DerivedCounts | undefined;

  constructor(
    readonly windowLength: number,
    vocabulary = new SyscallVocabulary(),
  ) {
    new WindowCursor(windowLength); // validates the length
    this.vocabulary = vocabulary;
  }

  /** Trains on the next calls of `thread`. */
  observe(thread: ThreadKey, syscalls: ArrayLike<number>): void {
    let cursor = this.cursors.get(thread);
    if (cursor === undefined) this.cursors.set(thread, (cursor = new WindowCursor(this.windowLength)));
    const full = this.windowLength;
    const vocabulary = this.vocabulary;
    // Grows in place as training adds syscalls.
    const flatSymbols = vocabulary.flatSymbols;
    const fullWindows = this.fullWindows;
    const startWindows = this.startWindows;
    // The cursor's halves in locals (WindowCursor.push, inlined): one count a call.
    const { lowMask, highMask } = cursor;
    let { low, high, position } = cursor;
    for (let i = 0; i < syscalls.length; i++) {
      const nr = syscalls[i]!;
      const known = nr >= 0 && nr < flatSymbols.length ? flatSymbols[nr]! : vocabulary.symbolOf(nr);
      const symbol = known !== UNSEEN_SYMBOL ? known : vocabulary.add(nr);
      high = ((high << 8) | (low >>> 16)) & highMask;
      low = ((low << 8) | symbol) & lowMask;
      position++;
      if (position >= full) fullWindows.addHalves(high, low);
      else startWindows.add(packedStartKey(position, high * HALF + low));
    }
    cursor.moveTo(low, high, position);
    if (syscalls.length > 0) this.derived = undefined;
  }

  /** Forgets the thread's last calls, so its next calls start a new sequence. */
  endThread(thread: ThreadKey): void {
    this.cursors.delete(thread);
  }

  /**
   * A model counting every window of `models` (trained on disjoint data with one shared vocabulary), so
   * per-part models can be combined without reading the data again (leave-one-out calibration).
   */
  static merge(windowLength: number, vocabulary: SyscallVocabulary, models: readonly SyscallWindowModel[]): SyscallWindowModel {
    const merged = new SyscallWindowModel(windowLength, vocabulary);
    for (const model of models) {
      if (model.vocabulary !== vocabulary || model.windowLength !== windowLength)
        throw new Error('merged window models must share vocabulary and window length');
      for (const key of model.fullWindows.sortedKeys()) merged.fullWindows.add(key, model.fullWindows.get(key));
      for (const key of model.startWindows.sortedKeys()) merged.startWindows.add(key, model.startWindows.get(key));
    }
    return merged;
  }

  /** Trains on whole sequences, each its own thread. */
  train(sequences: Iterable<ArrayLike<number>>): this {
    const thread = 'training';
    for (const syscalls of sequences) {
      this.observe(thread, syscalls);
      this.endThread(thread);
    }
    return this;
  }

  /** Times the window of `length` calls with packed key `key` was seen in training. */
  count(length: number, key: number): number {
    return length === this.windowLength ? this.fullWindows.get(key) : this.counts().shorter[length - 1]!.get(key);
  }

  /** Number of windows of `length` calls trained on. */
  total(length: number): number {
    return this.counts().totals[length - 1]!;
  }

  /** Number of distinct windows of `length` calls. */
  distinct(length: number): number {
    return length === this.windowLength ? this.fullWindows.size : this.counts().shorter[length - 1]!.size;
  }

  /** Packed keys of the windows of `length` calls, ascending. */
  sortedKeys(length: number): Float64Array {
    return length === this.windowLength ? this.fullWindows.sortedKeys() : this.counts().shorter[length - 1]!.sortedKeys();
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
    const startWindows: [number[], number][] = [];
    for (const key of this.startWindows.sortedKeys()) {
      const [length, windowKey] = unpackStartKey(key);
      startWindows.push([this.windowSyscalls(length, windowKey), this.startWindows.get(key)]);
    }
    const windows = Array.from(
      this.fullWindows.sortedKeys(),
      (key) => [this.windowSyscalls(this.windowLength, key), this.fullWindows.get(key)] as [number[], number],
    );
    return {
      kind: 'gpo.syscall-windows',
      version: 1,
      windowLength: this.windowLength,
      vocabulary: this.vocabulary.numbers(),
      windows: sortedRecord(windows),
      startWindows: sortedRecord(startWindows),
    };
  }

  static fromJSON(json: SyscallWindowModelJson): SyscallWindowModel {
    if (json.kind !== 'gpo.syscall-windows' || json.version !== 1) throw new Error('not a gpo syscall window model (version 1)');
    const model = new SyscallWindowModel(json.windowLength, SyscallVocabulary.fromNumbers(json.vocabulary));
    for (const [window, count] of Object.entries(json.windows)) {
      model.fullWindows.add(model.packWindow(window), count);
    }
    for (const [window, count] of Object.entries(json.startWindows)) {
      model.startWindows.add(packedStartKey(window.split(',').length, model.packWindow(window)), count);
    }
    return model;
  }

  private packWindow(window: string): number {
    let key = 0;
    for (const nr of window.split(',')) key = key * SYMBOL_BASE + this.vocabulary.symbolOf(Number(nr));
    return key;
  }

  /** Counts of the shorter windows: the suffixes of every full window plus the windows at thread starts. */
  private counts(): DerivedCounts {
    if (this.derived !== undefined) return this.derived;
    const shorter = Array.from({ length: this.windowLength - 1 }, () => new PackedCountTable(this.fullWindows.size));
    const totals = new Array<number>(this.windowLength).fill(0);
    const addSuffixes = (key: number, length: number, count: number): void => {
      let scale = 1;
      for (let n = 1; n <= length; n++) {
        scale *= SYMBOL_BASE;
        if (n < this.windowLength) shorter[n - 1]!.add(key % scale, count);
        totals[n - 1]! += count;
      }
    };
    for (const key of this.fullWindows.sortedKeys()) addSuffixes(key, this.windowLength, this.fullWindows.get(key));
    for (const key of this.startWindows.sortedKeys()) {
      const [length, windowKey] = unpackStartKey(key);
      addSuffixes(windowKey, length, this.startWindows.get(key));
    }
    return (this.derived = { shorter, totals });
  }
}

interface DerivedCounts {
  /** shorter[n - 1]: counts of the windows of n < windowLength calls. */
  shorter: PackedCountTable[];
  /** totals[n - 1]: number of windows of n calls trained on. */
  totals: number[];
}

// A start window's key carries its length in the lowest digit, as windows of different lengths share a table.
function packedStartKey(length: number, windowKey: number): number {
  return windowKey * 8 + length;
}

function unpackStartKey(key: number): [number, number] {
  return [key % 8, Math.floor(key / 8)];
}

function sortedRecord(entries: [number[], number][]): Record<string, number> {
  // Sorted by syscall numbers, not symbols, so the file reads the same however training was ordered.
  entries.sort((a, b) => compareNumberLists(a[0], b[0]));
  const record: Record<string, number> = {};
  for (const [syscalls, count] of entries) record[syscalls.join(',')] = count;
  return record;
}

function compareNumberLists(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
