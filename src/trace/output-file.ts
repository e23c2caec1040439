// Output files written as root: created new, never through a link someone planted, never over what is not
// a regular file. The recording's stream is created this way (it is also the output's lock), and so is the
// Parquet file's temporary, which is then linked (or renamed over an older trace) to the output; baselines
// and reports go through the same temporary-then-publish path.
import { closeSync, constants, linkSync, lstatSync, openSync, renameSync, rmSync, type Stats, unlinkSync, writeSync } from 'node:fs';
import { failureReason, GpoError } from '../errors.js';

function fileType(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device node';
  if (st.isFIFO()) return 'a fifo';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

/** What is at path (not following a link there), or null when nothing is. */
function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new GpoError(`cannot write ${path}: ${failureReason(err)}`);
  }
}

/**
 * Refuses an output path that exists and is not a regular file: gpo runs as root and must never replace a
 * device node, fifo, directory or a link someone planted there (nor write through it).
 */
export function checkReplaceable(path: string): void {
  const st = lstatOrNull(path);
  if (st && !st.isFile()) throw new GpoError(`cannot write ${path}: it is ${fileType(st)}, not a regular file; gpo does not replace it`);
}

export function refuseExisting(path: string): void {
  const st = lstatOrNull(path);
  if (!st) return;
  if (!st.isFile()) throw new GpoError(`cannot write ${path}: it is ${fileType(st)}; gpo does not write through it`);
  throw new GpoError(
    path.endsWith('.arrows')
      ? `cannot write ${path}: it exists: another gpo is recording to this output, or it was left by a killed recording (read it with gpo info, then remove it)`
      : `cannot write ${path}: it exists: another gpo is writing this output, or a crash left it (remove it)`,
  );
}

// Created, never opened if there: O_EXCL also refuses a symlink at the path, O_NOFOLLOW says so twice.
// Read-write: a stream is read back to find where its last complete message ends.
export const CREATE_NEW = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Creates a new file at path for writing; whatever is already there (a file, a planted link) is refused.
 * A failure is said of `named` (the output the user gave, when path is its temporary). */
export function createNew(path: string, named = path): number {
  try {
    return openSync(path, CREATE_NEW, 0o644);
  } catch (err) {
    return refuseCreate(path, err, named);
  }
}

export function refuseCreate(path: string, err: unknown, named = path): never {
  if ((err as NodeJS.ErrnoException).code === 'EEXIST') refuseExisting(path);
  throw new GpoError(`cannot write ${named}: ${failureReason(err)}`);
}

/** Moves a finished temporary file to path: a new name is linked atomically (no replacing whatever
 * appeared there meanwhile); an existing regular file is replaced, anything else refused. */
export function publish(tmp: string, path: string): void {
  try {
    linkSync(tmp, path);
    unlinkSync(tmp);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // EEXIST: something is there; EPERM/ENOTSUP: a file system without hard links.
    if (code !== 'EEXIST' && code !== 'EPERM' && code !== 'ENOTSUP') throw err;
  }
  try {
    checkReplaceable(path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  renameSync(tmp, path);
}

/**
 * Writes a whole output file (a baseline, a report) as the trace is written: into a temporary created new
 * beside it, then published over the output only if that is a regular file (or nothing).
 */
export function writeOutputFile(path: string, content: string): void {
  checkReplaceable(path);
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = createNew(tmp, path);
  try {
    const bytes = Buffer.from(content);
    for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
    closeSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw new GpoError(`cannot write ${path}: ${failureReason(err)}`);
  }
  publish(tmp, path);
}

/** The Arrow IPC stream a recording writes to before it becomes Parquet. */
export function ipcPathFor(parquetPath: string): string {
  return `${parquetPath}.arrows`;
}

/** The file a Parquet trace is written to before it is renamed to its path. */
export function tmpPathFor(parquetPath: string): string {
  return `${parquetPath}.tmp`;
}

/** Checks, before recording, every path a trace will be written through: the trace, its stream and its
 * temporary file. */
export function checkTraceOutput(parquetPath: string): void {
  checkReplaceable(parquetPath);
  refuseExisting(ipcPathFor(parquetPath));
  refuseExisting(tmpPathFor(parquetPath));
}
