// The common shape every importer produces: one syscall sequence per process or thread.

export interface ImportedSequence {
  /** Unique within one import: the file path, plus `:<pid>` when a file holds several processes. */
  id: string;
  /** The file the sequence came from. */
  source: string;
  /** Syscall numbers in call order; their numbering is the source's (opaque symbols to the models). */
  syscalls: Int32Array;
  /** Entry time of each call in ns, when the source has timestamps (same length as syscalls). */
  ts_ns?: BigInt64Array;
  /** The process id the source gives (strace); absent: gpo numbers the sequences. */
  pid?: number;
  /** Return value of each call when the source has them (-errno for failures); null where unknown. */
  rets?: (bigint | null)[];
  /** Time spent in each call, ns, when the source has it (strace -T); null where unknown. */
  durations_ns?: (bigint | null)[];
}
