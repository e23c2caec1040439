// What the kernel must offer before gpo tries to load anything: BTF (tp_btf hooks and CO-RE need it).
import { existsSync } from 'node:fs';
import { GpoError } from '../errors.js';

export const BTF_PATH = '/sys/kernel/btf/vmlinux';

export function hasBtf(): boolean {
  return existsSync(BTF_PATH);
}

export function requireBtf(): void {
  if (!hasBtf()) throw new GpoError(`this kernel has no BTF (${BTF_PATH} missing): gpo needs CONFIG_DEBUG_INFO_BTF=y`);
}
