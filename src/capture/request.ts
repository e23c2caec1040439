// What of a recording request can be checked before the recorder loads: gpo record checks it before it
// starts the BPF load, because a process that exits with the load in flight waits for the kernel's
// verification to end (libuv joins its pool at exit): half a second, seconds on a busy machine, for a typo.
// Nothing here may import Arrow or the session: this module is loaded before them.
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { GpoError } from '../errors.js';
import { preflightRecording } from '../preflight/index.js';
import { packageRoot } from '../native/addon.js';
import { checkTraceOutput } from '../trace/output-file.js';
import { resolveCommand } from './target.js';

export interface RecordingRequest {
  pid?: number;
  command?: string[];
  output: string;
  /** A segmented trace (--rotate): the output is a new folder. */
  segmented: boolean;
}

/** What the checks found that the session needs. */
export interface CheckedRequest {
  /** The command's executable (its real path); null when attaching. */
  resolvedCommand: string | null;
  launcherPath: string;
  guardPath: string;
}

function checkOutput(output: string, segmented: boolean): void {
  const dir = dirname(resolve(output));
  if (!existsSync(dir)) throw new GpoError(`cannot write ${output}: directory ${dir} does not exist`);
  // A segmented trace is a new folder (created with mkdir, which refuses whatever is there).
  if (!segmented) checkTraceOutput(output);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new GpoError(`cannot write ${output}: directory ${dir} is not writable`);
  }
}

/** Checks the request and the machine: one target, privileges and BTF, the output, the command, gpo's build. */
export function checkRecordingRequest(r: RecordingRequest): CheckedRequest {
  if ((r.pid === undefined) === (r.command === undefined || r.command.length === 0)) throw new GpoError('give either --pid PID or -- CMD [ARGS...]');
  preflightRecording();
  checkOutput(r.output, r.segmented);
  const resolvedCommand = r.command ? resolveCommand(r.command[0]!) : null;
  const launcherPath = join(packageRoot(), 'out', 'bin', 'gpo-launch');
  const guardPath = join(packageRoot(), 'out', 'bin', 'gpo-guard');
  for (const built of [launcherPath, guardPath])
    if (r.command && !existsSync(built)) throw new GpoError(`gpo is not built (${built} missing): run npm run build`);
  return { resolvedCommand, launcherPath, guardPath };
}
