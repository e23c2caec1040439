// The sha256 of a file, streamed: a trace named in a baseline, the target's executable in a recording.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { isSegmentedTrace, segmentFiles } from './segment-layout.js';

/** Hex sha256 of the file's bytes; rejects when it cannot be read. */
export async function sha256OfFile(path: string): Promise<string> {
  return sha256OfFiles([path]);
}

/** Hex sha256 of a trace: its file's bytes, or a segmented trace's parts' bytes one after the other, in order. */
export async function sha256OfTrace(path: string): Promise<string> {
  return sha256OfFiles(isSegmentedTrace(path) ? segmentFiles(path)!.map((f) => f.path) : [path]);
}

async function sha256OfFiles(paths: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const path of paths) for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
