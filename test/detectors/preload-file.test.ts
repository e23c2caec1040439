// /etc/ld.so.preload as the loader reads it and as the loader-env detector scores it (metadata
// target.preload_file). No root needed: the real file is tested in test/adversarial/preload-file.test.ts.
import { describe, expect, it } from 'vitest';
import { preloadEntries } from '../../src/capture/preload-file.js';
import type { LoadedBaseline } from '../../src/baseline/document.js';
import { loaderEnv } from '../../src/detectors/loader-env.js';
import { rowsBatch } from '../../src/import/trace-batches.js';
import { viewOf } from '../../src/trace/batch-view.js';
import type { PreloadFile, TargetInfo } from '../../src/trace/metadata.js';

const file = (f: Partial<PreloadFile>): PreloadFile => ({
  path: '/etc/ld.so.preload',
  exists: true,
  link: null,
  contents: '',
  entries: [],
  problem: null,
  ...f,
});
const target = (preload: PreloadFile): TargetInfo => ({
  pid: 7,
  comm: 'game',
  exe: '/game',
  cmdline: [],
  exe_sha256: null,
  build_id: null,
  mode: 'attach',
  loader_env: {},
  preload_file: preload,
});

function score(preload: PreloadFile, seen: string[]) {
  const baseline = { document: { process: { loader_env: { '/etc/ld.so.preload': seen } } } } as unknown as LoadedBaseline;
  const scorer = loaderEnv.scorer(baseline, target(preload));
  scorer.observe(viewOf(rowsBatch([{ ts_ns: 100n, pid: 7, tid: 7, comm: 'game', kind: 'syscall', nr: 0 }])));
  return scorer.finish();
}

describe('the preload file', () => {
  it('is read as glibc reads it: libraries separated by whitespace or colons, comments dropped', () => {
    expect(preloadEntries('# a comment: /not/this.so\n/a.so:/b.so  /c.so\t#/d.so\n\n:/e.so')).toEqual(['/a.so', '/b.so', '/c.so', '/e.so']);
  });

  it('scores each library the baseline never saw once, naming the link the file is', () => {
    const found = score(file({ link: '/tmp/x', entries: ['/usr/lib/known.so', '/tmp/hook.so', '/tmp/hook.so'] }), ['/usr/lib/known.so']);
    expect(found.map((a) => [a.kind, a.severity, a.summary, a.evidence.link])).toEqual([
      ['preload', 'high', '/etc/ld.so.preload (a symbolic link to /tmp/x) lists /tmp/hook.so, not in the baseline', '/tmp/x'],
    ]);
    expect(score(file({ entries: ['/usr/lib/known.so'] }), ['/usr/lib/known.so'])).toEqual([]);
  });
});
