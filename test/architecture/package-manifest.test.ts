/**
 * package.json tells the truth: `dependencies` are exactly the packages the runtime code
 * (what the Lambdas, the fanout image and the SDK carry) imports; CDK, the local system's
 * servers and the tooling are devDependencies; every AWS SDK client shares one SDK core.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const RUNTIME_DIRS = ['core', 'adapters', 'lambda', 'fanout', 'client', 'proto', 'registry'];
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  bin?: unknown;
};

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Package names imported for their values (type-only imports need nothing at run time). */
function runtimeImports(): Set<string> {
  const found = new Set<string>();
  const pattern = /^\s*(?:import|export)\s+(?!type\s)[^'";]*?from\s+['"]([^'".][^'"]*)['"]|require\(['"]([^'".][^'"]*)['"]\)/gm;
  for (const dir of RUNTIME_DIRS) {
    for (const file of files(join(ROOT, dir))) {
      for (const m of readFileSync(file, 'utf8').matchAll(pattern)) {
        const specifier = m[1] ?? m[2];
        if (specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0])) continue;
        const parts = specifier.split('/');
        found.add(specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
      }
    }
  }
  return found;
}

describe('package.json', () => {
  it('lists as dependencies exactly what the runtime code imports', () => {
    // The SDK's optional peers (the OpenFeature SDK its provider plugs into) are the user's to install: dev dependencies here.
    const client = JSON.parse(readFileSync(join(ROOT, 'packages/client/package.json'), 'utf8')) as {
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    const optionalPeers = Object.entries(client.peerDependenciesMeta ?? {}).flatMap(([name, meta]) => (meta.optional ? [name] : []));
    for (const peer of optionalPeers) expect(manifest.devDependencies[peer]).toBeDefined();
    const imported = [...runtimeImports()].filter((name) => !optionalPeers.includes(name));
    expect(Object.keys(manifest.dependencies).sort()).toEqual(imported.sort());
  });

  it.each(['aws-cdk-lib', 'constructs', 'dynalite', 'tsx', 'aws-cdk'])('keeps %s out of the runtime dependencies', (name) => {
    expect(manifest.dependencies[name]).toBeUndefined();
    expect(manifest.devDependencies[name]).toBeDefined();
  });

  // Clients are released per service (CloudWatch's newest is older than DynamoDB's), so "one
  // version" is the shared runtime: one copy of the SDK's core and of Smithy's in the lockfile,
  // so no bundle carries two.
  it.each(['@aws-sdk/core', '@smithy/core'])('resolves every AWS SDK client to one copy of %s', (core) => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    const copies = Object.keys(lock.packages).filter((path) => path.endsWith(`node_modules/${core}`));
    expect(copies).toEqual([`node_modules/${core}`]);
  });

  it('registers no command of its own: the CDK app runs through `cdk` and cdk.json', () => {
    expect(manifest.bin).toBeUndefined();
  });
});
