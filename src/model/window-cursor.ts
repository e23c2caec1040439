// Rolling packed keys of the windows ending at the latest call of one thread: key of the length-n window
// = its symbols as base-256 digits, oldest first. The state is the previous calls, so a thread's calls can
// arrive in batches of any size with identical results.
//
// Only the longest window's key is kept up to date on every call, in two 24-bit integer halves (three
// symbols each), so a push is a few integer operations; the shorter keys are cut from it when asked for.
import { SYMBOL_BASE } from './syscall-vocabulary.js';

/** Longest window whose packed key stays an exact double (8 bits a call, 53-bit mantissa). */
export const MAX_WINDOW_LENGTH = 6;

/** 2^24: three symbols, the weight of the high half in a key. */
export const HALF = 16777216;

export class WindowCursor {
  /** Number of window lengths complete at the latest call (min(calls seen, maxLength)). */
  available = 0;
  /** Calls pushed so far. */
  position = 0;
  /**
   * The latest three symbols (the low half of the longest key) and the three before them (high half);
   * read (with the masks) by loops that advance a copy of them call by call, then `moveTo` it.
   */
  low = 0;
  high = 0;
  readonly lowMask: number;
  readonly highMask: number;
  private readonly shorter: Float64Array;
  /** Position at which `shorter` was last filled. */
  private filledAt = -1;

  constructor(readonly maxLength: number) {
    if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > MAX_WINDOW_LENGTH) {
      throw new RangeError(`window length must be 1..${MAX_WINDOW_LENGTH}, got ${maxLength}`);
    }
    this.lowMask = maxLength >= 3 ? HALF - 1 : SYMBOL_BASE ** maxLength - 1;
    this.highMask = maxLength > 3 ? SYMBOL_BASE ** (maxLength - 3) - 1 : 0;
    this.shorter = new Float64Array(maxLength);
  }

  push(symbol: number): void {
    const low = this.low;
    this.high = ((this.high << 8) | (low >>> 16)) & this.highMask;
    this.low = ((low << 8) | symbol) & this.lowMask;
    if (this.available < this.maxLength) this.available++;
    this.position++;
  }

  /**
   * Sets the halves a caller advanced by itself (as `push` does) to `position` calls, or those of another
   * thread (one cursor serves many): `keys` is filled again when next read.
   */
  moveTo(low: number, high: number, position: number): void {
    this.low = low;
    this.high = high;
    this.position = position;
    this.available = Math.min(position, this.maxLength);
    this.filledAt = -1;
  }

  /** Packed key of the longest window ending at the latest call (`available` calls). */
  get key(): number {
    return this.high * HALF + this.low;
  }

  /**
   * keys[n - 1] = packed key of the length-n window ending at the latest call; valid for n <= available.
   * Filled when asked for; valid until the next push.
   */
  get keys(): Float64Array {
    if (this.filledAt !== this.position) {
      const keys = this.shorter;
      const low = this.low;
      const high = this.high;
      for (let n = 1; n <= this.maxLength; n++) {
        keys[n - 1] = n <= 3 ? low % SYMBOL_BASE ** n : (high % SYMBOL_BASE ** (n - 3)) * HALF + low;
      }
      this.filledAt = this.position;
    }
    return this.shorter;
  }
}

/** Key of the window without its latest call (its context). */
export function contextKey(windowKey: number): number {
  return Math.floor(windowKey / SYMBOL_BASE);
}
