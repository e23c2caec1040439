// The process profile: programs exec'd (child_exec for one training never saw, fileless_exec for one run
// from memory: a memfd, a deleted file, /proc/<pid>/fd/N), and the threads. Baseline: `process.children`,
// `process.thread_names`, `process.threads` (min/max per trace).
import { groupByThread, type BatchView } from '../trace/batch-view.js';
import type { TargetInfo } from '../trace/metadata.js';
import { compareText } from './anomaly.js';
import type { LoadedBaseline } from '../baseline/document.js';
import { defineDetector, type Learner } from './detector.js';
import { isFilelessPath, isSuspiciousLocation } from './paths.js';
import { absolutePath, insertSorted, unionSorted } from './merge-parts.js';
import { mergeTallies, RecordingTally } from './recording-tally.js';
import { FindingScorer, type Finding } from './row-findings.js';

/** An exec that is the target starting its own program (not a child). */
function isTargetStart(view: BatchView, row: number, path: string, target: { pid: number; exe: string }): boolean {
  return view.pid[row] === target.pid && path === target.exe;
}

class ProcessProfileLearner implements Learner {
  private readonly children = new Set<string>();
  private readonly threadNames = new Set<string>();
  private readonly threadCounts: number[] = [];
  private readonly tally = new RecordingTally('children');
  private threads = new Set<number>();
  private target!: TargetInfo;

  beginTrace(_index: number, target: TargetInfo): void {
    this.target = target;
    this.threads = new Set();
  }

  observe(view: BatchView): void {
    const groups = groupByThread(view);
    for (let g = 0; g < groups.tids.length; g++) {
      const tid = groups.tids[g]!;
      if (this.threads.has(tid)) continue;
      this.threads.add(tid);
      // Imported traces name threads after their files: not thread names of the program.
      if (this.target.mode !== 'import') this.threadNames.add(view.comm(groups.order[groups.starts[g]!]!));
    }
    for (const row of view.eventRows) {
      if (view.kind(row) !== 'exec') continue;
      const path = view.str('path', row);
      if (path === null || isTargetStart(view, row, path, this.target)) continue;
      this.children.add(path);
      this.tally.see(path);
    }
  }

  endTrace(): void {
    this.threadCounts.push(this.threads.size);
    this.tally.endRecording();
  }

  finish() {
    return {
      process: {
        children: [...this.children].sort(compareText),
        thread_names: [...this.threadNames].sort(compareText),
        threads: { min: Math.min(...this.threadCounts), max: Math.max(...this.threadCounts) },
      },
      ...this.tally.sections(),
    };
  }
}

class ProcessProfileScorer extends FindingScorer {
  private readonly children: ReadonlySet<string>;
  /** memfd names created per process, so an exec of one is recognised as fileless. */
  private readonly memfds = new Map<number, Set<string>>();

  constructor(
    { document }: LoadedBaseline,
    private readonly target: TargetInfo,
  ) {
    super();
    this.children = new Set(document.process.children);
  }

  protected finding(view: BatchView, row: number, kind: string): Finding | null {
    if (kind === 'exec') return this.exec(view, row);
    if (kind === 'memfd_create') {
      const pid = view.pid[row]!;
      let names = this.memfds.get(pid);
      if (names === undefined) this.memfds.set(pid, (names = new Set()));
      names.add(view.str('path', row) ?? '');
    }
    return null;
  }

  private exec(view: BatchView, row: number): Finding | null {
    const pid = view.pid[row]!;
    const path = view.str('path', row);
    if (path === null) return null;
    const memfd = this.memfds.get(pid);
    // request: the executed file's link count; 0 is a memfd or a deleted file, no name on disk.
    const links = view.int('request', row);
    if (isFilelessPath(path) || links === 0 || (memfd !== undefined && [...memfd].some((name) => path.includes(`memfd:${name}`))))
      return {
        kind: 'fileless_exec',
        severity: 'high',
        key: `fileless_exec ${pid} ${path}`,
        summary: `program executed from memory: ${path}${links === 0 ? ' (no link on disk)' : ''}`,
        evidence: { path, links, memfd_names: memfd ? [...memfd].sort() : [] },
      };
    if (isTargetStart(view, row, path, this.target) || this.children.has(path)) return null;
    return {
      kind: 'child_exec',
      severity: isSuspiciousLocation(path) ? 'high' : 'medium',
      key: `child_exec ${pid} ${path}`,
      summary: `${pid === this.target.pid ? 'the target' : `process ${pid}`} executed ${path}, not in the baseline`,
      evidence: { path },
    };
  }
}

export const processProfile = defineDetector(['process'], ProcessProfileLearner, ProcessProfileScorer, {
  // Programs and names are unions; the thread range spans the baselines' ranges.
  merge: (parts) => ({
    process: {
      children: unionSorted(parts.map((part) => part.process.children)),
      thread_names: unionSorted(parts.map((part) => part.process.thread_names)),
      threads: { min: Math.min(...parts.map((part) => part.process.threads.min)), max: Math.max(...parts.map((part) => part.process.threads.max)) },
    },
    ...mergeTallies(parts, ['children']),
  }),
  allows: {
    child: (document, path) => insertSorted(document.process.children, absolutePath(path)),
  },
});
