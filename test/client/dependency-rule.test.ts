/**
 * The SDK (client/) depends on the proto types only (type imports: nothing of proto/ runs in it) — never on core/ (but the
 * flag evaluator, core/flags/ and core/bucket.ts, which the package bundles so that the SDK and the API evaluate alike), lambda/,
 * fanout/, local/ — plus @grpc/grpc-js, @grpc/proto-loader, aws-jwt-verify (forRequest) and Node built-ins. It ships to
 * services that have none of the server's code.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const CLIENT = join(ROOT, 'client');
const PROTO = join(ROOT, 'proto');
// @openfeature/server-sdk: only client/openfeature/ (its own entry point, an optional peer dependency).
const ALLOWED_PACKAGES = new Set(['@grpc/grpc-js', '@grpc/proto-loader', 'aws-jwt-verify', '@openfeature/server-sdk']);
/** The server code the SDK runs: the flag evaluator, free of any dependency (checked import by import below). */
const CORE_FLAGS = join(ROOT, 'core', 'flags');
const CORE_BUCKET = join(ROOT, 'core', 'bucket.ts');
const bundledCore = (target: string): boolean => !relative(CORE_FLAGS, target).startsWith('..') || `${target}.ts` === CORE_BUCKET || target === CORE_BUCKET;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mts|cts)$/.test(name) ? [path] : [];
  });
}

function resolveSource(base: string): string {
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`cannot resolve ${relative(ROOT, base)}`);
}

/** Every module specifier: import/export ... from, import('...'), require('...'). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of source.matchAll(pattern)) found.push(m[1]);
  return found;
}

function violation(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(file), specifier);
    const inside = (root: string): boolean => !relative(root, target).startsWith('..');
    return inside(CLIENT) || inside(PROTO) || bundledCore(target) ? undefined : `${relative(ROOT, file)} imports ${specifier} (${relative(ROOT, target)})`;
  }
  if (specifier.startsWith('node:') || builtinModules.includes(specifier)) return undefined;
  const pkg = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
  return ALLOWED_PACKAGES.has(pkg) ? undefined : `${relative(ROOT, file)} imports package ${specifier}`;
}

/** Value (not `import type`) imports of modules outside client/: the package bundles every one of them, so none is allowed. */
function valueImportsOutsideClient(file: string, source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/\b(import|export)\s+(type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g)) {
    const [, , typeOnly, specifier] = m;
    if (typeOnly || !specifier.startsWith('.')) continue;
    const target = resolve(dirname(file), specifier);
    if (relative(CLIENT, target).startsWith('..') && !bundledCore(target)) found.push(`${relative(ROOT, file)} imports ${specifier} at run time`);
  }
  for (const m of source.matchAll(/\b(?:import|require)\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    if (relative(CLIENT, resolve(dirname(file), m[1])).startsWith('..')) found.push(`${relative(ROOT, file)} loads ${m[1]} at run time`);
  }
  return found;
}

describe('client/ dependency rule', () => {
  it('reaches outside client/ (proto/generated) for types only, but the flag evaluator: @tenant-config/client bundles client/ and core/flags/', () => {
    expect(
      valueImportsOutsideClient(join(CLIENT, 'x.ts'), "import { loadConfigProto } from '../proto/load';\nimport type { A } from '../proto/generated/x';"),
    ).toEqual(['client/x.ts imports ../proto/load at run time']);

    const violations = sourceFiles(CLIENT).flatMap((file) => valueImportsOutsideClient(file, readFileSync(file, 'utf8')));

    expect(violations).toEqual([]);
  });

  it('the scanner catches what it must (checked on made-up sources)', () => {
    const file = join(CLIENT, 'x.ts');
    const bad = "import { a } from '../core/key';\nimport type { B } from '../fanout/hub';\nconst c = require('ioredis');\nexport * from '../local/start';";

    const found = specifiers(bad)
      .map((s) => violation(file, s))
      .filter(Boolean);

    expect(found).toHaveLength(4);
    expect(violation(file, '../proto/load')).toBeUndefined();
    expect(violation(file, '../core/flags/evaluate-flag')).toBeUndefined();
    expect(violation(join(ROOT, 'core', 'flags', 'x.ts'), '../errors')).toBeDefined();
    expect(violation(file, 'node:http')).toBeUndefined();
  });

  it('imports only client/, proto/, @grpc/grpc-js, @grpc/proto-loader, aws-jwt-verify and Node built-ins', () => {
    const files = sourceFiles(CLIENT);
    expect(files.length).toBeGreaterThan(0);

    const violations = files.flatMap((file) => specifiers(readFileSync(file, 'utf8')).map((s) => violation(file, s))).filter(Boolean);

    expect(violations).toEqual([]);
  });

  it('what it reaches in proto/, followed import by import, stays inside the rule too', () => {
    const seen = new Set<string>();
    const pending = sourceFiles(CLIENT);
    const violations: string[] = [];
    while (pending.length > 0) {
      const file = pending.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
        const problem = violation(file, specifier);
        if (problem) violations.push(problem);
        else if (specifier.startsWith('.')) pending.push(resolveSource(resolve(dirname(file), specifier)));
      }
    }

    expect(violations).toEqual([]);
    expect([...seen].some((f) => f.startsWith(PROTO))).toBe(true);
  });
});
