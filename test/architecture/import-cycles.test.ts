/**
 * No module outside test/ reaches itself through its imports, type-only imports included:
 * a cycle means two modules are one concept split in two, or a type living in the wrong room.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const SKIP = new Set(['node_modules', 'cdk.out', '.local', 'coverage', 'test', '.git', 'generated']);

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const SPECIFIER = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function resolveImport(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ''));
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate)) return candidate;
  return undefined;
}

/** Every import cycle, each as the list of files around it (found by depth-first search). */
function importCycles(files: readonly string[]): string[][] {
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(SPECIFIER)].map((m) => resolveImport(file, m[1])).filter((t): t is string => t !== undefined);
    edges.set(file, targets);
  }
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].map((f) => relative(ROOT, f)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return cycles;
}

describe('import cycles', () => {
  it('the detector finds a cycle through a type-only import', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cycles-'));
    try {
      writeFileSync(join(dir, 'handler.ts'), "import { build } from './wiring';\nexport type Deps = { n: number };\n");
      writeFileSync(join(dir, 'wiring.ts'), "import type { Deps } from './handler';\nexport const build = (): Deps => ({ n: 1 });\n");
      writeFileSync(join(dir, 'leaf.ts'), "import { build } from './wiring';\n");

      const cycles = importCycles(['handler.ts', 'wiring.ts', 'leaf.ts'].map((f) => join(dir, f)));

      expect(cycles).toHaveLength(1);
      expect(cycles[0].map((f) => f.split('/').pop())).toEqual(['handler.ts', 'wiring.ts', 'handler.ts']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('there are none outside test/', () => {
    const files = sourceFiles(ROOT);

    expect(files.length).toBeGreaterThan(100);
    expect(importCycles(files)).toEqual([]);
  });
});
