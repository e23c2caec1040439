// The machine id: it outlives reboots and renames, so a fleet's recordings group by machine even when
// hostnames repeat (hostname, kernel and boot id come from target.ts).
import { readFileSync } from 'node:fs';
import type { HostInfo } from '../trace/metadata.js';

const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

/** The 32 hex digits of systemd's (or D-Bus's) machine id, or undefined when neither file is readable. */
export function readMachineId(): string | undefined {
  for (const file of MACHINE_ID_FILES) {
    try {
      const id = readFileSync(file, 'utf8').trim();
      if (/^[0-9a-f]{32}$/.test(id)) return id;
    } catch {
      // Containers often have neither file: the id is optional.
    }
  }
  return undefined;
}

export function withMachineId(host: HostInfo): HostInfo {
  const machineId = readMachineId();
  return machineId === undefined ? host : { ...host, machine_id: machineId };
}
