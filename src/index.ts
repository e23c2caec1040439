// gpo's public entry for code that uses it as a library (notebooks, scripts): read traces, train and load
// baselines, score, build reports, evaluate on datasets. The CLI is src/cli.ts. Recording (src/capture/)
// needs the native addon and root, and is reached through `gpo record`; it is not exported here.

// Traces: reading, the batch view detectors share, names for the numbers rows hold.
export { openTrace, type TraceFile } from './trace/reader.js';
export { summarizeTrace, type TraceSummary } from './trace/summary.js';
export type { TargetInfo, TraceMetadata, ProgramIdentity } from './trace/metadata.js';
export { numericColumn, stringColumn, validity } from './trace/columns.js';
export { groupByThread, viewOf, TRACE_BATCH_ROWS, TRACE_COLUMNS, type BatchView, type ThreadGroups } from './trace/batch-view.js';
export { BATCH_ROWS, ROW_KINDS, type RowKind } from './trace/schema.js';
export { syscallName, syscallNumber } from './trace/syscalls.js';
export { bpfProgType, errnoName, openFlags, protFlags, ptraceRequestName, signalName } from './trace/linux-names.js';
export type { ProgressListener } from './trace/progress.js';

// Baselines and detectors.
export type { BaselineDocument, LoadedBaseline } from './baseline/document.js';
export { parseBaseline, readBaseline } from './detectors/load-baseline.js';
export { baselineText, BaselineTrainer, trainBaseline, type TrainOptions, type TrainResult } from './train/train.js';
export { DETECTORS } from './detectors/index.js';
export type { Detector, Learner, Scorer } from './detectors/detector.js';
export { ANOMALY_KINDS, compareAnomalies, SEVERITIES, type Anomaly, type AnomalyKind, type Severity } from './detectors/anomaly.js';
export { AnomalyModel } from './model/anomaly-model.js';

// Scoring and its outputs.
export { createScorers, reportJson, scoreTrace, type ScoreReport } from './score/score-trace.js';
export { formatReport } from './score/format-report.js';
export { escapeJson, escapeTerminal } from './cli/escape.js';

// Reading rows back, the HTML report and its charts.
export { describeRow, readRow, type TraceRow } from './trace/describe-row.js';
export { replayRows, type ReplayFilter } from './replay/replay.js';
export { collectReportData } from './report/html/collect.js';
export { buildHtmlReport } from './report/html/index.js';
export { barChart, lineChart, table } from './report/html/charts.js';
export { escapeHtml, html } from './report/html/escape.js';

// Datasets: import and evaluation.
export { importSequences, listSequenceFiles, SEQUENCE_FORMATS } from './import/load.js';
export { importToTrace } from './import/to-trace.js';
export { evaluate } from './eval/evaluate.js';

export { GpoError } from './errors.js';
export { GPO_VERSION } from './version.js';
