// Trace metadata for tests that write traces themselves: a complete recording of a launched 'game', with
// the fields a test cares about given as overrides.
import type { TraceMetadata } from '../../src/trace/metadata.js';

export function testMetadata(overrides: Partial<TraceMetadata> = {}): TraceMetadata {
  return {
    gpo_version: 'test',
    schema_version: 1,
    target: { pid: 10, comm: 'game', exe: '/game', cmdline: ['game'], exe_sha256: null, build_id: null, mode: 'launch', loader_env: {} },
    host: { hostname: 'h', kernel_release: 'k', boot_id: 'b' },
    clock: { wall_offset_ns: '0', start_wall: 'x', end_wall: null, start_ns: '1', end_ns: null },
    hooks: {},
    options: { follow_children: true, durations: false, ring_buffer_bytes: 4096 },
    counts: {},
    syscalls_dropped_by_nr: {},
    truncated: { exec_path: 0, exec_argv: 0 },
    status: 'complete',
    stop_reason: 'target-exited',
    ...overrides,
  };
}
