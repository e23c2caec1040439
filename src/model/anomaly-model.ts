// The trained anomaly profile gpo scores against: the syscall windows, the syscall rates and the thresholds
// calibrated on the training sequences. Same defaults for every data source; no per-dataset switches.
import {
  calibrateThresholds,
  DEFAULT_CALIBRATION,
  windowsAtOrAbove,
  type CalibrationEvidence,
  type CalibrationOptions,
  type Thresholds,
} from './calibration.js';
import { DEFAULT_DETECTOR_OPTIONS, SequenceDetector, type DetectorOptions, type SequenceScore } from './sequence-detector.js';
import { DEFAULT_FREQUENCY_WINDOWS, SyscallFrequencyModel, type FrequencyWindowOptions, type SyscallFrequencyModelJson } from './syscall-frequency-model.js';
import { SyscallWindowModel, type SyscallWindowModelJson } from './syscall-window-model.js';

export interface TrainingSequence {
  syscalls: ArrayLike<number>;
  /** Entry time of each call in ns; the frequency windows use trace time when present. */
  ts_ns?: ArrayLike<bigint>;
}

export interface AnomalyModelOptions extends DetectorOptions, CalibrationOptions {
  /** Calls per stide window and order of the n-gram model (chosen on ADFA-LD, see docs/models.md). */
  windowLength: number;
  frequencyWindows: FrequencyWindowOptions;
}

export const DEFAULT_ANOMALY_MODEL_OPTIONS: AnomalyModelOptions = {
  windowLength: 6,
  ...DEFAULT_DETECTOR_OPTIONS,
  ...DEFAULT_CALIBRATION,
  frequencyWindows: DEFAULT_FREQUENCY_WINDOWS,
};

/**
 * Version 2: thresholds hold the score component scales (the score is no longer surprise - entropy alone).
 * Version 3: the window threshold is on frame novelty (thresholds.frameNovelty), not the frame's mismatch count.
 */
export const ANOMALY_MODEL_VERSION = 3;

export interface AnomalyModelJson {
  kind: 'gpo.anomaly-model';
  version: typeof ANOMALY_MODEL_VERSION;
  options: AnomalyModelOptions;
  thresholds: Thresholds;
  calibration: CalibrationEvidence;
  windows: SyscallWindowModelJson;
  frequency: SyscallFrequencyModelJson;
}

export class AnomalyModel {
  private constructor(
    readonly options: AnomalyModelOptions,
    readonly windows: SyscallWindowModel,
    readonly frequency: SyscallFrequencyModel,
    readonly thresholds: Thresholds,
    readonly calibration: CalibrationEvidence,
  ) {}

  /** Trains on all sequences after calibrating the thresholds by k-fold on them. */
  static train(sequences: readonly TrainingSequence[], options: Partial<AnomalyModelOptions> = {}): AnomalyModel {
    const settings: AnomalyModelOptions = { ...DEFAULT_ANOMALY_MODEL_OPTIONS, ...options };
    const { thresholds, evidence } = calibrateThresholds(
      sequences,
      (train, heldOut) => {
        const detector = new SequenceDetector(trainWindows(train, settings.windowLength), settings);
        return heldOut.map((sequence) => detector.score(sequence.syscalls));
      },
      settings,
    );
    return new AnomalyModel(
      settings,
      trainWindows(sequences, settings.windowLength),
      trainFrequency(sequences, settings.frequencyWindows),
      thresholds,
      evidence,
    );
  }

  /** A streaming scorer: observe(thread, syscalls) batch by batch, finish(thread) for the score. */
  detector(): SequenceDetector {
    return new SequenceDetector(this.windows, this.options, this.thresholds.scales);
  }

  /** True when the sequence as a whole is anomalous or any of its windows is. */
  isAnomalous(score: SequenceScore): boolean {
    return score.score >= this.thresholds.score || score.maxFrameNovelty >= this.thresholds.frameNovelty;
  }

  /** Windows whose frame novelty reached the calibrated threshold. */
  flaggedWindows(score: SequenceScore): number {
    return windowsAtOrAbove(score, this.thresholds.frameNovelty);
  }

  toJSON(): AnomalyModelJson {
    return {
      kind: 'gpo.anomaly-model',
      version: ANOMALY_MODEL_VERSION,
      options: this.options,
      thresholds: this.thresholds,
      calibration: this.calibration,
      windows: this.windows.toJSON(),
      frequency: this.frequency.toJSON(),
    };
  }

  static fromJSON(json: AnomalyModelJson): AnomalyModel {
    if (json.kind !== 'gpo.anomaly-model') throw new Error('not a gpo anomaly model');
    if (json.version !== ANOMALY_MODEL_VERSION)
      throw new Error(`anomaly model version ${JSON.stringify(json.version ?? null)} is not supported (this gpo reads version ${ANOMALY_MODEL_VERSION})`);
    return new AnomalyModel(
      json.options,
      SyscallWindowModel.fromJSON(json.windows),
      SyscallFrequencyModel.fromJSON(json.frequency),
      json.thresholds,
      json.calibration,
    );
  }
}

function trainWindows(sequences: readonly TrainingSequence[], windowLength: number): SyscallWindowModel {
  return new SyscallWindowModel(windowLength).train(sequences.map((sequence) => sequence.syscalls));
}

function trainFrequency(sequences: readonly TrainingSequence[], windows: FrequencyWindowOptions): SyscallFrequencyModel {
  const trainer = SyscallFrequencyModel.trainer(windows);
  sequences.forEach((sequence, index) => {
    trainer.observe(index, sequence.syscalls, sequence.ts_ns);
    trainer.endThread(index);
  });
  return trainer.finish();
}
