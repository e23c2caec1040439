// Where a program's files can come from: paths an exec or a mapping only has when the code runs from
// memory, and directories nothing a program normally loads lives in. Libraries, children and acts share them.

/** Paths an exec can only have when the program runs from memory, not from a file on disk. */
export function isFilelessPath(path: string): boolean {
  return /^(\/memfd:|memfd:|\/proc\/(self|\d+)\/fd\/|\/dev\/fd\/)/.test(path) || path.endsWith(' (deleted)');
}

/** Directories where nothing a program normally loads lives: writable by anyone, or memory. */
export function isSuspiciousLocation(path: string): boolean {
  return /^(\/tmp\/|\/var\/tmp\/|\/dev\/shm\/|\/run\/user\/|\/proc\/|\/memfd:|memfd:)/.test(path) || path.endsWith(' (deleted)');
}

/**
 * What backs executable memory, from the path the recorder gives its file (" (deleted)" when the file has no
 * name left, as /proc/PID/maps shows it): none (anonymous; shared anonymous memory is the kernel's unnamed
 * "dev/zero"), a memfd, a SysV shm segment, a /dev/shm file, a deleted file, a device, or an ordinary file.
 */
export type MemoryBacking = 'anonymous' | 'memfd' | 'sysv_shm' | 'dev_shm' | 'deleted' | 'device' | 'file';

export function memoryBacking(path: string | null): MemoryBacking {
  if (path === null || path === '/dev/zero (deleted)') return 'anonymous';
  if (path.startsWith('/memfd:')) return 'memfd';
  if (/^\/SYSV[0-9a-f]{8}( \(deleted\))?$/.test(path)) return 'sysv_shm';
  if (path.startsWith('/dev/shm/')) return 'dev_shm';
  if (path.endsWith(' (deleted)')) return 'deleted';
  if (path.startsWith('/dev/')) return 'device';
  return 'file';
}

/** Backings of code that has no file on disk: what injected code is loaded from. */
export const FILELESS_BACKINGS: ReadonlySet<MemoryBacking> = new Set(['memfd', 'sysv_shm', 'dev_shm', 'deleted']);
