// Imports run downward only: no two folders of src/ may import each other, directly or through others.
// Every import of every src/**/*.ts counts, `import type` and `export ... from` included.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The node a file belongs to: its top folder under src/, or the file itself when it sits in src/. */
function nodeOf(file: string): string {
  const parts = relative(SRC, file).split('/');
  return parts.length === 1 ? parts[0]! : `${parts[0]}/`;
}

/** Folder -> folders it imports (relative imports that leave the folder), with one example file each. */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  const specifier = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const file of sourceFiles(SRC)) {
    const from = nodeOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const match of readFileSync(file, 'utf8').matchAll(specifier)) {
      const spec = match[1] ?? match[2]!;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (!target.startsWith(SRC)) continue;
      const to = nodeOf(target);
      if (to !== from && !edges.has(to)) edges.set(to, relative(SRC, file));
    }
  }
  return graph;
}

/** Every cycle as a path a -> b -> ... -> a (each found once, from its smallest node). */
export function findCycles(graph: ReadonlyMap<string, ReadonlyMap<string, string>>): string[][] {
  const cycles: string[][] = [];
  const nodes = [...graph.keys()].sort();
  for (const start of nodes) {
    const walk = (node: string, path: string[]): void => {
      for (const next of [...(graph.get(node)?.keys() ?? [])].sort()) {
        if (next === start) cycles.push([...path, start]);
        else if (next > start && !path.includes(next)) walk(next, [...path, next]);
      }
    };
    walk(start, [start]);
  }
  return cycles;
}

describe('folder imports', () => {
  it('finds a cycle when there is one (the check itself)', () => {
    const graph = new Map([
      ['a/', new Map([['b/', 'a/x.ts']])],
      ['b/', new Map([['c/', 'b/y.ts']])],
      ['c/', new Map([['a/', 'c/z.ts']])],
      ['d/', new Map([['a/', 'd/w.ts']])],
    ]);
    expect(findCycles(graph)).toEqual([['a/', 'b/', 'c/', 'a/']]);
  });

  it('has no cycle between src/ folders', () => {
    const graph = folderGraph();
    expect(graph.size).toBeGreaterThan(10);
    const described = findCycles(graph).map((cycle) =>
      cycle.map((node, i) => (i + 1 < cycle.length ? `${node} (${graph.get(node)!.get(cycle[i + 1]!)})` : node)).join(' -> '),
    );
    expect(described).toEqual([]);
  });
});
