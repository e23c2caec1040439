// Evaluates the anomaly model on the public datasets (ADFA-LD under the published protocol and the split
// agreed in ../shared/datasets/README.md; UNM) and measures training and scoring throughput. Run after the
// build: node dist/bench/eval-datasets.js [DATASETS] [adfa|unm|throughput]
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ADFA_LD_PROTOCOLS, type AdfaLdProtocol } from '../src/eval/adfa-ld-protocols.js';
import { evaluateSequences } from '../src/eval/evaluate.js';
import { importSequences } from '../src/import/load.js';
import type { ImportedSequence } from '../src/import/sequence.js';
import { AnomalyModel } from '../src/model/anomaly-model.js';
import { NgramLikelihood } from '../src/model/ngram-likelihood.js';
import { SyscallWindowModel } from '../src/model/syscall-window-model.js';

const datasets = process.argv[2] ?? '/work/shared/datasets';

/** Sequences of each role of one ADFA-LD protocol (src/eval/adfa-ld-protocols.ts). */
function adfaSplit(protocol: AdfaLdProtocol): { train: ImportedSequence[]; normal: ImportedSequence[]; attack: ImportedSequence[] } {
  const paths = protocol.split(join(datasets, 'adfa-ld'));
  return {
    train: importSequences('adfa-ld', paths.train),
    normal: importSequences('adfa-ld', paths.normal),
    attack: importSequences('adfa-ld', paths.attack),
  };
}

function figures(label: string, result: ReturnType<typeof evaluateSequences>): string {
  const w = result.windows;
  return [
    label.padEnd(30),
    `AUC ${result.auc.toFixed(4)}`,
    `FAR@90%DR ${result.fpr_at_90_dr.toFixed(4)}`,
    `DR@1%FAR ${result.dr_at_1_fpr.toFixed(4)}`,
    `calibrated FAR/DR ${result.calibrated.fpr.toFixed(3)}/${result.calibrated.dr.toFixed(3)}`,
    `window FP ${w.window_fpr.toExponential(2)} (${w.normal_flagged_windows}/${w.normal_windows}, novelty>=${w.frame_threshold})`,
    `attack files flagged ${w.attack_files_flagged}/${w.attack_files}`,
  ].join('  ');
}

function adfa(): void {
  for (const protocol of ADFA_LD_PROTOCOLS) {
    const { train, normal, attack } = adfaSplit(protocol);
    console.log(
      `ADFA-LD, ${protocol.name} protocol (${protocol.description}): train ${train.length}, normal ${normal.length}, attack ${attack.length} sequences`,
    );
    for (const windowLength of [3, 4, 5, 6]) {
      console.log(figures(`adfa-ld ${protocol.name} k=${windowLength}`, evaluateSequences(train, normal, attack, { windowLength })));
    }
    if (protocol.name !== 'published') continue;
    // The two halves of the validation traces are different populations (docs/models.md): each on its own.
    const half = (sequence: ImportedSequence): number => (/UVD-(\d+)\.txt$/.exec(sequence.source)![1]! <= '1000' ? 0 : 1);
    for (const [index, label] of ['UVD-0001..1000', 'UVD-1001..2000'].entries()) {
      const normalHalf = normal.filter((sequence) => half(sequence) === index);
      console.log(figures(`  normal ${label} only, k=6`, evaluateSequences(train, normalHalf, attack)));
    }
  }
}

// Folders holding the traces of several programs, told apart by the file name prefix.
const PROGRAMS_IN_FOLDER: Record<string, string[]> = { 'login-ps': ['login', 'ps'] };

// UNM: programs with both normal and intrusion traces. Normal processes (sorted by id) alternate between
// training and normal test; every intrusion process is an attack sequence.
function unm(): void {
  const root = join(datasets, 'unm');
  for (const folder of readdirSync(root).sort()) {
    const normalDir = ['normal', 'normal-synthetic'].map((name) => join(root, folder, name)).find(existsSync);
    const intrusionDir = join(root, folder, 'intrusion');
    if (normalDir === undefined || !existsSync(intrusionDir)) continue;
    for (const prefix of PROGRAMS_IN_FOLDER[folder] ?? ['']) unmProgram(prefix === '' ? folder : prefix, prefix, normalDir, intrusionDir);
  }
}

function unmProgram(program: string, prefix: string, normalDir: string, intrusionDir: string): void {
  const files = (dir: string): string[] =>
    readdirSync(dir)
      .sort()
      .filter((name) => name.startsWith(prefix))
      .map((name) => join(dir, name));
  const normalAll = importSequences('unm', files(normalDir)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const train = normalAll.filter((_, i) => i % 2 === 0);
  const normal = normalAll.filter((_, i) => i % 2 === 1);
  const attack = importSequences('unm', files(intrusionDir));
  if (train.length < 2 || normal.length === 0) {
    console.log(`unm ${program}: too few normal processes (${normalAll.length}) to split`);
    return;
  }
  console.log(figures(`unm ${program} (${train.length}/${normal.length}/${attack.length})`, evaluateSequences(train, normal, attack)));
  console.log(`  ${unseenSyscallWindows(train, normal, 6)}`);
}

/**
 * How many full windows of the normal test sequences hold a syscall no training sequence made: false
 * positives of any detector that flags every such window (stide's mismatches, gpo score's novel_syscall);
 * the UNM target allows 1e-3 a window.
 */
function unseenSyscallWindows(train: ImportedSequence[], normal: ImportedSequence[], windowLength: number): string {
  const trained = new Set(train.flatMap((sequence) => [...sequence.syscalls]));
  let windows = 0;
  let holding = 0;
  let sequences = 0;
  for (const { syscalls } of normal) {
    let lastUnseen = -Infinity;
    for (let i = 0; i < syscalls.length; i++) {
      if (!trained.has(syscalls[i]!)) lastUnseen = i;
      if (i < windowLength - 1) continue;
      windows++;
      if (i - lastUnseen < windowLength) holding++;
    }
    if (lastUnseen >= 0) sequences++;
  }
  const share = windows === 0 ? 0 : holding / windows;
  return `normal test windows holding a syscall unseen in training: ${holding}/${windows} (${share.toExponential(2)}), in ${sequences} of ${normal.length} sequences`;
}

function throughput(): void {
  const { train, normal } = adfaSplit(ADFA_LD_PROTOCOLS.find((protocol) => protocol.name === 'agreed')!);
  const calls = (sequences: ImportedSequence[]): number => sequences.reduce((sum, sequence) => sum + sequence.syscalls.length, 0);
  const repeat = 5;
  const timed = (work: () => void): number => {
    work(); // warm up the JIT
    const start = process.hrtime.bigint();
    for (let i = 0; i < repeat; i++) work();
    return Number(process.hrtime.bigint() - start) / 1e9 / repeat;
  };
  const syscalls = train.map((sequence) => sequence.syscalls);
  const observeSeconds = timed(() => new SyscallWindowModel(6).train(syscalls));
  // Finishing the profile (shorter windows, n-gram tables) costs per distinct window, not per call.
  const finishSeconds = timed(() => new NgramLikelihood(new SyscallWindowModel(6).train(syscalls))) - observeSeconds;
  const model = AnomalyModel.train(train);
  const detector = model.detector();
  const scoreSeconds = timed(() => normal.forEach((sequence) => detector.score(sequence.syscalls)));
  const rate = (n: number, seconds: number): string => `${(n / seconds / 1e6).toFixed(1)} M syscalls/s`;
  console.log(
    `throughput (k=6): training ${rate(calls(train), observeSeconds)} + ${(finishSeconds * 1e3).toFixed(0)} ms to finish ` +
      `${model.windows.distinct(6)} distinct windows; scoring ${rate(calls(normal), scoreSeconds)}`,
  );
}

const only = process.argv[3];
if (only === undefined || only === 'adfa') adfa();
if (only === undefined || only === 'unm') unm();
if (only === undefined || only === 'throughput') throughput();
