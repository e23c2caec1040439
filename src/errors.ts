// Errors a user can act on. The CLI prints their message as one line and exits non-zero, no stack trace.
export class GpoError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'GpoError';
  }
}
