// Apart from schema.ts, which loads Arrow: gpo record needs this before its other modules load.
/**
 * Rows per Arrow record batch wherever nothing else decides: the recorder's batches, imported traces, and
 * reading a trace (train and score read whole row groups instead: TRACE_BATCH_ROWS).
 */
export const BATCH_ROWS = 65536;
