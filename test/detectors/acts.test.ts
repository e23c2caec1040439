// The acts detector's reading of rows now that its names come from the one Linux name table
// (src/trace/linux-names.ts): signatures and severities as baselines store them.
import { describe, expect, it } from 'vitest';
import { classifyEvent } from '../../src/detectors/acts.js';
import { rowsBatch, type TraceRowInput } from '../../src/import/trace-batches.js';
import { viewOf } from '../../src/trace/batch-view.js';

const TARGET = 4000;

function classify(row: Partial<TraceRowInput> & { kind: string }) {
  const view = viewOf(rowsBatch([{ ts_ns: 1n, pid: 5000, tid: 5000, comm: 'tool', exe: '/usr/bin/tool', target_pid: TARGET, target_tid: TARGET, ...row }]));
  return classifyEvent(view, 0, row.kind, { targetPid: TARGET });
}

describe('acts on the target, named from the Linux tables', () => {
  it('names signals, SIG0 for an existence probe and a name for every standard signal', () => {
    expect(classify({ kind: 'signal', request: 0 })).toMatchObject({ signature: 'signal /usr/bin/tool SIG0', severity: 'medium' });
    expect(classify({ kind: 'signal', request: 9 })).toMatchObject({ signature: 'signal /usr/bin/tool SIGKILL', severity: 'high' });
    expect(classify({ kind: 'signal', request: 19 })).toMatchObject({ severity: 'high' });
    expect(classify({ kind: 'signal', request: 16 })).toMatchObject({ signature: 'signal /usr/bin/tool SIGSTKFLT', severity: 'medium' });
    expect(classify({ kind: 'signal', request: null })).toMatchObject({ signature: 'signal /usr/bin/tool SIG?' });
  });

  it('names ptrace requests; taking control or writing is high', () => {
    expect(classify({ kind: 'ptrace', request: 0x4206 })).toMatchObject({ signature: 'ptrace /usr/bin/tool PTRACE_SEIZE', severity: 'high' });
    expect(classify({ kind: 'ptrace', request: 5 })).toMatchObject({ severity: 'high' });
    expect(classify({ kind: 'ptrace', request: 2 })).toMatchObject({ signature: 'ptrace /usr/bin/tool PTRACE_PEEKDATA', severity: 'medium' });
    expect(classify({ kind: 'ptrace', request: 0x9999 })).toMatchObject({ signature: `ptrace /usr/bin/tool PTRACE_${0x9999}`, severity: 'medium' });
  });

  it('rates BPF program types by whether they can reach process memory', () => {
    expect(classify({ kind: 'bpf_load', request: 1 })).toMatchObject({ severity: 'low' }); // SOCKET_FILTER
    expect(classify({ kind: 'bpf_load', request: 32 })).toMatchObject({ severity: 'low' }); // NETFILTER
    expect(classify({ kind: 'bpf_load', request: 2 })).toMatchObject({ severity: 'medium' }); // KPROBE
    expect(classify({ kind: 'bpf_load', request: 99 })).toMatchObject({ severity: 'medium' }); // unknown
  });

  it('tells writable and executable anonymous memory by the prot bits', () => {
    expect(classify({ kind: 'exec_memory', request: 7 })).toMatchObject({ signature: 'exec_memory prot=7', severity: 'high' });
    expect(classify({ kind: 'exec_memory', request: 5 })).toMatchObject({ severity: 'medium' });
  });

  it('says what backed executable memory; memory with no file on disk is high even when not writable', () => {
    const memory = (path: string | undefined, request = 5) => classify({ kind: 'exec_memory', request, path });
    expect(memory('/memfd:jit (deleted)')).toMatchObject({ signature: 'exec_memory prot=5 memfd', severity: 'high' });
    expect(memory('/SYSV0000002a (deleted)')).toMatchObject({ signature: 'exec_memory prot=5 sysv_shm', severity: 'high' });
    expect(memory('/tmp/#1234 (deleted)')).toMatchObject({ signature: 'exec_memory prot=5 deleted', severity: 'high' });
    expect(memory('/dev/shm/x')).toMatchObject({ signature: 'exec_memory prot=5 dev_shm', severity: 'high' });
    // Shared anonymous memory is the kernel's unnamed dev/zero; an ordinary file keeps the old signature.
    expect(memory('/dev/zero (deleted)')).toMatchObject({ signature: 'exec_memory prot=5', severity: 'medium' });
    expect(memory('/usr/lib/libc.so.6')).toMatchObject({ signature: 'exec_memory prot=5', severity: 'medium' });
    expect(memory('/dev/fb0', 7)).toMatchObject({ signature: 'exec_memory prot=7 device', severity: 'high' });
  });

  it("rates opens through the target's fd/ and map_files/ links: writing is writing the target", () => {
    const open = (path: string, request: number) => classify({ kind: 'proc_open', path, request });
    expect(open('/proc/4000/fd/3', 2)).toMatchObject({ kind: 'proc_mem', signature: 'proc_open /usr/bin/tool fd write', severity: 'high' });
    expect(open('/proc/4000/task/4001/map_files/7f00-7f01', 1)).toMatchObject({ signature: 'proc_open /usr/bin/tool map_files write', severity: 'high' });
    expect(open('/proc/4000/fd/3', 0)).toMatchObject({ signature: 'proc_open /usr/bin/tool fd', severity: 'medium' });
    expect(open('/proc/4000/fdinfo/3', 0)).toBeNull();
  });

  it('leaves executable file mappings to the library set, but a writable and executable one is memory', () => {
    expect(classify({ kind: 'mmap_exec', request: 5, path: '/usr/lib/libc.so.6' })).toBeNull();
    expect(classify({ kind: 'mmap_exec', request: 7, path: '/dev/zero' })).toMatchObject({
      kind: 'exec_memory',
      signature: 'exec_memory prot=7 device',
      severity: 'high',
    });
    expect(classify({ kind: 'mmap_exec', request: 7, path: '/opt/game/lib.so' })).toMatchObject({ signature: 'exec_memory prot=7 file', severity: 'high' });
  });
});
