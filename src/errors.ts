// Errors a user can act on. The CLI prints their message as one line and exits non-zero, no stack trace.
import { getSystemErrorMap } from 'node:util';
export class GpoError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'GpoError';
  }
}

/** Why a file operation failed, for a one-line message: "no such file or directory (ENOENT)"; another
 * error's first line. */
export function failureReason(err: unknown): string {
  const { code, errno } = err as NodeJS.ErrnoException;
  if (code !== undefined) {
    const described = errno !== undefined ? getSystemErrorMap().get(errno)?.[1] : undefined;
    return described !== undefined ? `${described} (${code})` : code;
  }
  return String(err).split('\n')[0]!;
}
