// Where `gpo record -o TEMPLATE` writes: the template's fields filled in before recording starts, which is
// why the recording id is drawn here and handed to the session.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { GpoError } from '../errors.js';
import { isOutputTemplate, prepareOutput, templateFields, utcDate } from '../trace/output-path.js';
import { readProcess } from './target.js';

export function recordOutput(template: string, target: { pid?: number; command: string[] }): { output: string; recordingId: string } {
  const recordingId = randomUUID();
  if (!isOutputTemplate(template)) return { output: template, recordingId };
  const launched = target.pid === undefined;
  if (launched && templateFields(template).includes('pid'))
    throw new GpoError(`-o ${template}: {pid} needs --pid (a started command's pid is known only once it runs); use {recording_id}`);
  const comm = launched ? basename(target.command[0] ?? '').slice(0, 15) : readProcess(target.pid!).comm;
  const output = prepareOutput(template, { host: hostname(), date: utcDate(new Date()), recording_id: recordingId, comm, pid: target.pid });
  return { output, recordingId };
}
