// The recorder's BPF load, which gpo record starts as soon as its options are parsed: the kernel verifies
// the programs (about half a second) on a thread of libuv's pool while the session's modules load. Nothing
// here may import Arrow or the session: this module is loaded before them.
import { loadAddon, type NativeRecorder } from '../native/addon.js';
import { BATCH_ROWS } from '../trace/batch-rows.js';

// 8 MiB holds a few hundred milliseconds of a syscall storm between 1 ms drains; it is mapped twice, so
// it is also a fair part of gpo's memory.
export const DEFAULT_RING_BUFFER_BYTES = 8 << 20;
/**
 * Nice value of the recorder's consumer thread (gpo's other threads keep theirs). With a syscall storm on
 * every CPU and gpo unpinned, a consumer at the storm's priority was kept off the CPUs long enough for the
 * ring buffer to fill: bench/record's throughput run dropped 334,645 of 20 M records at nice 0, none at -10
 * (README, Performance). It only takes the CPU it needs: it sleeps between 1 ms drains.
 */
export const CONSUMER_NICE = -10;

/** What of a recording's options the BPF load depends on. */
export interface RecorderLoadOptions {
  followChildren: boolean;
  durations: boolean;
  syscallsOnly?: boolean;
  ringBufferBytes: number;
  deliveryMs?: number;
  eventDeliveryMs?: number;
  verbose?: boolean;
}

/** Starts loading the recorder; its ready() settles when the programs are loaded (or says why not). */
export function loadRecorder(o: RecorderLoadOptions): NativeRecorder {
  return new (loadAddon().Recorder)({
    ringBufferBytes: o.ringBufferBytes,
    followChildren: o.followChildren,
    durations: o.durations,
    observeActs: !o.syscallsOnly,
    batchRows: BATCH_ROWS,
    deliveryMs: o.deliveryMs,
    eventDeliveryMs: o.eventDeliveryMs,
    consumerNice: CONSUMER_NICE,
    verbose: o.verbose ?? false,
    background: true,
  });
}
