// The trace's text form of byte strings from the traced world (comm, paths, argv, loader variables):
// valid UTF-8 stays as it is; a byte outside any valid UTF-8 sequence is written as the text \xNN
// (lowercase hex), and a backslash that would read as such an escape (followed by x and two hex digits) as
// \x5c. So every string is valid UTF-8 (Parquet requires it) and the original bytes come back with
// decodeBytes. The addon writes the same form (EscapedBytes in native/recording-batch.cc).

const ESCAPE = /\\x([0-9a-fA-F]{2})/g;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Length of the valid UTF-8 sequence at bytes[i] (lead byte >= 0x80), 0 if there is none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const c = bytes[i]!;
  let lo = 0x80;
  let hi = 0xbf;
  let len: number;
  if (c >= 0xc2 && c <= 0xdf) len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c === 0xe0) lo = 0xa0;
    if (c === 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c === 0xf0) lo = 0x90;
    if (c === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + len > bytes.length || bytes[i + 1]! < lo || bytes[i + 1]! > hi) return 0;
  for (let k = 2; k < len; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return 0;
  return len;
}

const isHex = (c: number | undefined) => c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46));

/** The trace's text for a byte string. */
export function encodeBytes(bytes: Uint8Array): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < bytes.length;) {
    const c = bytes[i]!;
    const len = c < 0x80 ? 1 : sequenceLength(bytes, i);
    if (len === 0 || (c === 0x5c && bytes[i + 1] === 0x78 && isHex(bytes[i + 2]) && isHex(bytes[i + 3]))) {
      out += utf8.decode(bytes.subarray(from, i)) + `\\x${c.toString(16).padStart(2, '0')}`;
      from = ++i;
    } else i += len;
  }
  return out + utf8.decode(bytes.subarray(from));
}

/** The original bytes of a trace string. */
export function decodeBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (const m of text.matchAll(ESCAPE)) {
    parts.push(Buffer.from(text.slice(from, m.index), 'utf8'), Buffer.of(parseInt(m[1]!, 16)));
    from = m.index! + m[0].length;
  }
  parts.push(Buffer.from(text.slice(from), 'utf8'));
  return Buffer.concat(parts);
}
