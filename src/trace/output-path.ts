// `-o` templates for fleet layouts: `{host}/{date}/{recording_id}.parquet` expanded to a path, and the
// folders it names created without following a symlink someone planted in them. Values come from the
// traced world (comm) or the machine (host), so each is reduced to a safe file-name component first.
import { lstatSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { failureReason, GpoError } from '../errors.js';

export const TEMPLATE_FIELDS = ['host', 'date', 'recording_id', 'comm', 'pid'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];
export type TemplateValues = Partial<Record<TemplateField, string | number>>;

const FIELD = /\{([^{}]*)\}/g;

export function isOutputTemplate(output: string): boolean {
  return /\{[^{}]*\}/.test(output);
}

/** The fields a template uses (so a caller can refuse one it cannot know yet). */
export function templateFields(template: string): string[] {
  return [...template.matchAll(FIELD)].map((m) => m[1]!);
}

/** One path component: letters, digits, '.', '_', '-' kept, anything else '_'; never '', '.' or '..'. */
export function safeComponent(value: string): string {
  const safe = value.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 128);
  return safe === '' || /^\.+$/.test(safe) ? '_'.repeat(Math.max(1, safe.length)) : safe;
}

/** The UTC date (YYYY-MM-DD) of a time. */
export function utcDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export function expandOutputTemplate(template: string, values: TemplateValues): string {
  return template.replace(FIELD, (_, name: string) => {
    if (!(TEMPLATE_FIELDS as readonly string[]).includes(name))
      throw new GpoError(`-o ${template}: unknown field {${name}} (known: ${TEMPLATE_FIELDS.map((f) => `{${f}}`).join(', ')})`);
    const value = values[name as TemplateField];
    if (value === undefined) throw new GpoError(`-o ${template}: {${name}} is not known here`);
    return safeComponent(String(value));
  });
}

/**
 * Creates the folders of `path` that do not exist yet, one at a time (mkdir, never opening a file), and
 * refuses a symlink or non-folder where a folder is expected below `trustedRoot` (the part of the path
 * the user typed before the first template field: its own symlinks are the user's choice).
 */
export function createParentFolders(path: string, trustedRoot: string): void {
  const parent = resolve(dirname(path));
  const root = resolve(trustedRoot);
  const parts = parent.split(sep).filter((p) => p !== '');
  let current = isAbsolute(parent) ? sep : '';
  for (const part of parts) {
    current = current === sep ? `${sep}${part}` : `${current}${sep}${part}`;
    const checked = current.length > root.length && current.startsWith(root === sep ? sep : `${root}${sep}`);
    try {
      mkdirSync(current, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new GpoError(`cannot create ${current}: ${failureReason(err)}`);
    }
    if (!checked) continue;
    const stats = lstatSync(current);
    if (stats.isSymbolicLink()) throw new GpoError(`${current} is a symbolic link: refusing to write through it`);
    if (!stats.isDirectory()) throw new GpoError(`${current} is not a folder`);
  }
}

/** Expands a template and creates its folders; a path without fields is returned as it is. */
export function prepareOutput(template: string, values: TemplateValues): string {
  if (!isOutputTemplate(template)) return template;
  const path = expandOutputTemplate(template, values);
  const literal = template.slice(0, template.search(/\{/));
  // The folder the user named before the first field (for 'fleet/{host}/x', 'fleet').
  const trustedRoot = literal.endsWith(sep) ? literal : dirname(`${literal}x`);
  createParentFolders(path, trustedRoot === '' ? '.' : trustedRoot);
  return path;
}
