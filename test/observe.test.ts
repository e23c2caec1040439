// End-to-end tests of what gpo observes beyond syscalls (root, real kernel): acts of other processes
// toward the target, system-wide events, and what happens inside the target. Each act is made by a small
// trigger kept in test/fixtures (tamper.c, inner.c) against a live recorded target.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTrace } from '../src/trace/reader.js';
import { fixture, readRows, requireRoot, ROOT, runGpo, start, startGpo, type Row, type Running } from './helpers/gpo.js';

const PTRACE_PEEKDATA = 2n;
const PTRACE_ATTACH = 16n;
const PTRACE_SEIZE = 0x4206n;
const O_ACCMODE = 3n;

let dir: string;
let target: Running;
let targetPid: number;
let bystander: Running;
let bystanderPid: number;
let rows: Row[];
let data: string;
const acts: Record<string, { ret: number; errno: number }> = {};

function tamper(args: (string | number)[], asNobody = false): { ret: number; errno: number } {
  const argv = [fixture('tamper'), ...args.map(String)];
  const r = asNobody
    ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...argv], { encoding: 'utf8' })
    : spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tamper ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** First address of a mapping of the target with these permissions. */
function mappingStart(pid: number, perms: string): string {
  const line = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[1] === perms)!;
  return line.split('-')[0];
}

const actRows = (kind: string, actorComm = 'tamper') => rows.filter((r) => r.kind === kind && r.comm === actorComm);

beforeAll(async () => {
  requireRoot();
  dir = mkdtempSync(join(tmpdir(), 'gpo-observe-'));
  target = start(fixture('sleeper'), ['10']);
  targetPid = Number((await target.waitFor(/"pid":(\d+)/))[1]);
  bystander = start(fixture('sleeper'), ['10']);
  bystanderPid = Number((await bystander.waitFor(/"pid":(\d+)/))[1]);
  const out = join(dir, 'acts.parquet');
  const gpo = startGpo(['record', '--pid', String(targetPid), '-o', out]);
  await gpo.waitFor(/recording/, 'stderr');

  data = mappingStart(targetPid, 'rw-p');
  acts.ptraceAttach = tamper(['ptrace-attach', targetPid, data]);
  acts.ptraceSeize = tamper(['ptrace-seize', targetPid]);
  acts.ptraceRefused = tamper(['ptrace-attach', targetPid], true);
  acts.vmRead = tamper(['vm-read', targetPid, data]);
  acts.vmWrite = tamper(['vm-write', targetPid, data]);
  acts.procMem = tamper(['proc-open', targetPid, 'mem', 'rw']);
  acts.procMaps = tamper(['proc-open', targetPid, 'maps', 'r']);
  acts.procTaskMem = tamper(['proc-open', targetPid, `task/${targetPid}/mem`, 'r']);
  acts.procRefused = tamper(['proc-open', targetPid, 'mem', 'r'], true);
  acts.kill = tamper(['kill', targetPid, 0]);
  acts.tgkill = tamper(['tgkill', targetPid, 0]);
  acts.pidfd = tamper(['pidfd-signal', targetPid, 0]);
  acts.perf = tamper(['perf-open', targetPid]);
  acts.initModule = tamper(['init-module', 0]);
  acts.finitModule = tamper(['finit-module', 0]);
  for (const device of ['/dev/uinput', '/dev/mem', '/proc/kcore']) acts[device] = tamper(['open-device', 0, device]);
  // The demo's io_uring reader opens /proc/PID/maps and /proc/PID/mem with IORING_OP_OPENAT, no syscall;
  // it finds no game here and says so, but its opens are done.
  spawnSync(join(ROOT, 'out', 'demo', 'cheats', 'uring-reader'), [String(targetPid)]);
  // The same acts aimed at a process gpo does not follow.
  for (const action of [['ptrace-seize'], ['vm-read', mappingStart(bystanderPid, 'rw-p')], ['proc-open', 'mem', 'r'], ['kill', 0], ['perf-open']])
    tamper([action[0], bystanderPid, ...action.slice(1)]);

  target.child.kill('SIGTERM');
  const done = await gpo.exited;
  if (done.code !== 0) throw new Error(`gpo record failed: ${done.stderr}`);
  rows = await readRows(out);
});

afterAll(() => {
  target?.child.kill('SIGKILL');
  bystander?.child.kill('SIGKILL');
});

describe('acts of other processes toward the target', () => {
  it('records ptrace requests with actor, request, target and outcome (refused ones too)', () => {
    const ptrace = actRows('ptrace');
    const attach = ptrace.find((r) => r.request === PTRACE_ATTACH && r.ret === 0n)!;
    expect(attach).toBeDefined();
    expect(attach.target_pid).toBe(targetPid);
    expect(attach.target_tid).toBe(targetPid);
    expect(attach.uid).toBe(0);
    expect(attach.exe).toBe(fixture('tamper'));
    expect(ptrace.some((r) => r.request === PTRACE_PEEKDATA && r.addr === BigInt(`0x${data}`))).toBe(true);
    expect(ptrace.some((r) => r.request === PTRACE_SEIZE && r.ret === 0n)).toBe(true);
    const refused = ptrace.find((r) => r.uid === 65534)!;
    expect(acts.ptraceRefused.ret).toBe(-1);
    expect(refused.request).toBe(PTRACE_ATTACH);
    expect(refused.ret).toBe(-1n); // -EPERM
  });

  it('records process_vm_readv and process_vm_writev with bytes asked and moved', () => {
    const [read] = actRows('vm_read');
    expect([read.target_pid, read.size, read.ret]).toEqual([targetPid, 8n, BigInt(acts.vmRead.ret)]);
    expect(acts.vmRead.ret).toBe(8);
    const [write] = actRows('vm_write');
    expect([write.target_pid, write.size, write.ret]).toEqual([targetPid, 8n, 8n]);
  });

  it('records opens of /proc/<target>/ files and their task/<tid> forms, with the access mode', () => {
    const opens = actRows('proc_open');
    const mem = opens.find((r) => r.path === `/proc/${targetPid}/mem` && r.uid === 0)!;
    expect(mem.request! & O_ACCMODE).toBe(2n); // O_RDWR
    expect(mem.ret! >= 0n).toBe(true);
    expect(opens.some((r) => r.path === `/proc/${targetPid}/maps` && (r.request! & O_ACCMODE) === 0n)).toBe(true);
    expect(opens.some((r) => r.path === `/proc/${targetPid}/task/${targetPid}/mem`)).toBe(true);
    const refused = opens.find((r) => r.uid === 65534)!;
    expect(refused.path).toBe(`/proc/${targetPid}/mem`);
    expect(refused.ret).toBe(-13n); // -EACCES
  });

  it('records opens made through io_uring, which no syscall hook sees, with the reader as actor', () => {
    const opens = rows.filter((r) => r.kind === 'proc_open' && r.exe?.endsWith('/uring-reader'));
    expect(opens.map((r) => r.path)).toEqual(expect.arrayContaining([`/proc/${targetPid}/maps`, `/proc/${targetPid}/mem`]));
    expect(opens.every((r) => r.target_pid === targetPid && r.ret! >= 0n)).toBe(true);
  });

  it('records signals, pidfds and perf_event_open aimed at the target', () => {
    expect(actRows('signal').map((r) => [r.target_pid, r.request, r.ret])).toEqual([
      [targetPid, 0n, 0n],
      [targetPid, 0n, 0n],
      [targetPid, 0n, 0n],
    ]);
    expect(actRows('pidfd').map((r) => r.target_pid)).toEqual([targetPid]);
    expect(actRows('perf_open').map((r) => [r.target_pid, r.ret! >= 0n])).toEqual([[targetPid, true]]);
  });

  it('records nothing of the same acts aimed at an unrelated process', () => {
    expect(rows.some((r) => r.target_pid === bystanderPid)).toBe(false);
    expect(rows.some((r) => r.path?.includes(`/${bystanderPid}/`))).toBe(false);
  });
});

describe('system-wide events while recording', () => {
  it('records module load attempts with their errors (this kernel has no module support)', () => {
    const loads = actRows('module_load');
    expect(loads.map((r) => r.ret)).toEqual([BigInt(-acts.initModule.errno), BigInt(-acts.finitModule.errno)]);
    expect(loads[1].path).toBe('/etc/hostname');
  });

  it('records opens of /dev/uinput, /dev/mem and /proc/kcore, failed ones with their error', () => {
    const opens = actRows('device_open');
    for (const device of ['/dev/uinput', '/dev/mem', '/proc/kcore']) {
      const row = opens.find((r) => r.path === device)!;
      expect(row, device).toBeDefined();
      expect(row.ret).toBe(acts[device].ret < 0 ? BigInt(-acts[device].errno) : row.ret);
    }
  });
});

describe('inside the target', () => {
  let inner: Row[];
  let report: { pid: number; memfd_child: number; rwx: string; rw: string };
  const lib = join(ROOT, 'out', 'lib', 'libfixture.so');

  beforeAll(async () => {
    const out = join(dir, 'inner.parquet');
    const r = runGpo(['record', '-q', '-o', out, '--', fixture('inner'), lib]);
    if (r.code !== 0) throw new Error(r.stderr);
    report = JSON.parse(r.stdout.trim());
    inner = await readRows(out);
  });

  it("gives the library set from the trace alone, loader's work at startup included", () => {
    const libs = new Set(inner.filter((r) => r.kind === 'mmap_exec' && r.pid === report.pid).map((r) => r.path));
    expect(libs.has('/usr/lib/x86_64-linux-gnu/libc.so.6')).toBe(true);
    expect(libs.has(lib)).toBe(true);
    const libc = inner.find((r) => r.kind === 'mmap_exec' && r.path?.endsWith('libc.so.6'))!;
    expect(libc.inode! > 0n && libc.dev! > 0n && (libc.request! & 4n) === 4n).toBe(true);
  });

  it('gives both the mapping and the dlopen call for a library loaded after start, and the dlsym symbol', () => {
    const dlopen = inner.find((r) => r.kind === 'libcall' && r.func === 'libc.so.6:dlopen')!;
    expect(dlopen.path).toBe(lib);
    const mapping = inner.find((r) => r.kind === 'mmap_exec' && r.path === lib)!;
    expect(mapping.ts_ns > dlopen.ts_ns).toBe(true);
    expect(inner.find((r) => r.kind === 'libcall' && r.func === 'libc.so.6:dlsym')?.path).toBe('gpo_fixture_symbol');
  });

  it('records anonymous executable memory: an RWX mapping and an mprotect adding PROT_EXEC', () => {
    const mem = inner.filter((r) => r.kind === 'exec_memory');
    expect(mem.map((r) => [r.addr, r.request])).toEqual([
      [BigInt(report.rwx), 7n],
      [BigInt(report.rw), 5n],
    ]);
    expect(mem.every((r) => r.inode === null)).toBe(true);
  });

  it('records memfd_create, the fileless exec from it, and io_uring_setup', () => {
    expect(inner.find((r) => r.kind === 'memfd_create')?.path).toBe('gpo-fixture');
    const exec = inner.find((r) => r.kind === 'exec' && r.pid === report.memfd_child)!;
    expect(exec.request).toBe(0n); // no links: the file exists only in memory
    expect(inner.find((r) => r.kind === 'exec' && r.pid === report.pid)?.request).toBe(1n);
    expect(inner.filter((r) => r.kind === 'io_uring_setup').map((r) => r.ret! >= 0n)).toEqual([true]);
  });

  it('records the loader variables of a launched target', async () => {
    const out = join(dir, 'preload.parquet');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'gpo.js'), 'record', '-q', '-o', out, '--', '/bin/true'], {
      env: { ...process.env, LD_PRELOAD: lib },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect((await openTrace(out)).metadata.target.loader_env).toEqual({ LD_PRELOAD: lib });
    expect((await readRows(out)).some((x) => x.kind === 'mmap_exec' && x.path === lib)).toBe(true);
  });
});
