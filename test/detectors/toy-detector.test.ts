// Adding a detector is one file (./toy-detector.ts) and one list entry: train writes its section, loading
// the baseline checks it, score runs it beside the others, and the other detectors' output is unchanged.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DETECTORS } from '../../src/detectors/index.js';
import { parseBaseline } from '../../src/detectors/load-baseline.js';
import { scoreTrace } from '../../src/score/score-trace.js';
import { openTrace } from '../../src/trace/reader.js';
import { baselineText, trainBaseline } from '../../src/train/train.js';
import { cycle, normalTrace, syscallRows, tempDir } from '../score/trace-helpers.js';
import { TOY_SECTION, toyThreadNames } from './toy-detector.js';

const WITH_TOY = [...DETECTORS, toyThreadNames];

const dir = tempDir();
const training = [await normalTrace(join(dir, 'normal-1.parquet')), await normalTrace(join(dir, 'normal-2.parquet'))];
const withToy = JSON.parse(baselineText((await trainBaseline(training, { detectors: WITH_TOY })).baseline)) as Record<string, unknown>;
const without = JSON.parse(baselineText((await trainBaseline(training)).baseline)) as Record<string, unknown>;
const odd = await normalTrace(join(dir, 'odd.parquet'), syscallRows(4003, cycle(5), 1_010_000_000n, 4000, 'injected'));

describe('a toy detector added as one file and one list entry', () => {
  it('writes its own baseline section and leaves the others as they were', () => {
    expect(withToy[TOY_SECTION]).toEqual({ names: ['game'] });
    const { [TOY_SECTION]: _toy, ...rest } = withToy;
    expect(rest).toEqual(without);
  });

  it('is checked when the baseline is loaded: a baseline without its section is refused', () => {
    expect(() => parseBaseline(without, 'b.json', WITH_TOY)).toThrow(`b.json: corrupt baseline (missing ${TOY_SECTION})`);
    expect(() => parseBaseline(withToy, 'b.json', WITH_TOY)).not.toThrow();
  });

  it('scores beside the other detectors, which report the same as without it', async () => {
    const report = await scoreTrace(await openTrace(odd), parseBaseline(withToy, 'b.json', WITH_TOY), { baselinePath: 'b.json', detectors: WITH_TOY });
    const plain = await scoreTrace(await openTrace(odd), parseBaseline(without, 'b.json'), { baselinePath: 'b.json' });
    const toy = report.anomalies.filter((a) => (a.kind as string) === 'toy_unknown_thread');
    expect(toy.map((a) => [a.tid, a.comm])).toEqual([[4003, 'injected']]);
    expect(report.anomalies.filter((a) => (a.kind as string) !== 'toy_unknown_thread')).toEqual(plain.anomalies);
  });
});
