// The one escaping policy (src/cli/escape.ts) on every output that can carry strings from the traced world:
// terminal lines, --json of info and score, error messages quoting input (gpo import strace, a file that is
// not a gpo trace), and the HTML report's caption. The traced strings hold ESC sequences, C1 controls,
// bidi overrides and isolates: none may reach an output literally, and JSON must still give them back.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeJson, escapeTerminal, inertJson } from '../../src/cli/escape.js';
import { parseBaseline } from '../../src/detectors/load-baseline.js';
import { buildHtmlReport } from '../../src/report/html/index.js';
import { formatReport } from '../../src/score/format-report.js';
import { scoreTrace } from '../../src/score/score-trace.js';
import { openTrace } from '../../src/trace/reader.js';
import { baselineText, trainBaseline } from '../../src/train/train.js';
import { runGpo } from '../helpers/gpo.js';
import { normalTrace, syscallRows, tempDir, writeTrace } from '../score/trace-helpers.js';

/** ESC sequence, BEL, a C1 control (NEL), a bidi override and isolate, a line separator. */
const HOSTILE = 'ev\u001b[31mil\u0007\u0085\u202egnp.\u2066exe\u2069\u2028';
/** Characters that may not appear literally in any output (newline and tab are the outputs' own). */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

const dir = tempDir();
const training = [await normalTrace(join(dir, 'normal-1.parquet')), await normalTrace(join(dir, 'normal-2.parquet'))];
const { baseline } = await trainBaseline(training);
const baselinePath = join(dir, 'baseline.json');
writeFileSync(baselinePath, baselineText(baseline));
const hostilePath = `/tmp/${HOSTILE}.so`;
/** A recording whose thread name and loaded library are hostile. */
const hostileTrace = await normalTrace(join(dir, 'hostile.parquet'), [
  ...syscallRows(4002, [0, 1, 2], 1_100_000_000n, 4000, HOSTILE),
  { ts_ns: 1_200_000_000n, pid: 4000, tid: 4002, comm: HOSTILE, kind: 'mmap_exec', path: hostilePath, dev: 1, inode: 2 },
]);

describe('escapeTerminal and escapeJson', () => {
  it('make every control, separator and bidi character visible', () => {
    const out = escapeTerminal(HOSTILE);
    expect(out).not.toMatch(UNSAFE);
    expect(out).toBe('ev\\x1b[31mil\\x07\\x85\\u202egnp.\\u2066exe\\u2069\\u2028');
  });

  it('keep JSON lossless: the escaped text parses back to the original string', () => {
    const text = escapeJson({ comm: HOSTILE, ts: 5n });
    expect(text).not.toMatch(UNSAFE);
    expect(JSON.parse(text)).toEqual({ comm: HOSTILE, ts: '5' });
    expect(JSON.parse(inertJson(JSON.stringify(HOSTILE)))).toBe(HOSTILE);
  });
});

describe('outputs holding traced strings', () => {
  it('gpo info --json: the hostile thread name escaped, and given back by JSON.parse', () => {
    const run = runGpo(['info', hostileTrace, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(UNSAFE);
    expect(run.stdout).toContain('\\u202e');
    const summary = JSON.parse(run.stdout) as { threads: { comm: string }[] };
    expect(summary.threads.map((t) => t.comm)).toContain(HOSTILE);
  });

  it('gpo info (human): the hostile thread name escaped', () => {
    const run = runGpo(['info', hostileTrace]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(UNSAFE);
    expect(run.stdout).toContain(escapeTerminal(HOSTILE));
  });

  it('gpo score --json and human: the hostile library path escaped in summary and evidence', () => {
    const json = runGpo(['score', hostileTrace, '-b', baselinePath, '--json']);
    expect(json.stderr).toBe('');
    expect(json.stdout).not.toMatch(UNSAFE);
    const report = JSON.parse(json.stdout) as { anomalies: { kind: string; comm: string; evidence: { path?: string } }[] };
    const library = report.anomalies.find((a) => a.kind === 'new_library');
    expect(library?.evidence.path).toBe(hostilePath);
    expect(library?.comm).toBe(HOSTILE);
    const human = runGpo(['score', hostileTrace, '-b', baselinePath]);
    expect(human.stdout).not.toMatch(UNSAFE);
    expect(human.stdout).toContain(escapeTerminal(hostilePath));
  });

  it('formatReport escapes every traced string of a report', async () => {
    const report = await scoreTrace(await openTrace(hostileTrace), parseBaseline(baseline, 'b.json'), { baselinePath: `b${HOSTILE}.json` });
    const text = formatReport(report);
    expect(text).not.toMatch(UNSAFE);
    expect(text).toContain(escapeTerminal(hostilePath));
  });

  it('gpo import strace: a line quoted in the error message is escaped', () => {
    const input = join(dir, 'hostile.strace');
    writeFileSync(input, `1234 openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3\n1234 \u001b]0;owned\u0007\u202e${HOSTILE}\n`);
    const run = runGpo(['import', 'strace', input, '-o', join(dir, 'hostile-import.parquet')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^gpo: .*hostile\.strace:2: not an strace line/);
    expect(run.stderr).not.toMatch(UNSAFE);
    expect(run.stderr).toContain('\\x1b]0;owned\\x07\\u202e');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('a file that is not a gpo trace: its name escaped in the one-line error', () => {
    const sub = join(dir, 'names');
    mkdirSync(sub, { recursive: true });
    const path = join(sub, `${HOSTILE}\nsecond line.parquet`);
    writeFileSync(path, 'not a trace at all');
    const run = runGpo(['info', path]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('not a gpo trace');
    expect(run.stderr).not.toMatch(UNSAFE);
    expect(run.stderr).toContain(`${escapeTerminal(HOSTILE)}\\x0asecond line.parquet`);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('the HTML report: the caption shows the escaped summary, and no hostile character is literal in the page', async () => {
    const page = await buildHtmlReport(await openTrace(hostileTrace), parseBaseline(baseline, 'b.json'), { baselinePath: 'b.json' });
    expect(page).not.toMatch(UNSAFE);
    const data = /<script type="application\/json" id="gpo-data">([^<]*)<\/script>/.exec(page);
    expect(data, 'the page embeds its anomalies as JSON').not.toBeNull();
    const { anomalies } = JSON.parse(data![1]!) as { anomalies: { kind: string; summary: string }[] };
    const library = anomalies.find((a) => a.kind === 'new_library');
    // The caption is set from this summary with textContent: it must already be the terminal-escaped text.
    expect(library?.summary).toBe(escapeTerminal(`executable mapping of ${hostilePath}, not in the baseline`));
  });
});

// Keeps the trace helpers' writer in use for a trace made only of hostile rows (no training-like rows).
it('a trace of hostile rows only is still escaped in gpo info', async () => {
  const path = await writeTrace(join(dir, 'only-hostile.parquet'), syscallRows(4100, [0, 1], 1_000_000_000n, 4100, HOSTILE), { comm: HOSTILE });
  const run = runGpo(['info', path]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).not.toMatch(UNSAFE);
  expect(run.stdout).toContain(`target     ${escapeTerminal(HOSTILE)}`);
});
