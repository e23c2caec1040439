// gpo report: one pass to gather the charts' data, the score when there is a baseline, then the page.
import type { LoadedBaseline } from '../../baseline/document.js';
import { scoreTrace } from '../../score/score-trace.js';
import type { ProgressListener } from '../../trace/progress.js';
import type { TraceFile } from '../../trace/reader.js';
import { collectReportData } from './collect.js';
import { renderReport } from './render.js';

export async function buildHtmlReport(
  trace: TraceFile,
  baseline: LoadedBaseline | null,
  options: { baselinePath: string | null; progress?: ProgressListener },
): Promise<string> {
  const status = options.progress;
  const data = await collectReportData(trace, baseline?.document ?? null, status);
  let score = null;
  if (baseline) {
    status?.note('scoring against the baseline');
    score = await scoreTrace(trace, baseline, { baselinePath: options.baselinePath ?? 'baseline' });
  }
  return renderReport({
    tracePath: trace.path,
    metadata: trace.metadata,
    data,
    baselinePath: options.baselinePath,
    baseline: baseline?.document ?? null,
    score,
  });
}
