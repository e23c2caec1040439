// Dense symbols for syscall numbers, so a window of syscalls packs into one exact integer (8 bits a call).
// Symbol 0 stands for any syscall never seen in training; trained syscalls get 1..255 in order of first sight.

export const SYMBOL_BITS = 8;
export const SYMBOL_BASE = 1 << SYMBOL_BITS;
export const UNSEEN_SYMBOL = 0;
const MAX_SYMBOLS = SYMBOL_BASE - 1;
/** Syscall numbers below this are looked up in a flat array, the common case on every call. */
const FLAT_LOOKUP_SIZE = 1024;

export class SyscallVocabulary {
  private readonly symbolBySmallNumber = new Uint8Array(FLAT_LOOKUP_SIZE);
  private readonly symbolByNumber = new Map<number, number>();
  /** Syscall number of each symbol; index 0 is the unseen placeholder. */
  private readonly numberBySymbol: number[] = [Number.NaN];

  static fromNumbers(numbers: readonly number[]): SyscallVocabulary {
    const vocabulary = new SyscallVocabulary();
    for (const nr of numbers) vocabulary.add(nr);
    return vocabulary;
  }

  /** Number of trained syscalls. */
  get size(): number {
    return this.numberBySymbol.length - 1;
  }

  /** Symbol of `nr`, adding it when new (training). */
  add(nr: number): number {
    const known = this.symbolOf(nr);
    if (known !== UNSEEN_SYMBOL) return known;
    if (this.size === MAX_SYMBOLS) {
      throw new Error(`more than ${MAX_SYMBOLS} distinct syscalls in one model; train one model per program`);
    }
    const symbol = this.numberBySymbol.length;
    this.symbolByNumber.set(nr, symbol);
    if (nr >= 0 && nr < FLAT_LOOKUP_SIZE && Number.isInteger(nr)) this.symbolBySmallNumber[nr] = symbol;
    this.numberBySymbol.push(nr);
    return symbol;
  }

  /** Symbol of `nr`, UNSEEN_SYMBOL when training never saw it (scoring). */
  symbolOf(nr: number): number {
    if (nr >= 0 && nr < FLAT_LOOKUP_SIZE) return this.symbolBySmallNumber[nr]!;
    return this.symbolByNumber.get(nr) ?? UNSEEN_SYMBOL;
  }

  /**
   * symbolOf(nr) for integers 0 <= nr < flatSymbols.length, as an array a per-call loop reads without a
   * method call. Read only.
   */
  get flatSymbols(): Uint8Array {
    return this.symbolBySmallNumber;
  }

  numberOf(symbol: number): number {
    return this.numberBySymbol[symbol]!;
  }

  /** Trained syscall numbers in symbol order (the serialized form). */
  numbers(): number[] {
    return this.numberBySymbol.slice(1);
  }
}
