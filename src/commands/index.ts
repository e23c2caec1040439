// One file per command; each exports a register function that adds its subcommand.
import type { Command } from 'commander';
import { registerDemo } from './demo.js';
import { registerDoctor } from './doctor.js';
import { registerEval } from './eval.js';
import { registerImport } from './import.js';
import { registerInfo } from './info.js';
import { registerRecord } from './record.js';
import { registerReplay } from './replay.js';
import { registerReport } from './report.js';
import { registerQuery } from './query.js';
import { registerScore } from './score.js';
import { registerTrain } from './train.js';
import { registerWatch } from './watch.js';

export function registerCommands(program: Command): void {
  registerRecord(program);
  registerInfo(program);
  registerDoctor(program);
  registerEval(program);
  registerImport(program);
  registerTrain(program);
  registerScore(program);
  registerWatch(program);
  registerReplay(program);
  registerQuery(program);
  registerReport(program);
  registerDemo(program);
}
