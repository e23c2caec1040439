// Loader variables (preload): LD_PRELOAD / LD_AUDIT with a value training never saw, in the target's
// environment at start (trace metadata) or set at any exec of the followed tree (loader_env rows: a wrapper
// such as `env` or a launcher script sets them after gpo started), or a library /etc/ld.so.preload lists
// that training never saw: a library forced into a program before its own code runs. One anomaly per
// variable and value, however many execs carried it (count, the programs exec'd and their processes); an
// exec whose environment was not read to its end is one medium anomaly (a variable may hide there).
// Baseline: `process.loader_env` (LD_PRELOAD, LD_AUDIT, LD_LIBRARY_PATH -> values seen, at start or at an
// exec; /etc/ld.so.preload -> entries seen, one by one). A start value is dated at the target's exec,
// where the environment took effect (else at the trace's first row); an exec's at its loader_env row.
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
  const fromEnv = LOADING_VARIABLES.map((name) => [name, target.loader_env[name]] as const).filter(
    (pair): pair is [string, string] => pair[1] !== undefined && pair[1] !== '',
  );
  return [...fromEnv, ...preloadFileValues(target)];
}

class LoaderEnvLearner implements Learner {
  private readonly values = new Map<string, Set<string>>();
  private readonly tally = new RecordingTally('loader_env');
  private target!: TargetInfo;

  beginTrace(_index: number, target: TargetInfo): void {
    this.target = target;
  }

  observe(view: BatchView): void {
    for (const row of view.eventRows) {
      if (view.kind(row) !== 'loader_env') continue;
      const name = view.str('func', row);
      const value = view.str('path', row);
      if (name !== null && value !== null) this.learn(name, value);
    }
  }

  endTrace(): void {
    for (const [name, value] of [...Object.entries(this.target.loader_env), ...preloadFileValues(this.target)]) this.learn(name, value);
    this.tally.endRecording();
  }

  private learn(name: string, value: string): void {
    let values = this.values.get(name);
    if (values === undefined) this.values.set(name, (values = new Set()));
    values.add(value);
    this.tally.see(`${name}=${value}`);
  }

  finish() {
    return {
      process: { loader_env: Object.fromEntries([...this.values].map(([name, values]) => [name, [...values].sort(compareText)])) },
      ...this.tally.sections(),
    };
  }
}

/** The execs of the tree that set one loader value (or whose environment was not read to its end). */
interface ExecSighting {
  /** null: an environment not read to its end. */
  variable: string | null;
  value: string | null;
  first_ts_ns: bigint;
  last_ts_ns: bigint;
  pid: number;
  tid: number;
  comm: string;
  count: number;
  /** Distinct, in trace order (sets: a tree may exec thousands of times). */
  programs: Set<string>;
  processes: Set<number>;
}

/** The sighting key of a loader_env row: NAME=VALUE, or '' for an environment not read to its end. */
const sightingKey = (name: string | null, value: string | null): string => (name === null ? '' : `${name}=${value ?? ''}`);

class LoaderEnvScorer implements Scorer {
  private firstTs: bigint | undefined;
  /** When the target exec'd its program. */
  private execTs: bigint | undefined;
  /** Loading values the baseline never saw, and unread environments, as the execs of the tree showed them. */
  private readonly sightings = new Map<string, ExecSighting>();

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
    for (const row of view.eventRows) {
      const kind = view.kind(row);
      if (kind === 'exec' && this.execTs === undefined && view.pid[row] === this.target.pid) this.execTs = view.ts[row]!;
      else if (kind === 'loader_env') this.sight(view, row);
    }
  }

  private sight(view: BatchView, row: number): void {
    const name = view.str('func', row);
    const value = view.str('path', row);
    if (name !== null && (!LOADING_VARIABLES.includes(name) || value === null || value === '' || this.known(name, value))) return;
    const key = sightingKey(name, value);
    const program = view.str('exe', row) ?? '?';
    const pid = view.pid[row]!;
    const ts = view.ts[row]!;
    const seen = this.sightings.get(key);
    if (seen === undefined) {
      this.sightings.set(key, {
        variable: name,
        value,
        first_ts_ns: ts,
        last_ts_ns: ts,
        pid,
        tid: view.tid[row]!,
        comm: view.comm(row),
        count: 1,
        programs: new Set([program]),
        processes: new Set([pid]),
      });
      return;
    }
    seen.count++;
    seen.last_ts_ns = ts;
    seen.programs.add(program);
    seen.processes.add(pid);
  }

  private known(name: string, value: string): boolean {
    return (this.baseline[name] ?? []).includes(value);
  }

  flush(): Anomaly[] {
    // A launched target's start values are dated at its exec: until that row is seen the date is not final
    // (and no exec of the tree came before it); an attached one's at the first row.
    if (this.firstTs === undefined || (this.target.mode === 'launch' && this.execTs === undefined)) return [];
    return this.finish();
  }

  finish(): Anomaly[] {
    const at = this.execTs ?? this.firstTs ?? 0n;
    const out: Anomaly[] = [];
    const target = this.target;
    const fromStart = new Set<string>();
    for (const [name, value] of loadingValues(target)) {
      if (this.known(name, value)) continue;
      const file = name === PRELOAD_FILE_PATH ? target.preload_file! : null;
      const link = file?.link ? ` (a symbolic link to ${file.link})` : '';
      // The same value set again at execs of the tree (the target's own exec included) is this anomaly.
      const execs = file ? undefined : this.sightings.get(sightingKey(name, value));
      if (!file) fromStart.add(sightingKey(name, value));
      out.push({
        kind: 'preload',
        severity: 'high',
        first_ts_ns: at,
        last_ts_ns: execs && execs.last_ts_ns > at ? execs.last_ts_ns : at,
        pid: target.pid,
        tid: target.pid,
        comm: target.comm,
        count: execs?.count ?? 1,
        summary: file ? `${name}${link} lists ${value}, not in the baseline` : `target started with ${name}=${value}, not in the baseline`,
        evidence: {
          variable: name,
          value,
          baseline: this.baseline[name] ?? [],
          ...(file ? { link: file.link } : {}),
          ...(execs ? { programs: [...execs.programs], processes: [...execs.processes] } : {}),
        },
      });
    }
    for (const [key, execs] of this.sightings) {
      if (fromStart.has(key)) continue;
      const more = execs.count > 1 ? ` and ${execs.count - 1} more` : '';
      const span = { first_ts_ns: execs.first_ts_ns, last_ts_ns: execs.last_ts_ns, pid: execs.pid, tid: execs.tid, comm: execs.comm, count: execs.count };
      const where = { programs: [...execs.programs], processes: [...execs.processes] };
      const { variable, value } = execs;
      if (variable === null) {
        out.push({
          kind: 'preload',
          severity: 'medium',
          ...span,
          summary: `the environment of ${where.programs[0]}${more} was not read to its end: a loader variable may be hidden there`,
          evidence: where,
        });
        continue;
      }
      out.push({
        kind: 'preload',
        severity: 'high',
        ...span,
        summary: `${variable}=${value} set at the exec of ${where.programs[0]}${more}, not in the baseline`,
        evidence: { variable, value, baseline: this.baseline[variable] ?? [], ...where },
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
      if (equals < 0 || !LEARNED_VARIABLES.includes(name))
        throw new Error(`expected NAME=VALUE with NAME one of ${LEARNED_VARIABLES.join(', ')}, got ${JSON.stringify(entry)}`);
      insertSorted((document.process.loader_env[name] ??= []), entry.slice(equals + 1));
    },
  },
});
