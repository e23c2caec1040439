// Loader variables (preload): LD_PRELOAD / LD_AUDIT in the target's environment at start (trace metadata)
// with a value training never saw, or a library /etc/ld.so.preload lists that training never saw: a
// library forced into the program before its own code runs. Baseline: `process.loader_env` (LD_PRELOAD,
// LD_AUDIT, LD_LIBRARY_PATH -> values seen; /etc/ld.so.preload -> entries seen, one by one). The anomaly is
// dated at the target's exec, where the environment took effect, else at the trace's first row.
import type { BatchView } from '../trace/batch-view.js';
import { PRELOAD_FILE_PATH, type TargetInfo } from '../trace/metadata.js';
import { compareText, type Anomaly } from './anomaly.js';
import type { LoadedBaseline } from '../baseline/document.js';
import { defineDetector, type Learner, type Scorer } from './detector.js';
import { insertSorted, unionLists } from './merge-parts.js';
import { mergeTallies, RecordingTally } from './recording-tally.js';

/** Variables that load code into the target; LD_LIBRARY_PATH is learned (shown) but not alarmed on. */
const LOADING_VARIABLES = ['LD_PRELOAD', 'LD_AUDIT'];
/** Every variable the baseline learns (an allow file may add values of each); the preload file's entries
 * are learned as values of its path. */
const LEARNED_VARIABLES = [...LOADING_VARIABLES, 'LD_LIBRARY_PATH', PRELOAD_FILE_PATH];

/** The preload file's libraries as [its path, library] pairs, each once. */
function preloadFileValues(target: TargetInfo): [string, string][] {
  return [...new Set(target.preload_file?.entries ?? [])].map((entry) => [PRELOAD_FILE_PATH, entry]);
}

/** What loads code into the target before its own: [variable or file, value] pairs. */
function loadingValues(target: TargetInfo): [string, string][] {
  const fromEnv = LOADING_VARIABLES.map((name) => [name, target.loader_env[name]] as const).filter((pair): pair is [string, string] => pair[1] !== undefined && pair[1] !== '');
  return [...fromEnv, ...preloadFileValues(target)];
}

class LoaderEnvLearner implements Learner {
  private readonly values = new Map<string, Set<string>>();
  private readonly tally = new RecordingTally('loader_env');
  private target!: TargetInfo;

  beginTrace(_index: number, target: TargetInfo): void {
    this.target = target;
  }

  observe(): void {}

  endTrace(): void {
    for (const [name, value] of [...Object.entries(this.target.loader_env), ...preloadFileValues(this.target)]) {
      let values = this.values.get(name);
      if (values === undefined) this.values.set(name, (values = new Set()));
      values.add(value);
      this.tally.see(`${name}=${value}`);
    }
    this.tally.endRecording();
  }

  finish() {
    return { process: { loader_env: Object.fromEntries([...this.values].map(([name, values]) => [name, [...values].sort(compareText)])) }, ...this.tally.sections() };
  }
}

class LoaderEnvScorer implements Scorer {
  private firstTs: bigint | undefined;
  /** When the target exec'd its program. */
  private execTs: bigint | undefined;

  /** Variable -> values the baseline saw. */
  private readonly baseline: Record<string, string[]>;

  constructor(
    { document }: LoadedBaseline,
    private readonly target: TargetInfo,
  ) {
    this.baseline = document.process.loader_env;
  }

  observe(view: BatchView): void {
    if (view.rows === 0) return;
    this.firstTs ??= view.ts[0]!;
    if (this.execTs !== undefined) return;
    for (const row of view.eventRows)
      if (view.pid[row] === this.target.pid && view.kind(row) === 'exec') {
        this.execTs = view.ts[row]!;
        return;
      }
  }

  flush(): Anomaly[] {
    // A launched target's anomaly is dated at its exec: until that row is seen the date is not final.
    if (this.target.mode === 'launch' && this.execTs === undefined) return [];
    return this.finish();
  }

  finish(): Anomaly[] {
    const at = this.execTs ?? this.firstTs ?? 0n;
    const out: Anomaly[] = [];
    const target = this.target;
    for (const [name, value] of loadingValues(target)) {
      if ((this.baseline[name] ?? []).includes(value)) continue;
      const file = name === PRELOAD_FILE_PATH ? target.preload_file! : null;
      const link = file?.link ? ` (a symbolic link to ${file.link})` : '';
      out.push({
        kind: 'preload',
        severity: 'high',
        first_ts_ns: at,
        last_ts_ns: at,
        pid: target.pid,
        tid: target.pid,
        comm: target.comm,
        count: 1,
        summary: file ? `${name}${link} lists ${value}, not in the baseline` : `target started with ${name}=${value}, not in the baseline`,
        evidence: { variable: name, value, baseline: this.baseline[name] ?? [], ...(file ? { link: file.link } : {}) },
      });
    }
    return out;
  }
}

export const loaderEnv = defineDetector(['process'], LoaderEnvLearner, LoaderEnvScorer, {
  merge: (parts) => ({ process: { loader_env: unionLists(parts.map((part) => part.process.loader_env)) }, ...mergeTallies(parts, ['loader_env']) }),
  allows: {
    // NAME=VALUE, the whole value as the target's environment holds it (e.g. LD_PRELOAD=/usr/lib/libMangoHud.so);
    // /etc/ld.so.preload=LIBRARY, one entry of the preload file.
    preload(document, entry) {
      const equals = entry.indexOf('=');
      const name = entry.slice(0, equals);
      if (equals < 0 || !LEARNED_VARIABLES.includes(name)) throw new Error(`expected NAME=VALUE with NAME one of ${LEARNED_VARIABLES.join(', ')}, got ${JSON.stringify(entry)}`);
      insertSorted((document.process.loader_env[name] ??= []), entry.slice(equals + 1));
    },
  },
});
