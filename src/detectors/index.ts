// Every detector, in a fixed order: `gpo train` runs their learners, `gpo score` (and a live scorer)
// their scorers, over the same batches. A new detector is one module and one line here (docs/architecture.md).
import { acts } from './acts.js';
import type { Detector } from './detector.js';
import { libraries } from './libraries.js';
import { loaderEnv } from './loader-env.js';
import { processProfile } from './process-profile.js';
import { syscallRates } from './syscall-rates.js';
import { syscallSequences } from './syscall-sequences.js';

export const DETECTORS: readonly Detector[] = [syscallSequences, syscallRates, libraries, processProfile, acts, loaderEnv];
