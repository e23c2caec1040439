// /etc/ld.so.preload: libraries the dynamic loader preloads into every program, no environment variable
// needed. Read at record start without trusting what sits there: a symbolic link is reported as one (its
// target is read only if it is a regular file), and nothing that is not a regular file is read at all (a
// FIFO would block, /dev/zero never end); opened non-blocking, read up to a bound.
import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { encodeBytes } from '../trace/bytes.js';
import { PRELOAD_FILE_PATH, type PreloadFile } from '../trace/metadata.js';
/** More than any real preload list; a longer file is cut there (and says so). */
const MAX_BYTES = 64 << 10;

/** The libraries the loader takes from the file's text: separated by whitespace or ':', '#' starts a comment. */
export function preloadEntries(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .join('\n')
    .split(/[ \t\n:]+/)
    .filter((entry) => entry !== '');
}

export function readPreloadFile(): PreloadFile {
  const file: PreloadFile = { path: PRELOAD_FILE_PATH, exists: false, link: null, contents: null, entries: [], problem: null };
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
  let fd: number;
  try {
    fd = openSync(PRELOAD_FILE_PATH, flags | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return file;
    file.exists = true;
    if (code !== 'ELOOP') return { ...file, problem: (err as Error).message };
    // A symbolic link: the loader follows it, so its target is what counts; say it is a link.
    try {
      file.link = encodeBytes(readlinkSync(PRELOAD_FILE_PATH, { encoding: 'buffer' }));
      fd = openSync(PRELOAD_FILE_PATH, flags);
    } catch (linkErr) {
      return { ...file, problem: (linkErr as Error).message };
    }
  }
  file.exists = true;
  try {
    if (!fstatSync(fd).isFile()) return { ...file, problem: 'not a regular file' };
    const buffer = Buffer.alloc(MAX_BYTES + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_BYTES) file.problem = `longer than ${MAX_BYTES} bytes: cut there`;
    file.contents = encodeBytes(buffer.subarray(0, Math.min(length, MAX_BYTES)));
    file.entries = preloadEntries(file.contents);
    return file;
  } catch (err) {
    return { ...file, problem: (err as Error).message };
  } finally {
    closeSync(fd);
  }
}
