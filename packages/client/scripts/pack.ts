/**
 * Builds, packs and installs @tenant-config/client the way a user gets it: `npm pack` (its
 * `prepack` runs tsup) gives the tarball; `npm install <tarball>` puts it in a fresh project
 * of its own, outside this repository. Shared by test/packages/client-package.test.ts and
 * bench/client-package.ts. Not part of the package (its "files" are dist/ and README.md).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const PACKAGE_DIR = resolve(__dirname, '..');

/** The environment without npm's own `npm_*` variables (jest or `npm run` may have set them for this repo). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** `npm pack` into `destination`: the tarball's path. */
export async function packClient(destination: string): Promise<string> {
  mkdirSync(destination, { recursive: true });
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', destination], { cwd: PACKAGE_DIR, env: cleanEnv(), maxBuffer: 16 << 20 });
  // prepack (tsup) prints before the JSON, brackets included ("[tsup] …" in CI): the JSON array is the line that is '[' alone.
  const start = /^\[\s*$/m.exec(stdout)?.index;
  if (start === undefined) throw new Error(`npm pack printed no JSON:\n${stdout.slice(-2000)}`);
  const json = stdout.slice(start);
  const [{ filename }] = JSON.parse(json) as Array<{ filename: string }>;
  return join(destination, filename);
}

export type ModuleKind = 'module' | 'commonjs';

/** A fresh project in `dir` (package.json of the given type) with the tarball installed from it. */
export async function installInto(dir: string, tarball: string, type: ModuleKind): Promise<{ readonly installMs: number }> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `consumer-${type}`, version: '1.0.0', private: true, type }, null, 2)}\n`);
  const began = Date.now();
  await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env: cleanEnv(), maxBuffer: 16 << 20 });
  return { installMs: Date.now() - began };
}

/** Bytes under `dir`, and the packages in its node_modules (each directory holding a package.json, scoped ones included). */
export function measureInstall(dir: string): { readonly bytes: number; readonly packages: number } {
  let bytes = 0;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else bytes += s.size;
    }
  };
  const modules = join(dir, 'node_modules');
  walk(modules);
  let packages = 0;
  const count = (d: string): void => {
    for (const name of readdirSync(d)) {
      if (name.startsWith('.')) continue;
      const p = join(d, name);
      if (name.startsWith('@')) count(p);
      else if (statSync(p).isDirectory()) {
        packages += 1;
        const nested = join(p, 'node_modules');
        try {
          if (statSync(nested).isDirectory()) count(nested);
        } catch {
          // no nested node_modules
        }
      }
    }
  };
  count(modules);
  return { bytes, packages };
}
