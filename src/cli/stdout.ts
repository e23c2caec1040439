// Writing command output to stdout with backpressure, so a long output (many traces, many rows) does not
// pile up in memory when the reader is slower than gpo.

export async function writeStdout(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}
