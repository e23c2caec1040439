// Is a baseline still learning or stable? Read from what its last training recordings brought that the
// earlier ones had not (`learning` in the document, written by the detectors: docs/baseline.md).
import type { BaselineDocument } from './document.js';

/** The last recordings looked at: a fifth of them, at least one. */
const LAST_SHARE = 0.2;
/** Stable when the last recordings brought at most this share of the windows as new ones, and no new entry. */
const STABLE_NEW_WINDOWS = 0.01;

export interface LearningStatus {
  state: 'learning' | 'stable' | 'unknown';
  /** How many of the last recordings were looked at, of how many. */
  last: number;
  recordings: number;
  /** New windows in the last recordings over the baseline's distinct windows (null: not known). */
  new_windows_share: number | null;
  /** New entries in the last recordings, by kind (only kinds with some). */
  new_entries: Record<string, number>;
  /** One line for the user. */
  summary: string;
}

export function learningStatus(document: BaselineDocument): LearningStatus {
  const recordings = document.trained_on.traces.length;
  const learning = document.learning;
  const last = Math.max(1, Math.ceil(recordings * LAST_SHARE));
  const base = { last, recordings, new_windows_share: null, new_entries: {} };
  if (learning === undefined) return { ...base, state: 'unknown', summary: 'unknown: the baseline has no learning curve (trained by an older gpo)' };
  if (recordings < 2) return { ...base, state: 'learning', summary: 'learning: one recording, nothing to compare it with (train on more)' };
  const newEntries: Record<string, number> = {};
  for (const [kind, perRecording] of Object.entries(learning)) {
    if (kind === 'windows') continue;
    const fresh = perRecording.slice(-last).reduce<number>((sum, n) => sum + (n ?? 0), 0);
    if (fresh > 0) newEntries[kind] = fresh;
  }
  const windows = (learning.windows ?? []).slice(-last).filter((n): n is number => n !== null);
  const distinct = Object.keys(document.model.windows.windows).length;
  const share = windows.length === 0 || distinct === 0 ? null : windows.reduce((sum, n) => sum + n, 0) / distinct;
  const entries = Object.entries(newEntries).map(([kind, n]) => `${n} new ${kind}`);
  const windowWords =
    share === null
      ? `windows not comparable yet (each recording was the first of its calibration group: train on more than ${document.calibration.units})`
      : `${(100 * share).toFixed(1)}% new windows`;
  const state =
    share !== null && share <= STABLE_NEW_WINDOWS && entries.length === 0 ? 'stable' : share === null && entries.length === 0 ? 'unknown' : 'learning';
  const lastWords = last === 1 ? `the last of ${recordings} recordings` : `the last ${last} of ${recordings} recordings`;
  const summary = `${state}: ${lastWords}: ${windowWords}; ${entries.length === 0 ? 'no new entries' : entries.join(', ')}`;
  return { ...base, new_windows_share: share, new_entries: newEntries, state, summary };
}
