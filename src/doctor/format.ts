// Human-readable doctor report.
import { HOOK_TYPES, failureReason, type DoctorReport, type HookStatus } from './report.js';

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

function hookLine(label: string, status: HookStatus, width: number): string {
  const attached = status.loaded ? yesNo(status.attached) : '-';
  let note = status.section;
  if (status.usable && status.detail) note += ` (${status.detail})`;
  if (!status.usable) note += `: ${failureReason(status)}${status.detail ? `: ${status.detail}` : ''}`;
  return `  ${label.padEnd(width)}  ${yesNo(status.loaded).padEnd(6)}  ${attached.padEnd(8)}  ${note}`;
}

function privilegesLine(report: DoctorReport): string {
  const { root, euid, missingCapabilities } = report.privileges;
  const who = root ? 'root' : `not root (euid ${euid})`;
  return missingCapabilities.length === 0 ? `${who}, CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN effective` : `${who}, missing ${missingCapabilities.join(', ')}`;
}

function tracefsLine(report: DoctorReport): string {
  const { path, mounted, mountedByDoctor, mountError } = report.tracefs;
  if (mountedByDoctor) return `was not mounted; mounted now at ${path}`;
  if (mounted) return `mounted at ${path}`;
  return `not mounted at ${path}${mountError ? ` (mount failed: ${mountError})` : ' (root can mount it)'}`;
}

function securityfsLine(report: DoctorReport): string {
  const { path, mounted, lsms, lockdown } = report.securityfs;
  if (!mounted) return `not mounted at ${path}: active LSMs and lockdown unknown`;
  const parts = [`mounted at ${path}`, `LSMs ${lsms?.join(',') ?? 'unknown'}`];
  if (lockdown) parts.push(`lockdown ${lockdown}`);
  return parts.join(', ');
}

function recorderLine(report: DoctorReport): string {
  const { loaded, attached, error } = report.recorder;
  if (loaded && attached) return 'loads and attaches';
  return `${loaded ? 'loads, attach fails' : 'does not load'}: ${error ?? 'unknown error'}`;
}

export function formatReport(report: DoctorReport): string {
  const lines = [
    `kernel      ${report.kernel.release}`,
    `BTF         ${report.kernel.btf ? report.kernel.btfPath : `missing (${report.kernel.btfPath})`}`,
    `privileges  ${privilegesLine(report)}`,
    `tracefs     ${tracefsLine(report)}`,
    `securityfs  ${securityfsLine(report)}`,
    '',
    'hook types (a tiny program of each, loaded and attached alone)',
    `  ${'type'.padEnd(10)}  loaded  attached  program`,
    ...HOOK_TYPES.map((type) => hookLine(type, report.hookTypes[type], 10)),
    '',
    `gpo's recorder (loaded as gpo record loads it): ${recorderLine(report)}`,
  ];
  const width = Math.max(0, ...report.signals.map((signal) => signal.name.length));
  for (const signal of report.signals) {
    const served = signal.observable ? 'ok ' : 'NO ';
    const detail = signal.hook ?? 'no hook';
    lines.push(`  ${signal.name.padEnd(width)}  ${served}  ${detail}${signal.why && signal.hook === null ? `: ${signal.why}` : ''}`);
  }
  const { verdict } = report;
  lines.push('', `verdict: ${verdict.summary}`);
  if (verdict.canObserve.length > 0) lines.push(`  can observe: ${verdict.canObserve.join(', ')}`);
  if (verdict.cannotObserve.length > 0) lines.push(`  cannot observe: ${verdict.cannotObserve.join(', ')}`);
  for (const hook of verdict.unusableHooks) lines.push(`  unusable here: ${hook}`);
  for (const note of verdict.notes) lines.push(`  note: ${note}`);
  return `${lines.join('\n')}\n`;
}
