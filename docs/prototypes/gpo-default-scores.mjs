// Dumps gpo's default score components for every ADFA-LD test trace under both protocols of
// src/eval/adfa-ld-protocols.ts, with the 5-fold held-out training components calibration uses, so a
// Python prototype can combine its own score with gpo's (docs/models.md, issue 16). Needs `npm run build`.
//   node docs/prototypes/gpo-default-scores.mjs [ADFA-LD folder] > /tmp/gpo-default-scores.json
import { relative, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
const dist = join(dirname(fileURLToPath(import.meta.url)), '../../dist/src');
const { ADFA_LD_PROTOCOLS } = await import(join(dist, 'eval/adfa-ld-protocols.js'));
const { importSequences } = await import(join(dist, 'import/load.js'));
const { AnomalyModel, DEFAULT_ANOMALY_MODEL_OPTIONS } = await import(join(dist, 'model/anomaly-model.js'));
const { SequenceDetector } = await import(join(dist, 'model/sequence-detector.js'));
const { SyscallWindowModel } = await import(join(dist, 'model/syscall-window-model.js'));

const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../../../shared/datasets/adfa-ld');
const load = (paths) => importSequences('adfa-ld', paths).filter((sequence) => sequence.syscalls.length > 0);
const out = {};
for (const protocol of ADFA_LD_PROTOCOLS) {
  const split = protocol.split(root);
  const train = load(split.train);
  const model = AnomalyModel.train(train);
  // The held-out components exactly as calibrateThresholds computes them (sequence i in fold i mod folds).
  const folds = DEFAULT_ANOMALY_MODEL_OPTIONS.folds;
  const heldOut = [];
  for (let fold = 0; fold < folds; fold++) {
    const windows = new SyscallWindowModel(DEFAULT_ANOMALY_MODEL_OPTIONS.windowLength).train(train.filter((_, i) => i % folds !== fold).map((s) => s.syscalls));
    const detector = new SequenceDetector(windows, DEFAULT_ANOMALY_MODEL_OPTIONS);
    for (const s of train.filter((_, i) => i % folds === fold)) {
      const score = detector.score(s.syscalls);
      heldOut.push([score.surpriseScore, score.contextScore]);
    }
  }
  const detector = model.detector();
  const scores = {};
  for (const s of [...load(split.normal), ...load(split.attack)]) {
    const score = detector.score(s.syscalls);
    scores[relative(root, s.source)] = [score.surpriseScore, score.contextScore, score.score];
  }
  out[protocol.name] = { scales: model.thresholds.scales, heldOut, scores };
}
process.stdout.write(JSON.stringify(out));
