// The folder of a segmented trace (src/trace/segment-layout.ts), held by a descriptor from its creation on.
// Its parent may be writable by others (a shared folder without the sticky bit): another user may then
// rename the folder gpo made and plant a link at its name while gpo records. gpo, as root, never follows
// it: every part is created, published and removed through /proc/self/fd/N/NAME, which the kernel resolves
// to the folder the descriptor holds whatever has been done to its name since; and when recording ends gpo
// says where the trace is if it is no longer at its name.
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync, rmdirSync } from 'node:fs';
import { failureReason, GpoError } from '../errors.js';

export class SegmentFolder {
  private readonly fd: number;
  private closed = false;

  /** Makes the folder, new (mkdir refuses whatever is at path, a link included), and holds it. */
  constructor(readonly path: string) {
    try {
      mkdirSync(path, { mode: 0o755 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new GpoError(
        code === 'EEXIST' ? `cannot write ${path}: it exists (a segmented trace is written to a new folder)` : `cannot create ${path}: ${failureReason(err)}`,
      );
    }
    try {
      this.fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch (err) {
      throw new GpoError(`cannot write ${path}: the folder gpo made was replaced at once (${failureReason(err)})`);
    }
    // Someone may have swapped in a folder of their own between mkdir and open: only gpo's own is taken.
    const st = fstatSync(this.fd);
    if (st.uid !== process.geteuid?.() || (st.mode & 0o022) !== 0) {
      closeSync(this.fd);
      throw new GpoError(`cannot write ${path}: the folder gpo made was replaced at once by one of user ${st.uid}`);
    }
  }

  /** The path a part is written through: it names this folder whatever has been done to its name. */
  at(name: string): string {
    return `/proc/self/fd/${this.fd}/${name}`;
  }

  /** A text holding paths made by at(), with the folder's path as the user gave it. */
  shown(text: string): string {
    return text.replaceAll(`/proc/self/fd/${this.fd}`, this.path);
  }

  /** Where the folder is now when it is no longer at its path (moved, or something else put there); else null. */
  movedTo(): string | null {
    const held = fstatSync(this.fd);
    try {
      const named = lstatSync(this.path);
      if (named.ino === held.ino && named.dev === held.dev) return null;
    } catch {
      // Nothing at its path any more.
    }
    return readlinkSync(`/proc/self/fd/${this.fd}`);
  }

  /** Lets the folder go (once: its descriptor's number may be reused after); removes it if it is empty and
   * still at its path (nothing was recorded). */
  close(removeIfEmpty: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (removeIfEmpty && this.movedTo() === null) {
      try {
        rmdirSync(this.path);
      } catch {
        // Not empty: a journal with rows stays for gpo info.
      }
    }
    closeSync(this.fd);
  }
}
