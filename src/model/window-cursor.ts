// Rolling packed keys of the windows ending at the latest call of one thread: key of the length-n window
// = its symbols as base-256 digits, oldest first. The state is the previous keys, so a thread's calls can
// arrive in batches of any size with identical results.
import { SYMBOL_BASE } from './syscall-vocabulary.js';

/** Longest window whose packed key stays an exact double (8 bits a call, 53-bit mantissa). */
export const MAX_WINDOW_LENGTH = 6;

export class WindowCursor {
  /** keys[n - 1] = packed key of the length-n window ending at the latest call; valid for n <= available. */
  readonly keys: Float64Array;
  /** Number of window lengths complete at the latest call (min(calls seen, maxLength)). */
  available = 0;
  /** Calls pushed so far. */
  position = 0;

  constructor(readonly maxLength: number) {
    if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > MAX_WINDOW_LENGTH) {
      throw new RangeError(`window length must be 1..${MAX_WINDOW_LENGTH}, got ${maxLength}`);
    }
    this.keys = new Float64Array(maxLength);
  }

  push(symbol: number): void {
    const keys = this.keys;
    const longest = this.available < this.maxLength ? this.available + 1 : this.maxLength;
    for (let n = longest; n >= 2; n--) keys[n - 1] = keys[n - 2]! * SYMBOL_BASE + symbol;
    keys[0] = symbol;
    this.available = longest;
    this.position++;
  }
}

/** Key of the window without its latest call (its context). */
export function contextKey(windowKey: number): number {
  return Math.floor(windowKey / SYMBOL_BASE);
}
