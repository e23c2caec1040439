// Which recording a trace is, across a fleet: its recording id and host. Traces written before gpo drew a
// recording id get one derived from the file's bytes (stable: the same file always gets the same id) and
// say so in `id_from`.
import { sha256OfTrace } from './file-hash.js';
import type { TraceMetadata } from './metadata.js';

export interface RecordingIdentity {
  id: string;
  /** 'metadata': drawn when recording (or importing); 'file-sha256': derived from the file (an older trace). */
  id_from: 'metadata' | 'file-sha256';
  /** Empty for imports that were not given --host. */
  host: string;
  machine_id: string | null;
  boot_id: string | null;
  build_id: string | null;
}

/** A UUID (version 8: vendor-defined) made of the first 128 bits of a sha256, so derived ids look like drawn ones. */
export function uuidFromSha256(hex: string): string {
  const h = hex.slice(0, 32).split('');
  h[12] = '8';
  h[16] = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** The identity of a trace; reads the whole file only when its metadata has no recording id. */
export async function recordingOf(trace: { path: string; metadata: TraceMetadata }): Promise<RecordingIdentity> {
  const m = trace.metadata;
  const own = typeof m.recording_id === 'string' && m.recording_id !== '';
  return {
    id: own ? m.recording_id! : uuidFromSha256(await sha256OfTrace(trace.path)),
    id_from: own ? 'metadata' : 'file-sha256',
    host: m.host?.hostname ?? '',
    machine_id: m.host?.machine_id ?? null,
    boot_id: m.host?.boot_id || null,
    build_id: m.target?.build_id ?? null,
  };
}
