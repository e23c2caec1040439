// A toy detector written the way a new one is added: this one file (a learner, a scorer, its own baseline
// section and how it merges) plus one entry in the detector list (here the test's copy of DETECTORS). It learns the names of
// the threads that made syscalls and reports a thread whose name training never saw.
import type { AnomalyKind, Anomaly } from '../../src/detectors/anomaly.js';
import type { LoadedBaseline } from '../../src/baseline/document.js';
import { defineDetector, type Learner, type Scorer } from '../../src/detectors/detector.js';
import { groupByThread, type BatchView } from '../../src/trace/batch-view.js';

export const TOY_SECTION = 'toy_thread_names';
const KIND = 'toy_unknown_thread' as AnomalyKind;

class ToyLearner implements Learner {
  private readonly names = new Set<string>();
  beginTrace(): void {}
  observe(view: BatchView): void {
    const groups = groupByThread(view);
    for (let g = 0; g < groups.tids.length; g++) this.names.add(view.comm(groups.order[groups.starts[g]!]!));
  }
  endTrace(): void {}
  finish() {
    return { [TOY_SECTION]: { names: [...this.names].sort() } };
  }
}

class ToyScorer implements Scorer {
  private readonly found = new Map<number, Anomaly>();
  private readonly known: ReadonlySet<string>;
  constructor(baseline: LoadedBaseline) {
    this.known = new Set(namesOf(baseline.document));
  }
  observe(view: BatchView): void {
    const groups = groupByThread(view);
    for (let g = 0; g < groups.tids.length; g++) {
      const row = groups.order[groups.starts[g]!]!;
      const tid = groups.tids[g]!;
      const comm = view.comm(row);
      if (this.known.has(comm) || this.found.has(tid)) continue;
      const ts = view.ts[row]!;
      this.found.set(tid, {
        kind: KIND,
        severity: 'low',
        first_ts_ns: ts,
        last_ts_ns: ts,
        pid: view.pid[row]!,
        tid,
        comm,
        count: 1,
        summary: `thread named ${comm}, never in training`,
        evidence: { comm },
      });
    }
  }
  flush(): Anomaly[] {
    return [...this.found.values()];
  }
  finish(): Anomaly[] {
    return this.flush();
  }
}

export const toyThreadNames = defineDetector([TOY_SECTION], ToyLearner, ToyScorer, {
  merge: (parts) => ({ [TOY_SECTION]: { names: [...new Set(parts.flatMap(namesOf))].sort() } }),
});

function namesOf(document: object): string[] {
  return (document as Record<string, { names: string[] }>)[TOY_SECTION]!.names;
}
