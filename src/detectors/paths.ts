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
